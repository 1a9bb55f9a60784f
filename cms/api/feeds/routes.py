"""Feeds (admins only): the RSS/Atom sources that are ingested, and fetching one now."""

from typing import Any

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms.api.crud import Resource, register_crud, set_fields
from cms.api.feeds.schemas import FeedSchema
from cms.api.framework import Blueprint
from cms.api.jobs.routes import job_location
from cms.api.jobs.schemas import JobSchema
from cms.extensions import db
from cms.jobs import after_commit, nudge
from cms.models import Feed, Publication, Role
from cms.problems import fail
from cms.services import DbSession
from cms.services.errors import InvalidContentError
from cms.services.feed_schedule import reschedule
from cms.services.polling import fetch_soon, poll_feeds
from cms.services.references import resolve_one

blp = Blueprint("feeds", __name__, url_prefix="/api/v1/feeds", description="Ingested feeds (admin)")


def apply_feed(session: DbSession, feed: Feed, data: dict[str, Any]) -> None:
    data = dict(data)
    if "publication_id" in data:
        errors: dict[str, list[str]] = {}
        feed.publication = resolve_one(
            session, Publication, data.pop("publication_id"), "publication_id", errors
        )
        if errors:
            raise InvalidContentError(errors)
    new_url = "url" in data and data["url"] != feed.url
    new_interval = data.get("interval_minutes", feed.interval_minutes) != feed.interval_minutes
    set_fields(session, feed, data)
    if new_url:
        # A new address is a new document: the old validators do not apply to it, nor
        # its schedule (fetched at the next cycle).
        feed.etag = feed.last_modified = feed.next_fetch_at = None
        feed.min_interval_minutes = None
    elif new_interval:
        reschedule(feed)
    if feed.is_active:  # a new (or changed) feed is fetched now if due, not at the minute
        after_commit(session, lambda: nudge(poll_feeds))


register_crud(
    blp,
    Resource(
        Feed,
        FeedSchema,
        "feed",
        "feeds",
        slug_from=None,
        apply=apply_feed,
        query=lambda: select(Feed).options(selectinload(Feed.publication)),
        create_role=Role.ADMIN,
        change_role=Role.ADMIN,
        read_role=Role.ADMIN,
        on_change=None,
        # The slowest feeds first (those not measured yet last): the freshness report.
        sorts={"freshness": (Feed.freshness_seconds.is_(None), Feed.freshness_seconds.desc())},
    ),
)


@blp.route("/<int:feed_id>/fetch")
class FeedFetch(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(202, JobSchema)
    @blp.errors(404)
    @blp.doc(
        operationId="fetchFeed",
        description=(
            "Queues a fetch of the feed now (conditionally: ETag / Last-Modified); a "
            "worker stores its new items. Answers 202 with the job (`Location`: its "
            "URL); a fetch of this feed already queued or running is the job given. "
            "When the job is `done`, its `result` holds the counts (`status`, "
            "`new_items`, `seen_items`, `skipped_items`, `error`, `warning`, `new_article_ids`). "
            "A feed whose document is not well-formed but could be read is `ok`, with a "
            "`warning` (also on the feed as `last_warning`). A "
            "feed that cannot be fetched or read is not a failed job: the result (and the "
            "feed) says `status: error` and why. Feeds are also fetched when due, "
            "without this call."
        ),
    )
    def post(self, feed_id: int) -> Any:
        """Fetch a feed now (queued)"""
        feed = db.session.get(Feed, feed_id)
        if feed is None:
            fail(404, detail=f"No feed with id {feed_id}.")
        job = fetch_soon(feed.id)  # one already pending is the answer
        db.session.flush()
        return job, 202, {"Location": job_location(job)}
