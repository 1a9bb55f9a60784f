"""WebSub in the workers: a periodic task asks hubs for the subscriptions fetches noted
and renews leases before they lapse; a pushed document is ingested by a job at once."""

import base64
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from cms.extensions import db
from cms.jobs import enqueue, job, periodic
from cms.models import Feed, SubscriptionState, WebSubSubscription, utcnow
from cms.services.feeds import FeedParseError, parse_feed
from cms.services.fetching import FetchError, FetchPolicy
from cms.services.freshness import record_freshness
from cms.services.ingest import store_entries
from cms.services.polling import cache_sources
from cms.services.websub import request_subscription

# A request the hub has not verified (or that failed) is sent again after this long;
# a hub's verification is accepted this long after the request.
VERIFY_WINDOW = timedelta(hours=1)
State = SubscriptionState


@periodic("websub.subscribe")
def subscribe_and_renew() -> None:
    """Send the subscription requests that are due: new hubs, leases within
    WEBSUB_RENEW_BEFORE_SECONDS of their end, and requests left unverified or failed."""
    config = current_app.config
    if not config["PUBLIC_BASE_URL"]:
        return  # hubs could not reach a callback
    now = utcnow()
    stale = or_(
        WebSubSubscription.requested_at.is_(None),
        WebSubSubscription.requested_at < now - VERIFY_WINDOW,
    )
    ending = WebSubSubscription.expires_at < now + timedelta(
        seconds=config["WEBSUB_RENEW_BEFORE_SECONDS"]
    )
    due = (
        select(WebSubSubscription.feed_id)
        .join(Feed)
        .where(
            Feed.is_active,
            or_(
                WebSubSubscription.state == State.NEW,
                and_(WebSubSubscription.state == State.VERIFIED, ending, stale),
                and_(WebSubSubscription.state.in_([State.REQUESTED, State.FAILED]), stale),
            ),
        )
    )
    feed_ids = list(db.session.scalars(due))
    policy = FetchPolicy.from_config(config)
    lease = timedelta(seconds=config["WEBSUB_LEASE_SECONDS"])
    for feed_id in feed_ids:
        subscription = db.session.get(WebSubSubscription, feed_id)
        if subscription is None:
            continue
        if subscription.state is not State.VERIFIED:  # a renewal keeps taking pushes
            subscription.state = State.REQUESTED
        subscription.requested_at = now
        db.session.commit()  # before the request: the hub may verify before answering
        try:
            request_subscription(subscription, callback_url(feed_id), lease, policy)
        except FetchError as error:
            db.session.rollback()
            subscription.last_error = str(error)
            if subscription.state is State.REQUESTED:
                subscription.state = State.FAILED
            db.session.commit()


def callback_url(feed_id: int) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/websub/{feed_id}"


@job("websub.ingest", attempts=3, retry_delay=10)
def ingest_push(feed_id: int, body: str, content_type: str | None) -> dict[str, Any]:
    """Store the new items of a document a hub pushed (base64 in the job's args)."""
    feed = db.session.get(Feed, feed_id, with_for_update=True)
    if feed is None:
        return {"status": "gone"}
    try:
        parsed = parse_feed(base64.b64decode(body), feed.url, content_type)
    except FeedParseError as error:
        return {"status": "error", "error": str(error)}
    ids, seen = store_entries(db.session, feed, parsed.entries)
    record_freshness(db.session, feed, ids, utcnow())
    if feed.cache_sources and ids:
        enqueue(db.session, cache_sources, ids)
    db.session.commit()
    return {"status": "ok", "new_items": len(ids), "seen_items": seen, "new_article_ids": ids}


def queue_push(feed_id: int, body: bytes, content_type: str | None) -> None:
    enqueue(db.session, ingest_push, feed_id, base64.b64encode(body).decode(), content_type)
