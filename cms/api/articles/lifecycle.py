"""Status steps of an article, each an operation with its own permission rule
(cms.services.lifecycle has the steps; a PATCH of `status` stays for editors' tools)."""

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from cms.api.articles.routes import article_response, article_to_change, blp, by_id
from cms.api.articles.schemas import ArticleSchema
from cms.api.common import AwareUTCDateTime
from cms.auth.permissions import owns, require_principal
from cms.extensions import db
from cms.models import Role
from cms.problems import fail
from cms.services.lifecycle import InvalidTransitionError, take_step


class ScheduleSchema(ma.Schema):
    published_at = AwareUTCDateTime(
        required=True, metadata={"description": "When it goes live (past: live now, dated then)"}
    )


def _step(article_id: int, name: str, published_at: Any = None) -> Response:
    article = article_to_change(article_id)
    principal = require_principal()
    if not principal.at_least(Role.EDITOR) and not owns(principal, article):
        fail(403, "forbidden", "Below editor, only your own articles.")
    try:
        take_step(db.session, article, name, published_at)
    except InvalidTransitionError as error:
        fail(409, error.code, str(error))
    return article_response(by_id(article_id), {})


@blp.route("/<int:article_id>/submit")
class SubmitArticle(MethodView):
    @blp.requires(Role.CONTRIBUTOR, own=True)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, "invalid_transition")
    @blp.doc(operationId="submitArticle")
    def post(self, article_id: int) -> Response:
        """Submit a draft for review (draft -> in_review)"""
        return _step(article_id, "submit")


@blp.route("/<int:article_id>/withdraw")
class WithdrawArticle(MethodView):
    @blp.requires(Role.CONTRIBUTOR, own=True)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, "invalid_transition")
    @blp.doc(operationId="withdrawArticle")
    def post(self, article_id: int) -> Response:
        """Take an article out of review, back to draft (in_review -> draft)"""
        return _step(article_id, "withdraw")


@blp.route("/<int:article_id>/publish")
class PublishArticle(MethodView):
    @blp.requires(Role.AUTHOR, own=True)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, "invalid_transition", "unpublish_at_first")
    @blp.doc(operationId="publishArticle")
    def post(self, article_id: int) -> Response:
        """Publish now (draft, in_review, scheduled or archived -> published)"""
        return _step(article_id, "publish")


@blp.route("/<int:article_id>/schedule")
class ScheduleArticle(MethodView):
    @blp.requires(Role.AUTHOR, own=True)
    @blp.arguments(ScheduleSchema)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, "invalid_transition", "unpublish_at_first")
    @blp.doc(operationId="scheduleArticle")
    def post(self, data: dict[str, Any], article_id: int) -> Response:
        """Schedule for a time (draft, in_review or published -> scheduled)

        Public exactly at `published_at`, to the second (lists, search, counts and
        their caches), whether the scheduler has run or not. A time already past
        publishes it now, dated then.
        """
        return _step(article_id, "schedule", data["published_at"])


@blp.route("/<int:article_id>/archive")
class ArchiveArticle(MethodView):
    @blp.requires(Role.AUTHOR, own=True)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, "invalid_transition")
    @blp.doc(operationId="archiveArticle")
    def post(self, article_id: int) -> Response:
        """Take an article down (published or scheduled -> archived)"""
        return _step(article_id, "archive")
