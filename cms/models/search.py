"""What full-text search indexes: one plain-text document per article.

The index itself is backend-specific and lives only in the migrations: an FTS5
external-content table over this one (kept in sync by triggers) on SQLite, a generated
tsvector column with a GIN index on PostgreSQL.
"""

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base

FTS_TABLE = "articles_fts"
TSVECTOR_COLUMN = "tsv"
TSVECTOR_INDEX = "ix_search_documents_tsv"


class SearchDocument(Base):
    __tablename__ = "search_documents"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    tag_names: Mapped[str] = mapped_column(Text, default="")


class ContentState(Base):
    """One row: a number bumped by every transaction that changes content.

    Lists take their ETag from it, so revalidating a list costs one primary-key read.
    """

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


# PostgreSQL cannot walk an ascending index backwards into DESC NULLS LAST (the order
# newest-first lists use); these indexes, made by migration 0005, hold that order.
POSTGRES_DESC_INDEXES = (
    "ix_articles_status_published_desc",
    "ix_articles_category_status_published_desc",
    "ix_articles_publication_status_published_desc",
)
# SQLite stores the small columns a read tests after the bodies, so reaching them reads
# overflow pages; these covering indexes, made by migration 0026, hold them instead.
SQLITE_STAMP_INDEXES = (
    "ix_articles_status_published_stamp",
    "ix_articles_category_status_published_stamp",
    "ix_articles_publication_status_published_stamp",
    "ix_articles_id_stamp",
)


def is_migration_only(name: str | None, kind: str) -> bool:
    """Objects the migrations create beside the models (for schema comparisons)."""
    if kind == "table":
        return bool(name and name.startswith(FTS_TABLE))
    if kind == "index" and name in (*POSTGRES_DESC_INDEXES, *SQLITE_STAMP_INDEXES):
        return True
    return (kind, name) in {("column", TSVECTOR_COLUMN), ("index", TSVECTOR_INDEX)}
