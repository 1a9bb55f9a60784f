"""Search: per-article search documents with a full-text index; the content generation.

SQLite: an FTS5 external-content table over search_documents, kept in sync by triggers.
PostgreSQL: a generated, weighted tsvector column with a GIN index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:45:00

"""

import nh3
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = "title, excerpt, summary, body_text, tag_names"
OLD = ", ".join(f"old.{c}" for c in COLUMNS.split(", "))
NEW = ", ".join(f"new.{c}" for c in COLUMNS.split(", "))

SQLITE_INDEX = [
    f"""CREATE VIRTUAL TABLE articles_fts USING fts5({COLUMNS},
        content='search_documents', content_rowid='article_id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO articles_fts(rowid, {COLUMNS}) VALUES (new.article_id, {NEW});
        END""",
    f"""CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, {COLUMNS})
        VALUES ('delete', old.article_id, {OLD});
        END""",
    f"""CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, {COLUMNS})
        VALUES ('delete', old.article_id, {OLD});
        INSERT INTO articles_fts(rowid, {COLUMNS}) VALUES (new.article_id, {NEW});
        END""",
]

POSTGRES_INDEX = [
    """ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', tag_names), 'B') ||
        setweight(to_tsvector('english', excerpt || ' ' || summary), 'C') ||
        setweight(to_tsvector('english', body_text), 'D')) STORED""",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
]


def upgrade():
    op.create_table(
        "content_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_state")),
    )
    op.execute("INSERT INTO content_state (id, generation) VALUES (1, 0)")
    op.create_table(
        "search_documents",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("tag_names", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            ondelete="CASCADE",
            name=op.f("fk_search_documents_article_id_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_search_documents")),
    )
    for statement in SQLITE_INDEX if op.get_bind().dialect.name == "sqlite" else POSTGRES_INDEX:
        op.execute(statement)
    _backfill()
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.now(),
                nullable=False,
            )
        )


def _backfill():
    """Index the articles that exist already (the app keeps the index current after)."""
    bind = op.get_bind()
    tags = {}
    for article_id, name in bind.execute(
        sa.text(
            "SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id "
            "ORDER BY at.article_id, at.position"
        )
    ):
        tags.setdefault(article_id, []).append(name)
    rows = [
        {
            "article_id": row.id,
            "title": row.title,
            "excerpt": row.excerpt or "",
            "summary": row.summary or "",
            "tag_names": " ".join(tags.get(row.id, [])),
            "body_text": " ".join(nh3.clean(row.body_html or "", tags=set()).split()),
        }
        for row in bind.execute(
            sa.text("SELECT id, title, excerpt, summary, body_html FROM articles")
        )
    ]
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO search_documents (article_id, title, excerpt, summary, body_text, "
                "tag_names) VALUES (:article_id, :title, :excerpt, :summary, :body_text, "
                ":tag_names)"
            ),
            rows,
        )


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE articles_fts")  # its triggers go with search_documents
    op.drop_table("search_documents")
    op.drop_table("content_state")
