"""Outbox dispatch: content events reach their consumers at least once, in order.

A periodic task (and a nudge a second after a commit that recorded events) hands the
undispatched events, oldest first, to every registered consumer, then marks them
dispatched in the same transaction as the consumers' own writes. A consumer that fails
leaves them undispatched: the next run hands them over again, so consumers must be
idempotent. Events are read by `dispatched_at IS NULL`, not by a cursor, so an event
whose transaction commits late (after a newer one) is not skipped."""

from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog
from flask import current_app
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from cms.extensions import db
from cms.jobs import nudge, periodic
from cms.models import ContentEvent, utcnow

log = structlog.get_logger(__name__)

Consumer = Callable[[Sequence[ContentEvent]], None]
CONSUMERS: dict[str, Consumer] = {}
BATCH = 500
NUDGE_DELAY = 1.0  # seconds: a burst of writes is dispatched together


def consumer(name: str) -> Callable[[Consumer], Consumer]:
    """Register a consumer of content events (revisions, webhooks, purges...)."""

    def register(handler: Consumer) -> Consumer:
        CONSUMERS[name] = handler
        return handler

    return register


@consumer("log")
def log_events(events: Sequence[ContentEvent]) -> None:
    """Operators see every change in the worker's log."""
    for item in events:
        log.info(
            "content_event",
            event_id=item.id,
            type=item.type,
            resource_id=item.resource_id,
            version=item.version,
            actor=item.actor,
            changed=item.changed,
        )


@periodic("outbox.dispatch")
def dispatch_events() -> None:
    while True:
        events = db.session.scalars(
            select(ContentEvent)
            .where(ContentEvent.dispatched_at.is_(None))
            .order_by(ContentEvent.id)
            .limit(BATCH)
        ).all()
        if not events:
            break
        for handler in CONSUMERS.values():
            handler(events)
        db.session.execute(
            update(ContentEvent)
            .where(ContentEvent.id.in_([e.id for e in events]))
            .values(dispatched_at=utcnow())
        )
        db.session.commit()
    _prune()


def _prune() -> None:
    """Dispatched events older than OUTBOX_KEEP_DAYS go; the newest event always stays
    (SQLite would otherwise hand its id out again)."""
    before = utcnow() - timedelta(days=current_app.config["OUTBOX_KEEP_DAYS"])
    newest = db.session.scalar(select(func.max(ContentEvent.id)))
    db.session.execute(
        delete(ContentEvent).where(
            ContentEvent.dispatched_at < before, ContentEvent.id != (newest or 0)
        )
    )
    db.session.commit()


@event.listens_for(Session, "after_commit")
def _nudge_dispatch(session: Session) -> None:
    if not session.info.pop("content_events", False):
        return
    try:  # a nudge still pending runs after this commit and sees its events
        eta = utcnow() + timedelta(seconds=NUDGE_DELAY)
        nudge(dispatch_events, eta=eta, coalesce=NUDGE_DELAY)
    except Exception:  # the queue is down: the periodic run dispatches them
        log.warning("outbox_nudge_failed", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("content_events", None)
