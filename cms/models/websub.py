"""WebSub subscriptions: a feed that names a hub is pushed its new items by that hub."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, string_enum


class SubscriptionState(enum.StrEnum):
    NEW = "new"  # the hub was seen; no request sent yet
    REQUESTED = "requested"  # sent; the hub has not verified our intent yet
    VERIFIED = "verified"  # pushes are accepted until expires_at
    DENIED = "denied"  # the hub said no (hub.mode=denied)
    FAILED = "failed"  # the request could not be sent, or the hub refused it


class WebSubSubscription(Base):
    """One per feed: its hub, the topic (the feed's rel=self URL) and the secret pushes
    are signed with. The secret is kept as it is: it only proves pushes come from the
    hub, and whoever can read this table can write articles without it."""

    __tablename__ = "websub_subscriptions"

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    hub_url: Mapped[str] = mapped_column(String(2048))
    topic_url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(100))
    state: Mapped[SubscriptionState] = mapped_column(
        string_enum(SubscriptionState, "websub_state"), default=SubscriptionState.NEW
    )
    requested_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
