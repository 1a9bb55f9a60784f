"""The audit log is an outbox consumer: each content event is copied once (by its id,
so a second delivery adds nothing), and entries older than AUDIT_KEEP_DAYS are pruned."""

from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import delete, insert, select

from cms.extensions import db
from cms.jobs import periodic
from cms.models import ContentEvent, utcnow
from cms.models.audit import AuditEntry
from cms.services.dispatch import consumer

_COPIED = ("occurred_at", "actor", "type", "resource", "resource_id", "version", "changed")


@consumer("audit")
def record_audit(events: Sequence[ContentEvent]) -> None:
    ids = [event.id for event in events]
    seen = set(db.session.scalars(select(AuditEntry.event_id).where(AuditEntry.event_id.in_(ids))))
    rows = [
        {"event_id": event.id, **{name: getattr(event, name) for name in _COPIED}}
        for event in events
        if event.id not in seen
    ]
    if rows:
        db.session.execute(insert(AuditEntry), rows)


@periodic("audit.prune", crontab(minute="41"))
def prune_audit() -> None:
    cutoff = utcnow() - timedelta(days=current_app.config["AUDIT_KEEP_DAYS"])
    db.session.execute(delete(AuditEntry).where(AuditEntry.occurred_at < cutoff))
    db.session.commit()
