"""The audit log: who did what to which resource and when, kept AUDIT_KEEP_DAYS (the
outbox keeps its events only until they are dispatched and a few days more)."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at", "id"),
        Index("ix_audit_log_resource", "resource", "resource_id"),
        Index("ix_audit_log_actor", "actor"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)  # the outbox event it copies
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "user:3" (a login's JWT), "token:7" (an API token); None: the system (jobs).
    actor: Mapped[str | None] = mapped_column(String(60))
    type: Mapped[str] = mapped_column(String(60))
    resource: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
