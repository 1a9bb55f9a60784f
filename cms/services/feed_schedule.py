"""When a feed is fetched next: its interval, never below what the feed itself asks
(<ttl>, sy:updatePeriod / sy:updateFrequency, Cache-Control max-age); after a failure,
what Retry-After says, else a backoff that doubles with each failure in a row, with
jitter so that feeds failing together (one host down) do not come back together."""

import random
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from cms.models import Feed

# A feed may ask to be fetched rarely, or a server say "come back next month": at most
# a day between fetches of a working feed, a week after a Retry-After.
MAX_SOURCE_MINUTES = 24 * 60
MAX_BACKOFF_MINUTES = 24 * 60
MAX_RETRY_AFTER = timedelta(days=7)
JITTER = 0.5  # a backoff is stretched by up to this much, at random

_TTL = re.compile(rb"<ttl>\s*(\d{1,9})\s*</ttl>", re.IGNORECASE)
_PERIOD = re.compile(rb"<sy:updatePeriod>\s*(\w+)\s*</sy:updatePeriod>", re.IGNORECASE)
_FREQUENCY = re.compile(rb"<sy:updateFrequency>\s*(\d{1,6})\s*</sy:updateFrequency>", re.I)
_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}
_MAX_AGE = re.compile(r"\bmax-age\s*=\s*(\d{1,9})", re.IGNORECASE)
_jitter = random.Random()  # noqa: S311 - spreading retries, not a secret


def source_interval(body: bytes) -> int | None:
    """Minutes the feed document asks between fetches, capped at a day. Read by a scan
    of the bytes rather than from the parsers: neither gives sy:*, and one regex serves
    whichever parser read the items."""
    minutes = []
    if ttl := _TTL.search(body):
        minutes.append(int(ttl.group(1)))
    if period := _PERIOD.search(body):
        frequency = _FREQUENCY.search(body)
        per_period = max(1, int(frequency.group(1))) if frequency else 1
        minutes.append(_PERIOD_MINUTES.get(period.group(1).decode().lower(), 0) // per_period)
    found = max(minutes, default=0)
    return min(found, MAX_SOURCE_MINUTES) if found > 0 else None


def next_after_success(feed: Feed, now: datetime, headers: Mapping[str, str]) -> datetime:
    """The feed's interval, or longer when the feed or its server asks for longer."""
    minutes = max(feed.interval_minutes, feed.min_interval_minutes or 0)
    if max_age := _MAX_AGE.search(headers.get("cache-control", "")):
        minutes = max(minutes, min(int(max_age.group(1)) // 60, MAX_SOURCE_MINUTES))
    return now + timedelta(minutes=minutes)


def next_after_failure(
    feed: Feed, now: datetime, status: int | None, headers: Mapping[str, str]
) -> datetime:
    """Retry-After on a 429 or 503 (a week at most); else a jittered backoff: the
    interval, doubled for each failure in a row before this one (a day at most).
    `feed.consecutive_failures` counts this failure already."""
    if status in (429, 503) and (wait := retry_after(headers.get("retry-after"), now)):
        return now + min(wait, MAX_RETRY_AFTER)
    doublings = min(max(feed.consecutive_failures - 1, 0), 16)
    minutes = min(feed.interval_minutes * 2**doublings, MAX_BACKOFF_MINUTES)
    return now + timedelta(minutes=minutes * (1 + _jitter.uniform(0, JITTER)))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds ("120") or an HTTP date; None when absent or unreadable."""
    value = (value or "").strip()
    if value.isdigit():
        return timedelta(seconds=int(value[:9]))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def reschedule(feed: Feed) -> None:
    """After an admin changed the interval: the next fetch follows the new one."""
    if feed.last_fetched_at is not None and not feed.consecutive_failures:
        minutes = max(feed.interval_minutes, feed.min_interval_minutes or 0)
        feed.next_fetch_at = feed.last_fetched_at + timedelta(minutes=minutes)
