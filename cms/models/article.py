"""Articles: own and aggregated content, with their bylines and tags."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.base import Base, Timestamped, string_enum, utcnow
from cms.models.media import Image
from cms.models.people import Author
from cms.models.publication import Publication
from cms.models.taxonomy import Category, Tag


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class BodyFormat(enum.StrEnum):
    HTML = "html"
    MARKDOWN = "markdown"


# Open-ended in principle, but an enum keeps filters and generated clients honest;
# new kinds are added here (and in a migration's CHECK) when the site needs them.
CONTENT_TYPES = (
    "news article",
    "blog post",
    "paper",
    "report",
    "analysis",
    "opinion",
    "interview",
    "press release",
    "video",
    "podcast",
    "book",
    "dataset",
    "website",
    "other",
)


class ArticleAuthor(Base):
    """One byline on an article; `position` keeps the credited order."""

    __tablename__ = "article_authors"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("authors.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)

    author: Mapped[Author] = relationship()


class ArticleTag(Base):
    """One tag on an article; `position` keeps the order the editor gave."""

    __tablename__ = "article_tags"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)

    tag: Mapped[Tag] = relationship()


class Article(Timestamped, Base):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint("importance BETWEEN 0 AND 100", name="importance_range"),
        CheckConstraint("credibility_override BETWEEN 1 AND 5", name="credibility_range"),
        # The list every frontend page starts from: newest published first. Category
        # and publication pages get the same order within their value, and counts of
        # them are covering index scans.
        Index("ix_articles_status_published", "status", "published_at", "id"),
        Index(
            "ix_articles_category_status_published", "category_id", "status", "published_at", "id"
        ),
        Index(
            "ix_articles_publication_status_published",
            "publication_id",
            "status",
            "published_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    # `sid_` + 10 base62 characters: assigned once, never changed, survives slug edits.
    stable_id: Mapped[str] = mapped_column(String(14), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    excerpt: Mapped[str | None] = mapped_column(Text)
    # The body as written (kept for lossless export) and its sanitized HTML rendering.
    body_format: Mapped[BodyFormat] = mapped_column(string_enum(BodyFormat, "body_format"))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ArticleStatus] = mapped_column(string_enum(ArticleStatus, "article_status"))
    published_at: Mapped[datetime | None]
    # When a published article comes down by itself (embargo expiry, a takedown).
    unpublish_at: Mapped[datetime | None] = mapped_column(index=True)
    # In the trash since (a DELETE): gone from every read until restored or purged; its
    # slug and resource_id stay taken meanwhile.
    trashed_at: Mapped[datetime | None] = mapped_column(index=True)

    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT")
    )
    cover_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="RESTRICT"), index=True
    )
    publication_id: Mapped[int | None] = mapped_column(
        ForeignKey("publications.id", ondelete="RESTRICT")
    )

    source_url: Mapped[str | None] = mapped_column(String(2048))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    # First 16 hex digits of SHA-256 of source_url: the dedup key of aggregated items.
    resource_id: Mapped[str | None] = mapped_column(String(16), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(32))
    importance: Mapped[int | None] = mapped_column(SmallInteger)
    credibility_override: Mapped[int | None] = mapped_column(SmallInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    key_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    relevance: Mapped[str | None] = mapped_column(Text)

    # The cached copy of the source page.
    fetch_status: Mapped[int | None] = mapped_column(SmallInteger)
    fetched_at: Mapped[datetime | None]
    fetch_bytes: Mapped[int | None] = mapped_column(Integer)
    fetch_content_hash: Mapped[str | None] = mapped_column(String(64))

    # Bumped on every update: the basis for ETags and lost-update protection.
    version: Mapped[int] = mapped_column(Integer, default=1)

    author_links: Mapped[list[ArticleAuthor]] = relationship(
        order_by=ArticleAuthor.position, cascade="all, delete-orphan"
    )
    tag_links: Mapped[list[ArticleTag]] = relationship(
        order_by=ArticleTag.position, cascade="all, delete-orphan"
    )
    category: Mapped[Category | None] = relationship()
    cover_image: Mapped[Image | None] = relationship()
    publication: Mapped[Publication | None] = relationship()

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class ArticleSlug(Base):
    """A slug an article had: it answers with a redirect to the article's current one.
    The latest article to give a slug up owns its redirect; a current slug wins."""

    __tablename__ = "article_slugs"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    retired_at: Mapped[datetime] = mapped_column(default=utcnow)
