"""Webhooks: subscriptions of receivers to events, and the delivery of each event to
each subscription, with a row per attempt (the delivery log)."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.base import Base, Timestamped, Versioned, string_enum, utcnow


class Webhook(Timestamped, Versioned, Base):
    """A receiver's URL and what it wants to hear about."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: all
    # Article events only for articles in these categories (empty: any article).
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fernet tokens (cms.services.webhooks): we sign with the secret, so it cannot be a
    # hash. The previous secret signs too until previous_secret_until (a rotation).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # attempts still to come
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt failed, or the webhook was disabled meanwhile


class WebhookDelivery(Base):
    """One message to one webhook: the body is kept as sent, so every attempt and every
    replay sends the same bytes under the same `webhook-id`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # A content event becomes one delivery per webhook however often it is dispatched.
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(Integer)  # the outbox event; None: announced
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # all attempts, replays included
    tries: Mapped[int] = mapped_column(Integer, default=0)  # attempts of the current run
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    log: Mapped[list["WebhookAttempt"]] = relationship(
        order_by="WebhookAttempt.number", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookAttempt(Base):
    """One HTTP request of a delivery, and how it went."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)  # at most 1 KB of the answer
    error: Mapped[str | None] = mapped_column(String(500))
