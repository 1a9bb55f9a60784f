"""Revisions: every change to what an article says stores the whole of it, numbered.

Kept by ORM events, so every ORM writer makes them (the API, imports, the CLI, the
scheduler). Articles created in bulk (feed ingest) store no revision at first: when one
is first changed, its state as stored becomes revision 1, read from the database before
the change is written, and the change revision 2. So ingest costs no more, and every
revision a reader sees is what the article was.
"""

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from cms.models.article import Article, ArticleAuthor, ArticleTag
from cms.models.base import Base, UTCDateTime, utcnow
from cms.models.outbox import current_actor

# What a revision holds (and a restore can bring back), besides authors and tags.
FIELDS = (
    "title",
    "slug",
    "excerpt",
    "body_format",
    "body_source",
    "status",
    "published_at",
    "unpublish_at",
    "category_id",
    "cover_image_id",
    "publication_id",
    "source_url",
    "canonical_url",
    "content_type",
    "importance",
    "credibility_override",
    "summary",
    "key_points",
    "relevance",
)
# ORM attributes whose change is a change of these (relations set through objects).
_ATTRIBUTES = {
    **{name: name for name in FIELDS},
    "category": "category_id",
    "cover_image": "cover_image_id",
    "publication": "publication_id",
    "author_links": "author_ids",
    "tag_links": "tag_ids",
}


class ArticleRevision(Base):
    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(60))  # as content events name it
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _changed(article: Article) -> list[str]:
    state = inspect(article)
    return sorted(
        {name for key, name in _ATTRIBUTES.items() if state.attrs[key].history.has_changes()}
    )


def _snapshot(article: Article) -> dict[str, Any]:
    values = {name: _json(getattr(article, name)) for name in FIELDS}
    values["author_ids"] = [link.author_id for link in article.author_links]
    values["tag_ids"] = [link.tag_id for link in article.tag_links]
    return values


def stored_snapshots(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The articles as the database holds them (not as this session may have changed
    them): for a first revision of bulk-created articles."""
    columns = [getattr(Article, name) for name in FIELDS]
    snapshots = {
        row.id: {name: _json(getattr(row, name)) for name in FIELDS}
        | {"author_ids": [], "tag_ids": []}
        for row in connection.execute(select(Article.id, *columns).where(Article.id.in_(ids)))
    }
    for link, key, column in (
        (ArticleAuthor, "author_ids", ArticleAuthor.author_id),
        (ArticleTag, "tag_ids", ArticleTag.tag_id),
    ):
        query = (
            select(link.article_id, column)
            .where(link.article_id.in_(ids))
            .order_by(link.article_id, link.position)
        )
        for article_id, related_id in connection.execute(query):
            snapshots[article_id][key].append(related_id)
    return snapshots


def _latest_numbers(connection: Connection, ids: list[int]) -> dict[int, int]:
    query = (
        select(ArticleRevision.article_id, func.max(ArticleRevision.number))
        .where(ArticleRevision.article_id.in_(ids))
        .group_by(ArticleRevision.article_id)
    )
    return {article_id: number for article_id, number in connection.execute(query)}


@event.listens_for(Session, "before_flush")
def _first_revision_of_bulk_created(session: Session, *_: Any) -> None:
    """Before changing an article that has no revision yet, take it as it is stored. It
    is written after the flush's UPDATE (_record_revisions): that UPDATE checks the
    article's version, so of two writers racing on it the loser fails there (a 412),
    not on a duplicate revision 1 (a 409 for what is a concurrent edit)."""
    revised = session.info.get("revised", {})
    changing = [
        article.id
        for article in session.dirty
        if isinstance(article, Article)
        and article.id is not None
        and article.id not in revised
        and _changed(article)
    ]
    if not changing:
        return
    connection = session.connection()
    unrecorded = sorted(set(changing) - set(_latest_numbers(connection, changing)))
    if unrecorded:
        first = session.info.setdefault("first_revisions", {})
        first.update(stored_snapshots(connection, unrecorded))


def _write_first_revisions(session: Session, connection: Connection) -> None:
    first: dict[int, dict[str, Any]] = session.info.pop("first_revisions", {})
    if first:
        connection.execute(
            insert(ArticleRevision),
            [
                {
                    "article_id": article_id,
                    "number": 1,
                    "created_at": utcnow(),
                    "actor": None,
                    "changed": [],
                    "values": values,
                }
                for article_id, values in first.items()
            ],
        )


@event.listens_for(Session, "after_flush")
def _record_revisions(session: Session, _context: Any) -> None:
    # After the flush: new articles have ids, links their foreign keys, and the
    # attribute history still says what changed. A transaction that flushes an article
    # twice (an autoflush mid-change) makes one revision of it, not two.
    changes = {
        article: _changed(article)
        for article in (*session.new, *session.dirty)
        if isinstance(article, Article) and article not in session.deleted
    }
    changes = {article: changed for article, changed in changes.items() if changed}
    connection = session.connection()
    _write_first_revisions(session, connection)
    if not changes:
        return
    revised: dict[int, tuple[int, list[str]]] = session.info.setdefault("revised", {})
    for article, changed in changes.items():
        if article.id in revised:
            number, before = revised[article.id]
            changed = sorted({*before, *changed})
            connection.execute(
                update(ArticleRevision)
                .where(ArticleRevision.article_id == article.id, ArticleRevision.number == number)
                .values(changed=changed, values=_snapshot(article))
            )
            revised[article.id] = (number, changed)
    new = {article: changed for article, changed in changes.items() if article.id not in revised}
    if not new:
        return
    latest = _latest_numbers(connection, [article.id for article in new])
    actor, now = current_actor(), utcnow()
    rows: list[dict[str, Any]] = [
        {
            "article_id": article.id,
            "number": latest.get(article.id, 0) + 1,
            "created_at": now,
            "actor": actor,
            "changed": changed,
            "values": _snapshot(article),
        }
        for article, changed in new.items()
    ]
    connection.execute(insert(ArticleRevision), rows)
    for row in rows:
        revised[row["article_id"]] = (row["number"], row["changed"])


def _forget_revised(session: Session, *_: Any) -> None:
    session.info.pop("revised", None)
    session.info.pop("first_revisions", None)


event.listen(Session, "after_commit", _forget_revised)
event.listen(Session, "after_rollback", _forget_revised)
