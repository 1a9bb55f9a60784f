"""The poll cycle: every due feed fetched at once, within bounds.

A pool of fetch threads (at most `workers` fetches in flight, at most `per_host` to one
host) does nothing but the conditional GETs, each under the fetch deadline. The calling
thread hands out the next fetches as soon as one ends, then parses what came back, so
a parse never holds a fetch slot, and a slow or broken feed holds one slot for at most
the deadline while the others go on. Readings are handed back in batches (by count or
by age), for the caller to store one transaction each.
"""

import time
from collections import Counter, deque
from collections.abc import Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from cms.models import Feed
from cms.services import DbSession
from cms.services.fetching import Fetched, FetchError, FetchPolicy
from cms.services.ingest import (
    FeedRequest,
    IngestResult,
    Reading,
    fetch_document,
    read_fetched,
    record_reading,
)

Batch = list[tuple[FeedRequest, Reading]]


@dataclass(frozen=True)
class CycleLimits:
    workers: int = 16  # fetches in flight
    per_host: int = 2  # fetches in flight to one host (and port)
    batch: int = 100  # readings stored per transaction
    batch_seconds: float = 1.0  # ...or fewer, when the batch is this old

    @classmethod
    def from_config(cls, config: Any) -> "CycleLimits":
        return cls(config["POLL_WORKERS"], config["POLL_PER_HOST"], config["POLL_BATCH"])


def due_feeds(session: DbSession, now: datetime, skip: Collection[int] = ()) -> list[FeedRequest]:
    """The active feeds whose next fetch is due, longest-waiting first."""
    query = (
        select(Feed)
        .where(Feed.is_active, or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now))
        .order_by(Feed.next_fetch_at, Feed.id)
    )
    return [
        FeedRequest.of(feed)
        for feed in session.scalars(query)
        if feed.id not in skip and feed.is_due(now)
    ]


def fetch_all(
    requests: list[FeedRequest], policy: FetchPolicy, limits: CycleLimits
) -> Iterator[Batch]:
    """Fetch and read every request; the readings in batches, as they come."""
    batch: Batch = []
    started = time.monotonic()
    for pair in _readings(requests, policy, limits):
        batch.append(pair)
        if len(batch) >= limits.batch or time.monotonic() - started >= limits.batch_seconds:
            yield batch
            batch, started = [], time.monotonic()
    if batch:
        yield batch


def store_readings(session: DbSession, batch: Batch) -> list[tuple[Feed, IngestResult]]:
    """Record a batch of readings on their feeds (rows locked on PostgreSQL, as a manual
    fetch does), skipping feeds deleted or moved to another URL meanwhile. No commit."""
    ids = [request.id for request, _ in batch]
    feeds = {
        feed.id: feed
        for feed in session.scalars(select(Feed).where(Feed.id.in_(ids)).with_for_update())
    }
    stored = []
    for request, reading in batch:
        feed = feeds.get(request.id)
        if feed is not None and feed.url == request.url:
            stored.append((feed, record_reading(session, feed, reading)))
    return stored


def _readings(
    requests: list[FeedRequest], policy: FetchPolicy, limits: CycleLimits
) -> Iterator[tuple[FeedRequest, Reading]]:
    waiting: dict[str, deque[FeedRequest]] = {}
    for request in requests:
        waiting.setdefault(_host(request.url), deque()).append(request)
    busy: Counter[str] = Counter()
    running: dict[Future[Fetched | FetchError], FeedRequest] = {}
    with ThreadPoolExecutor(limits.workers, thread_name_prefix="poll") as pool:

        def start_more() -> None:
            """Round-robin over the hosts with room, so no host's queue goes first."""
            started = True
            while started and len(running) < limits.workers:
                started = False
                for host, queue in list(waiting.items()):
                    if len(running) >= limits.workers:
                        break
                    if busy[host] < limits.per_host:
                        request = queue.popleft()
                        running[pool.submit(_fetch, request, policy)] = request
                        busy[host] += 1
                        started = True
                        if not queue:
                            del waiting[host]

        start_more()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            finished = [(future, running.pop(future)) for future in done]
            for _, request in finished:
                busy[_host(request.url)] -= 1
            start_more()  # before parsing: the pool never waits for the parser
            for future, request in finished:
                yield request, read_fetched(future.result())


def _fetch(request: FeedRequest, policy: FetchPolicy) -> Fetched | FetchError:
    try:
        return fetch_document(request, policy)
    except Exception as error:  # one feed's surprise must not end the cycle
        return FetchError("fetch_failed", f"The fetch failed: {error.__class__.__name__}")


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or parts.scheme}"
    except ValueError:
        return url
