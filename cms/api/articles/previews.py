"""Preview links (editors issue and revoke them; anyone holding one reads that article,
or that revision of it)."""

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import Response, url_for
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from cms.api.articles.read import article_bytes, load_articles, stamp_query
from cms.api.articles.routes import article_to_change, blp
from cms.api.articles.schemas import ArticleSchema
from cms.api.common import public_url
from cms.api.framework import json_response
from cms.api.openapi import ResponseSchema
from cms.api.operation_docs import UNCACHED
from cms.auth.permissions import require_principal
from cms.caching import CACHES, LRU, content_generation, require_if_match, strong_etag
from cms.extensions import DB_INT_MAX, db
from cms.models import Article, PreviewToken, Role, utcnow
from cms.problems import fail
from cms.services.errors import InvalidContentError
from cms.services.previews import Previewed, issue_preview, previewed
from cms.services.revisions import restore, revision

WEEK = 7 * 24 * 3600


class PreviewRequestSchema(ma.Schema):
    expires_in = ma.fields.Integer(
        strict=True,
        load_default=3600,
        validate=ma.validate.Range(min=60, max=WEEK),
        metadata={"description": "Seconds the link works (1 minute to 7 days)"},
    )
    revision = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
        metadata={"description": "Preview this revision (its number) instead of the article now"},
    )


class PreviewSchema(ResponseSchema):
    """A preview link. Its secret is only ever in the creation response."""

    id = ma.fields.Integer()
    article_id = ma.fields.Integer()
    revision = ma.fields.Integer(
        allow_none=True, metadata={"description": "The revision it shows; null: the article now"}
    )
    expires_at = ma.fields.AwareDateTime()
    token = ma.fields.String(metadata={"description": "The secret: shown once"})
    url = ma.fields.String(metadata={"description": "Where the article can be read with it"})


def _preview_etag(preview: PreviewToken) -> str:
    return strong_etag(PreviewToken.__tablename__, preview.id, preview.revoked_at)


@blp.route("/<int:article_id>/previews")
class ArticlePreviews(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(PreviewRequestSchema)
    @blp.response(201, PreviewSchema)
    @blp.errors(404)
    @blp.doc(operationId="createArticlePreview")
    def post(self, data: dict[str, Any], article_id: int) -> Response:
        """Issue a preview link to an article

        Whoever holds the link reads this article (even unpublished), or one revision
        of it, at its URL, and nothing else, until it expires or is revoked. The secret
        is shown once.
        """
        article = article_to_change(article_id)
        number = data.get("revision")
        if number is not None and revision(db.session, article, number) is None:
            fail(404, detail=f"The article has no revision {number}.")
        preview, secret = issue_preview(
            db.session,
            article,
            lifetime=timedelta(seconds=data["expires_in"]),
            created_by_id=require_principal().user_id,
            revision_number=number,
        )
        location = url_for("articles.ArticlePreview", secret=secret)
        body = {
            "id": preview.id,
            "article_id": article_id,
            "revision": number,
            "expires_at": preview.expires_at,
            "token": secret,
            "url": public_url(location),
        }
        headers = {"Location": location, "ETag": f'"{_preview_etag(preview)}"'}
        return json_response(body, 201, headers)


@blp.route("/<int:article_id>/previews/<int:preview_id>")
class ArticlePreviewById(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(204)
    @blp.errors(404)
    @blp.doc(operationId="revokeArticlePreview")
    def delete(self, article_id: int, preview_id: int) -> None:
        """Revoke a preview link: it stops working at once"""
        preview = db.session.scalar(
            select(PreviewToken).where(
                PreviewToken.id == preview_id,
                PreviewToken.article_id == article_id,
                PreviewToken.revoked_at.is_(None),
            )
        )
        if preview is None:
            fail(404, detail="No such preview.")
        require_if_match(_preview_etag(preview))
        preview.revoked_at = utcnow()


@blp.route("/preview/<string:secret>")
class ArticlePreview(MethodView):
    @blp.response(200, ArticleSchema)
    @blp.errors(404)
    @blp.doc(operationId="previewArticle", security=[], **{UNCACHED: True})
    def get(self, secret: str) -> Response:
        """Read an article through a preview link

        No credentials: the link is the permission. Never cached. A link to a revision
        shows the article as restoring that revision would make it (its fields, authors
        and tags; the status and schedule as they are now).
        """
        found = previewed(db.session, secret)
        article = None if found is None else _previewed(found)
        if article is None:
            fail(404, detail="No such preview, or it expired or was revoked.")
        response = json_response(article)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


# Revision previews as shown, per content generation: restoring one takes the write
# path (and SQLite's write lock), so a link opened again and again does it once per
# change of content, not once per view.
_revision_previews = LRU(size=64, max_bytes=16 * 2**20)
CACHES.append(_revision_previews)


def _previewed(found: Previewed) -> dict[str, Any] | None:
    """The article a live preview shows, or None when it cannot be shown."""
    if found.revision_number is None:
        stamp = _previewed_stamp(found)
        return None if stamp is None else load_articles(db.session, [stamp])[0]
    key = (found.article_id, found.revision_number, content_generation())
    shown: dict[str, Any] | None = _revision_previews.get(key)
    if shown is None:
        stamp = _previewed_stamp(found)
        if stamp is None:
            return None
        # Of a version that is never committed: kept here, not in the renderings.
        [shown] = load_articles(db.session, [stamp], remember=False)
        db.session.rollback()  # restored only to be read
        _revision_previews.put(key, shown, article_bytes(shown))
    return dict(shown)


def _previewed_stamp(found: Previewed) -> Any:
    """The stamp row of what a preview shows. A revision is restored in the request's
    transaction, which the caller rolls back once it is read: the one write path makes
    the preview, so it shows what a restore would, and nothing of it is kept."""
    article = db.session.scalar(
        select(Article).where(Article.id == found.article_id, Article.trashed_at.is_(None))
    )
    if article is None:
        return None
    if found.revision_number is not None:
        old = revision(db.session, article, found.revision_number)
        if old is None:  # pruned since
            return None
        try:
            restore(db.session, article, old)
            db.session.flush()
        except (InvalidContentError, IntegrityError, StaleDataError):
            # It names a tag, byline or category since deleted, or a slug another article
            # has taken since (a 409 would tell an outsider that slug exists), or a save
            # got in between: it cannot be shown as it was.
            db.session.rollback()
            return None
    query = stamp_query(rated=False).where(Article.id == found.article_id)
    return db.session.connection().execute(query).first()
