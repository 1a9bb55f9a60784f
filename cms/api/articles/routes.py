"""Articles: the list every page starts from, one article by id or slug, and writes."""

from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from sqlalchemy import ColumnElement

from cms.api.articles.read import article_query, fetch_article, fetch_articles
from cms.api.articles.schemas import ArticleQueryArgs, ArticleSchema, ArticleWriteSchema
from cms.api.common import count, envelope, page_envelope
from cms.auth.permissions import (
    article_visibility,
    authorize_article_delete,
    authorize_article_write,
    require_principal,
)
from cms.auth.principal import current_principal
from cms.extensions import Blueprint, db, json_response
from cms.models import Article, ArticleStatus, Role
from cms.problems import fail
from cms.services.articles import create_article, update_article

blp = Blueprint(
    "articles", __name__, url_prefix="/api/v1/articles", description="Articles, own and aggregated"
)


def _visible_or_404(*where: ColumnElement[bool]) -> dict[str, Any]:
    article = fetch_article(db.session, *where, *article_visibility(current_principal()))
    if article is None:
        fail(404, detail="No such article.")
    return article


def _article_to_change(article_id: int) -> Article:
    """The article for a write: 404 unless the caller may at least see it."""
    _visible_or_404(Article.id == article_id)
    article = db.session.get(Article, article_id)
    assert article is not None  # just seen, in the same transaction
    return article


@blp.route("")
class Articles(MethodView):
    @blp.arguments(ArticleQueryArgs, location="query")
    @blp.response(200, envelope(ArticleSchema))
    @blp.errors(400, 401)
    @blp.doc(operationId="listArticles")
    def get(self, args: dict[str, Any]) -> Response:
        """List articles, newest first

        Anonymous readers get published articles only and cannot ask for another
        status; contributors and authors also see their own unpublished work, editors all.
        """
        principal = current_principal()
        where = article_visibility(principal)
        if "status" in args:
            if principal is None and args["status"] is not ArticleStatus.PUBLISHED:
                fail(401, "missing_token", "Log in to list articles that are not published.")
            where.append(Article.status == args["status"])
        page, page_size = args["page"], args["page_size"]
        query = (
            article_query()
            .where(*where)
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        )
        data = fetch_articles(db.session, query.limit(page_size).offset((page - 1) * page_size))
        total = count(db.session, article_query().where(*where))
        return json_response(page_envelope(data, page=page, page_size=page_size, total=total))

    @blp.requires(Role.CONTRIBUTOR)
    @blp.arguments(ArticleWriteSchema)
    @blp.response(201, ArticleSchema)
    @blp.errors(409, 413, 415)
    @blp.doc(operationId="createArticle")
    def post(self, data: dict[str, Any]) -> Response:
        """Create an article

        The slug is generated from the title unless given; body_html is sanitized,
        body_markdown is rendered then sanitized. Below editor, the caller is credited
        (and must stay credited); contributors create drafts only.
        """
        data = authorize_article_write(db.session, require_principal(), None, data)
        article = create_article(db.session, data)
        location = url_for("articles.ArticleById", article_id=article.id)
        return json_response(_visible_or_404(Article.id == article.id), 201, {"Location": location})


@blp.route("/<int:article_id>")
class ArticleById(MethodView):
    @blp.response(200, ArticleSchema)
    @blp.errors(401, 404)
    @blp.doc(operationId="getArticle")
    def get(self, article_id: int) -> Response:
        """Get an article by id"""
        return json_response(_visible_or_404(Article.id == article_id))

    @blp.requires(Role.CONTRIBUTOR, own=True)
    @blp.arguments(ArticleWriteSchema(partial=True))
    @blp.response(200, ArticleSchema)
    @blp.errors(404, 409, 413, 415)
    @blp.doc(operationId="updateArticle")
    def patch(self, data: dict[str, Any], article_id: int) -> Response:
        """Change some fields of an article

        Editors change any article; authors their own; contributors their own drafts.
        """
        article = _article_to_change(article_id)
        data = authorize_article_write(db.session, require_principal(), article, data)
        update_article(db.session, article, data)
        return json_response(_visible_or_404(Article.id == article_id))

    @blp.requires(Role.AUTHOR, own=True)
    @blp.response(204)
    @blp.errors(404)
    @blp.doc(operationId="deleteArticle")
    def delete(self, article_id: int) -> None:
        """Delete an article

        Editors delete any article; authors their own.
        """
        article = _article_to_change(article_id)
        authorize_article_delete(require_principal(), article)
        db.session.delete(article)


@blp.route("/slug/<string:slug>")
class ArticleBySlug(MethodView):
    @blp.response(200, ArticleSchema)
    @blp.errors(401, 404)
    @blp.doc(operationId="getArticleBySlug")
    def get(self, slug: str) -> Response:
        """Get an article by slug"""
        return json_response(_visible_or_404(Article.slug == slug))
