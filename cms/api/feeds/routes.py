"""Feeds (admins only): the RSS/Atom sources that are ingested, and fetching one now."""

from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms.api.crud import Resource, register_crud, set_fields
from cms.api.feeds.schemas import FeedSchema, FetchResultSchema
from cms.api.framework import Blueprint
from cms.extensions import db
from cms.models import Feed, Publication, Role
from cms.problems import fail
from cms.services import DbSession
from cms.services.errors import InvalidContentError
from cms.services.fetching import FetchPolicy
from cms.services.ingest import cache_source_pages, ingest_feed
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
    if "url" in data and data["url"] != feed.url:
        # A new address is a new document: the old validators do not apply to it.
        feed.etag = feed.last_modified = None
    set_fields(session, feed, data)


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
    ),
)


@blp.route("/<int:feed_id>/fetch")
class FeedFetch(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(200, FetchResultSchema)
    @blp.errors(404)
    @blp.doc(
        operationId="fetchFeed",
        description=(
            "Fetches the feed now (conditionally: ETag / Last-Modified) and stores its new "
            "items. A feed that cannot be fetched or read is not an error of this call: "
            "the answer (and the feed) says `status: error` and why."
        ),
    )
    def post(self, feed_id: int) -> dict[str, Any]:
        """Fetch a feed now"""
        feed = db.session.get(Feed, feed_id)
        if feed is None:
            fail(404, detail=f"No feed with id {feed_id}.")
        policy = FetchPolicy.from_config(current_app.config)
        result = ingest_feed(db.session, feed, policy)
        if feed.cache_sources:
            cache_source_pages(db.session, result.new_article_ids, policy)
        db.session.flush()
        return {**vars(result), "feed": feed}
