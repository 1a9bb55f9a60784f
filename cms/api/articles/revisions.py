"""Revisions of an article (editors): list, show, diff and restore."""

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from cms.api.articles.routes import article_response, article_to_change, blp, by_id
from cms.api.articles.schemas import ArticleSchema
from cms.api.framework import json_response
from cms.api.openapi import ResponseSchema
from cms.extensions import db
from cms.models import Article, Role
from cms.problems import fail
from cms.services.errors import InvalidContentError
from cms.services.revisions import Revision, diff, restore, revision, revisions


class RevisionSummarySchema(ResponseSchema):
    number = ma.fields.Integer(metadata={"description": "1 is the article as first stored"})
    created_at = ma.fields.AwareDateTime()
    actor = ma.fields.String(
        allow_none=True, metadata={"description": "user:<id>, token:<id>; null: the system"}
    )
    changed = ma.fields.List(ma.fields.String(), metadata={"description": "Fields it changed"})


class RevisionSchema(RevisionSummarySchema):
    EXTENDS_BASE = True
    values = ma.fields.Dict(
        keys=ma.fields.String(), metadata={"description": "The article's fields as they were"}
    )


class RevisionListSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(RevisionSummarySchema))


class FieldChangeSchema(ResponseSchema):
    from_ = ma.fields.Raw(data_key="from", allow_none=True)
    to = ma.fields.Raw(allow_none=True)


class RevisionDiffSchema(ResponseSchema):
    from_ = ma.fields.Integer(data_key="from")
    to = ma.fields.Integer()
    changes = ma.fields.Dict(
        data_key="fields",
        keys=ma.fields.String(),
        values=ma.fields.Nested(FieldChangeSchema),
        metadata={"description": "Each field that differs"},
    )
    body_diff = ma.fields.String(metadata={"description": "The body as a unified diff"})


def _revision(article: Article, number: int) -> Revision:
    found = revision(db.session, article, number)
    if found is None:
        fail(404, detail=f"The article has no revision {number}.")
    return found


def _summary(item: Revision) -> dict[str, Any]:
    return {k: getattr(item, k) for k in ("number", "created_at", "actor", "changed")}


@blp.route("/<int:article_id>/revisions")
class ArticleRevisions(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(200, RevisionListSchema)
    @blp.errors(404)
    @blp.doc(operationId="listArticleRevisions")
    def get(self, article_id: int) -> dict[str, Any]:
        """List an article's revisions, newest first"""
        return {
            "data": [
                _summary(item) for item in revisions(db.session, article_to_change(article_id))
            ]
        }


@blp.route("/<int:article_id>/revisions/<int:number>")
class ArticleRevisionByNumber(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(200, RevisionSchema)
    @blp.errors(404)
    @blp.doc(operationId="getArticleRevision")
    def get(self, article_id: int, number: int) -> dict[str, Any]:
        """Get one revision: the article's fields as they were"""
        item = _revision(article_to_change(article_id), number)
        return {**_summary(item), "values": item.values}


@blp.route("/<int:article_id>/revisions/<int:number>/diff/<int:other>")
class ArticleRevisionDiff(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(200, RevisionDiffSchema)
    @blp.errors(404)
    @blp.doc(operationId="diffArticleRevisions")
    def get(self, article_id: int, number: int, other: int) -> Response:
        """Compare two revisions field by field"""
        article = article_to_change(article_id)
        # Sent as built: its keys are the documented names (`from` is no attribute).
        return json_response(diff(_revision(article, number), _revision(article, other)))


@blp.route("/<int:article_id>/revisions/<int:number>/restore")
class ArticleRevisionRestore(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(200, ArticleSchema)
    @blp.errors(404, 409, "revision_outdated")
    @blp.doc(operationId="restoreArticleRevision")
    def post(self, article_id: int, number: int) -> Response:
        """Restore a revision

        Brings back its fields, authors and tags (not its status or schedule: the
        article stays where it is in its lifecycle), as a new revision.
        """
        article = article_to_change(article_id)
        try:
            restore(db.session, article, _revision(article, number))
        except InvalidContentError as error:  # a tag, byline or category since deleted
            db.session.rollback()
            detail = "; ".join(f"{field}: {' '.join(why)}" for field, why in error.errors.items())
            fail(409, "revision_outdated", f"Cannot restore revision {number}: {detail}")
        return article_response(by_id(article_id), {})
