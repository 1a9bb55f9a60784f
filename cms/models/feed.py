"""Feeds: the RSS/Atom sources that are ingested, and the items already taken from them."""

import enum
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.base import Base, Timestamped, Versioned, string_enum
from cms.models.publication import Publication


class ItemStatus(enum.StrEnum):
    """What a new item of the feed becomes: a draft for review, or published at once."""

    DRAFT = "draft"
    PUBLISHED = "published"


class FetchOutcome(enum.StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


class Feed(Timestamped, Versioned, Base):
    __tablename__ = "feeds"
    __table_args__ = (CheckConstraint("interval_minutes >= 1", name="interval_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    # Items are credited to this venue; without one, each item's domain decides.
    publication_id: Mapped[int | None] = mapped_column(
        ForeignKey("publications.id", ondelete="RESTRICT"), index=True
    )
    interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    is_active: Mapped[bool] = mapped_column(default=True)
    item_status: Mapped[ItemStatus] = mapped_column(
        string_enum(ItemStatus, "item_status"), default=ItemStatus.DRAFT
    )
    # Also keep a copy of each new item's source page (one more fetch per item).
    cache_sources: Mapped[bool] = mapped_column(default=False)

    # The last fetch, and the validators that make the next one conditional.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_fetched_at: Mapped[datetime | None]
    last_status: Mapped[FetchOutcome | None] = mapped_column(
        string_enum(FetchOutcome, "fetch_outcome")
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    # Read, but the document was not well-formed (feedparser recovered it): not an error.
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_new_items: Mapped[int | None] = mapped_column(Integer)
    consecutive_failures: Mapped[int] = mapped_column(SmallInteger, default=0)
    # When the poll cycle fetches it next (interval, the feed's own minimum, Retry-After
    # or backoff decided it); None: as soon as it is active.
    next_fetch_at: Mapped[datetime | None] = mapped_column(index=True)
    # The feed's own minimum interval (<ttl>, sy:updatePeriod / sy:updateFrequency).
    min_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    # From an item's published date to the API: a moving average of each fetch's
    # median (cms.services.freshness), and how many items it was measured on.
    freshness_seconds: Mapped[int | None] = mapped_column(Integer, index=True)
    freshness_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    publication: Mapped[Publication | None] = relationship()

    def is_due(self, now: datetime) -> bool:
        if not self.is_active:
            return False
        if self.next_fetch_at is not None:
            return self.next_fetch_at <= now
        return (
            self.last_fetched_at is None
            or self.last_fetched_at + timedelta(minutes=self.interval_minutes) <= now
        )


class FeedItem(Base):
    """An item seen in a feed, by GUID. It outlives its article: an article an editor
    deleted does not come back on the next fetch."""

    __tablename__ = "feed_items"

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 of the GUID (GUIDs are free text of any length).
    guid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
