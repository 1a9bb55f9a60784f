"""Freshness: how long an item takes from its source (its published date) to the API.

Measured per fetch (or push) that brings new items, as the median delay of those
items, and kept per feed as a moving average, so the feeds that lag show in the admin
list. The first fetch of a feed is not measured: its items were published before we
knew the feed, and their age says nothing about our delay.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from cms.models import Article, Feed
from cms.services import DbSession

WEIGHT = 0.3  # of the newest measurement in the average
MAX_DELAY = timedelta(days=7)  # an item dated older is a backfill, not a late one
SAMPLE = 500  # items measured per fetch at most


def record_freshness(
    session: DbSession, feed: Feed, article_ids: Sequence[int], now: datetime
) -> None:
    """Fold the delays of these new articles into the feed's freshness figures."""
    if not article_ids:
        return
    published = session.scalars(
        select(Article.published_at).where(
            Article.id.in_(article_ids[:SAMPLE]), Article.published_at.is_not(None)
        )
    )
    delays = sorted(
        max(now - moment, timedelta(0))
        for moment in published
        if moment and now - moment <= MAX_DELAY
    )
    if not delays:
        return
    median = delays[len(delays) // 2].total_seconds()
    before = feed.freshness_seconds
    feed.freshness_seconds = round(
        median if before is None else WEIGHT * median + (1 - WEIGHT) * before
    )
    feed.freshness_items = (feed.freshness_items or 0) + len(delays)
