"""Feed polling in the workers: a periodic task finds the due feeds and queues one
fetch job each; a fetch stores the new items and queues the copies of their source
pages (feeds with cache_sources) as a job of their own, outside its transaction."""

from typing import Any

from flask import current_app
from sqlalchemy import select

from cms.extensions import db
from cms.jobs import enqueue, job, periodic
from cms.models import Feed, Job, JobState, utcnow
from cms.services.fetching import FetchPolicy
from cms.services.ingest import cache_source_pages, ingest_feed


# One attempt: a failed fetch is recorded on the feed, and the next poll tries again.
@job("feeds.fetch", attempts=1)
def fetch_feed(feed_id: int) -> dict[str, Any]:
    """Fetch one feed now (conditionally) and store its new items."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        return {"status": "gone"}
    result = ingest_feed(db.session, feed, FetchPolicy.from_config(current_app.config))
    if feed.cache_sources and result.new_article_ids:
        enqueue(db.session, cache_sources, list(result.new_article_ids))
    db.session.commit()
    return {
        "status": result.status.value,
        "new_items": result.new_items,
        "seen_items": result.seen_items,
        "skipped_items": result.skipped_items,
        "error": result.error,
        "new_article_ids": list(result.new_article_ids),
    }


@job("sources.cache", attempts=3, retry_delay=30)
def cache_sources(article_ids: list[int]) -> dict[str, Any]:
    """Keep copies of these articles' source pages; one that fails does not stop the rest."""
    kept = cache_source_pages(db.session, article_ids, FetchPolicy.from_config(current_app.config))
    db.session.commit()
    return {"kept": kept}


@periodic("feeds.poll")
def poll_feeds() -> None:
    """Queue a fetch of every due feed that has none queued or running."""
    now = utcnow()
    busy = {
        args[0]
        for args in db.session.scalars(
            select(Job.args).where(
                Job.name == "feeds.fetch", Job.state.in_([JobState.QUEUED, JobState.RUNNING])
            )
        )
        if args
    }
    for feed in db.session.scalars(select(Feed).where(Feed.is_active).order_by(Feed.id)):
        if feed.id not in busy and feed.is_due(now):
            enqueue(db.session, fetch_feed, feed.id)
    db.session.commit()
