"""Reading, comparing and restoring an article's revisions, and pruning old ones
(REVISIONS_KEEP per article, REVISIONS_KEEP_DAYS: the latest always stays)."""

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import delete, func, select

from cms.extensions import db
from cms.jobs import periodic
from cms.models import Article, ArticleRevision, BodyFormat, utcnow
from cms.models.revision import FIELDS, stored_snapshots
from cms.services import DbSession
from cms.services.articles import update_article

# A restore brings back what the article says; where it is in its lifecycle stays.
NOT_RESTORED = frozenset({"status", "published_at", "unpublish_at"})


@dataclass(frozen=True)
class Revision:
    number: int
    created_at: datetime
    actor: str | None
    changed: list[str]
    values: dict[str, Any]


def revisions(session: DbSession, article: Article) -> list[Revision]:
    """Newest first. An article created in bulk and never changed has its stored state
    as revision 1 (written down only once it changes)."""
    rows = session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article.id)
        .order_by(ArticleRevision.number.desc())
    ).all()
    if rows:
        return [Revision(r.number, r.created_at, r.actor, r.changed, r.values) for r in rows]
    values = stored_snapshots(session.connection(), [article.id])[article.id]
    return [Revision(1, article.created_at, None, [], values)]


def revision(session: DbSession, article: Article, number: int) -> Revision | None:
    return next((r for r in revisions(session, article) if r.number == number), None)


def diff(older: Revision, newer: Revision) -> dict[str, Any]:
    """The fields that differ, each from and to; the body also as a unified diff."""
    names = [*FIELDS, "author_ids", "tag_ids"]
    fields = {
        name: {"from": older.values.get(name), "to": newer.values.get(name)}
        for name in names
        if older.values.get(name) != newer.values.get(name)
    }
    body_diff = "".join(
        difflib.unified_diff(
            (older.values.get("body_source") or "").splitlines(keepends=True),
            (newer.values.get("body_source") or "").splitlines(keepends=True),
            fromfile=f"revision {older.number}",
            tofile=f"revision {newer.number}",
        )
    )
    return {"from": older.number, "to": newer.number, "fields": fields, "body_diff": body_diff}


def restore(session: DbSession, article: Article, old: Revision) -> Article:
    """Bring back the revision's fields, authors and tags (a new revision records it)."""
    values = {k: v for k, v in old.values.items() if k in FIELDS and k not in NOT_RESTORED}
    body_format, body = values.pop("body_format"), values.pop("body_source")
    body_key = "body_markdown" if body_format == BodyFormat.MARKDOWN.value else "body_html"
    data = {**values, body_key: body, "author_ids": old.values["author_ids"]}
    data["tag_ids"] = old.values["tag_ids"]
    return update_article(session, article, data)


@periodic("articles.prune_revisions", crontab(minute="23"))
def prune_revisions() -> None:
    config = current_app.config
    latest = (
        select(ArticleRevision.article_id, func.max(ArticleRevision.number).label("number"))
        .group_by(ArticleRevision.article_id)
        .subquery()
    )
    too_many = (
        select(ArticleRevision.id)
        .join(latest, latest.c.article_id == ArticleRevision.article_id)
        .where(ArticleRevision.number <= latest.c.number - config["REVISIONS_KEEP"])
    )
    too_old = (
        select(ArticleRevision.id)
        .join(latest, latest.c.article_id == ArticleRevision.article_id)
        .where(
            ArticleRevision.number < latest.c.number,
            ArticleRevision.created_at < utcnow() - timedelta(days=config["REVISIONS_KEEP_DAYS"]),
        )
    )
    for doomed in (too_many, too_old):
        db.session.execute(delete(ArticleRevision).where(ArticleRevision.id.in_(doomed)))
    db.session.commit()
