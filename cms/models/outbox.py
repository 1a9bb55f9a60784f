"""Content events in an outbox: every flush that creates, changes or deletes content
(or an account: a user, an API token, a preview link) writes one row per changed
resource, in the same transaction.

So nothing is announced for a write that rolled back (its events roll back with it),
and nothing is lost when a process dies right after the commit (the events are rows,
read by whoever dispatches them later, at least once). Being an ORM event, this holds
for every writer of ORM rows: the API, the CLI, import and jobs. Writers that insert
with Core (feed ingest's bulk path) record their events with `record_events`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import JSON, Index, Integer, String, event, insert, inspect, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from cms.models.article import Article, ArticleStatus
from cms.models.auth import ApiToken, PreviewToken
from cms.models.base import Base, UTCDateTime, utcnow
from cms.models.feed import Feed
from cms.models.media import Image
from cms.models.page import Page
from cms.models.people import Author, User
from cms.models.publication import Publication
from cms.models.taxonomy import Category, Tag

# What counts as content, by the name its events carry: articles and what they show.
CONTENT_RESOURCES: dict[type[Any], str] = {
    Article: "article",
    Author: "author",
    Tag: "tag",
    Category: "category",
    Publication: "publication",
    Image: "image",
    Page: "page",
    Feed: "feed",
}
# Who may do what: changes an audit must show, though no reader sees them.
ACCOUNT_RESOURCES: dict[type[Any], str] = {User: "user", ApiToken: "token", PreviewToken: "preview"}
RESOURCES = CONTENT_RESOURCES | ACCOUNT_RESOURCES
# An article's lifecycle steps are events of their own (article.published...), named
# by the state the write left, as it commits: a consumer reading the row later could
# find it moved on. A status step with no name of its own (a submit) is an update.
ARTICLE_STEPS = {
    ArticleStatus.PUBLISHED: "published",
    ArticleStatus.SCHEDULED: "scheduled",
    ArticleStatus.ARCHIVED: "unpublished",
}
ARTICLE_ACTIONS = ("created", "updated", *ARTICLE_STEPS.values(), "trashed", "restored", "deleted")
# Bookkeeping every change (or use) moves: not a change anyone asked for.
_NOT_CHANGES = frozenset({"version", "updated_at", "created_at", "last_used_at"})


class ContentEvent(Base):
    """One change to one resource, as it committed."""

    __tablename__ = "content_events"
    __table_args__ = (Index("ix_content_events_pending", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(60))  # "article.updated"
    resource: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(60))  # "user:3", "token:7"; None: system
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Change:
    resource: str
    resource_id: int
    action: str  # created, updated, deleted
    version: int | None = None
    changed: tuple[str, ...] = ()


@contextmanager
def as_system() -> Iterator[None]:
    """Record what happens inside as the system's doing, not the request's caller (a
    read that publishes what the scheduler has not yet)."""
    g.acting_as_system = True
    try:
        yield
    finally:
        g.pop("acting_as_system", None)


def current_actor() -> str | None:
    """Who the request acts as (its principal, once resolved); None outside a request."""
    if not has_app_context() or g.get("acting_as_system"):
        return None
    principal = g.get("principal")
    if principal is None:
        return None
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return f"user:{principal.user_id}"


def record_events(
    session: Session | scoped_session[Any], changes: list[Change], *, actor: str | None = None
) -> None:
    """Write events for changes made outside the ORM (or for what is no change to a
    row, such as a login), in the session's transaction. The actor is the request's
    unless named (a login acts as the user it proves to be)."""
    if not changes:
        return
    session.info["content_events"] = True  # a dispatcher is nudged after the commit
    actor, now = actor or current_actor(), utcnow()
    session.connection().execute(
        insert(ContentEvent),
        [
            {
                "type": f"{change.resource}.{change.action}",
                "resource": change.resource,
                "resource_id": change.resource_id,
                "version": change.version,
                "actor": actor,
                "occurred_at": now,
                "changed": list(change.changed),
                "dispatched_at": None,
            }
            for change in changes
        ],
    )


def record_created(
    session: Session | scoped_session[Any], model: type[Any], ids: list[int]
) -> None:
    """`<resource>.created` for rows just inserted with Core, in one INSERT ... SELECT
    (the bulk path's cost stays that of its own inserts)."""
    if not ids:
        return
    resource = RESOURCES[model]
    rows = select(
        literal(f"{resource}.created"),
        literal(resource),
        model.id,
        literal(1),
        literal(current_actor(), String),
        literal(utcnow(), UTCDateTime),
        literal([], JSON),
    ).where(model.id.in_(ids))
    columns = ["type", "resource", "resource_id", "version", "actor", "occurred_at", "changed"]
    session.execute(insert(ContentEvent).from_select(columns, rows))
    session.info["content_events"] = True


def _changed_fields(row: Any) -> tuple[str, ...]:
    state = inspect(row)
    return tuple(
        sorted(
            attr.key
            for attr in state.attrs
            if attr.key not in _NOT_CHANGES and attr.history.has_changes()
        )
    )


def _changes_in_flush(session: Session) -> list[Change]:
    changes = []
    for rows, action in ((session.new, "created"), (session.dirty, "updated")):
        for row in rows:
            resource = RESOURCES.get(type(row))
            if resource is None:
                continue
            changed = _changed_fields(row)
            # Content shows what it links to: a changed link changes it too.
            linked = resource in CONTENT_RESOURCES.values() and session.is_modified(row)
            if action == "updated" and not changed and not linked:
                continue
            step = (
                _article_step(row, changed)
                if action == "updated" and isinstance(row, Article)
                else action
            )
            changes.append(Change(resource, row.id, step, getattr(row, "version", None), changed))
    for row in session.deleted:
        resource = RESOURCES.get(type(row))
        if resource is not None:
            changes.append(Change(resource, row.id, "deleted", getattr(row, "version", None)))
    return changes


def _article_step(article: Article, changed: tuple[str, ...]) -> str:
    if "trashed_at" in changed:
        return "trashed" if article.trashed_at is not None else "restored"
    if "status" in changed:
        return ARTICLE_STEPS.get(article.status, "updated")
    return "updated"


@event.listens_for(Session, "after_flush")
def _record_flushed_changes(session: Session, _context: Any) -> None:
    # After the flush, new rows have their ids and their history is still unreset.
    record_events(session, _changes_in_flush(session))
