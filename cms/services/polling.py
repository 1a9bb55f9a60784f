"""Feed polling in the workers: a periodic task runs the poll cycle (cms.services.
poll_cycle: the due feeds fetched concurrently, stored in batches, one transaction
each); a fetch asked for through the API is a job of its own. Either queues the copies
of new items' source pages (feeds with cache_sources) as a job, outside its transaction."""

from typing import Any

from flask import current_app
from sqlalchemy import select

from cms.extensions import db
from cms.jobs import enqueue, job, periodic
from cms.models import Feed, Job, JobState, utcnow
from cms.services.fetching import FetchPolicy
from cms.services.ingest import IngestResult, cache_source_pages, ingest_feed
from cms.services.poll_cycle import CycleLimits, due_feeds, fetch_all, store_readings
from cms.services.websub import note_hub


# One attempt: a failed fetch is recorded on the feed, and the next poll tries again.
@job("feeds.fetch", attempts=1)
def fetch_feed(feed_id: int) -> dict[str, Any]:
    """Fetch one feed now (conditionally) and store its new items."""
    # One fetch of a feed at a time (PostgreSQL locks the row; SQLite has one writer).
    feed = db.session.get(Feed, feed_id, with_for_update=True)
    if feed is None:
        return {"status": "gone"}
    result = ingest_feed(db.session, feed, FetchPolicy.from_config(current_app.config))
    after_fetch(feed, result)
    db.session.commit()
    return {
        "status": result.status.value,
        "new_items": result.new_items,
        "seen_items": result.seen_items,
        "skipped_items": result.skipped_items,
        "error": result.error,
        "warning": result.warning,
        "new_article_ids": list(result.new_article_ids),
    }


@job("sources.cache", attempts=3, retry_delay=30)
def cache_sources(article_ids: list[int]) -> dict[str, Any]:
    """Keep copies of these articles' source pages; one that fails does not stop the rest.
    Each page is its own transaction: no write lock is held across the fetches."""
    policy = FetchPolicy.from_config(current_app.config)
    kept = 0
    for article_id in article_ids:
        kept += cache_source_pages(db.session, [article_id], policy)
        db.session.commit()
    return {"kept": kept}


def pending_fetches() -> dict[int, Job]:
    """Feed id -> its fetch job that is queued or running."""
    active = select(Job).where(
        Job.name == "feeds.fetch", Job.state.in_([JobState.QUEUED, JobState.RUNNING])
    )
    return {job.args[0]: job for job in db.session.scalars(active) if job.args}


def fetch_soon(feed_id: int) -> Job:
    """The feed's pending fetch job, or a new one (never two at once)."""
    return pending_fetches().get(feed_id) or enqueue(db.session, fetch_feed, feed_id)


@periodic("feeds.poll")
def poll_feeds() -> None:
    """Fetch every due feed (but those with a fetch job queued or running), concurrently."""
    config = current_app.config
    requests = due_feeds(db.session, utcnow(), skip=pending_fetches().keys())
    db.session.rollback()  # no transaction (nor SQLite snapshot) held while fetching
    policy, limits = FetchPolicy.from_config(config), CycleLimits.from_config(config)
    for batch in fetch_all(requests, policy, limits):
        for feed, result in store_readings(db.session, batch):
            after_fetch(feed, result)
        db.session.commit()


def after_fetch(feed: Feed, result: IngestResult) -> None:
    """In the fetch's transaction: copies of the new items' source pages are queued,
    and a hub the feed names is noted (websub.subscribe requests the subscription)."""
    if feed.cache_sources and result.new_article_ids:
        enqueue(db.session, cache_sources, list(result.new_article_ids))
    if result.hub is not None:
        note_hub(db.session, feed, *result.hub)
