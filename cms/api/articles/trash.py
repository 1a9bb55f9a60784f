"""The trash (editors): what DELETE moved there, to restore or purge for good."""

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlalchemy import func, select

from cms.api.articles.read import load_articles, stamp_query
from cms.api.articles.routes import article_response, blp, by_id, item_etag
from cms.api.articles.schemas import ArticleSchema, TrashedArticleSchema
from cms.api.common import PageArgs, list_envelope
from cms.api.common import envelope as list_of
from cms.api.framework import json_response
from cms.caching import require_if_match
from cms.extensions import db
from cms.models import Article, Role
from cms.problems import fail
from cms.services.articles import delete_article, restore_article

_IN_TRASH = Article.trashed_at.is_not(None)


def _trashed(article_id: int) -> Article:
    article = db.session.scalar(select(Article).where(Article.id == article_id, _IN_TRASH))
    if article is None:
        fail(404, detail="No such article in the trash.")
    return article


@blp.route("/trash")
class Trash(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, list_of(TrashedArticleSchema))
    @blp.doc(operationId="listTrashedArticles")
    def get(self, args: dict[str, Any]) -> Response:
        """List the trash, most recently trashed first"""
        page, page_size = args["page"], args["page_size"]
        query = (
            stamp_query(rated=False)
            .add_columns(Article.trashed_at)
            .where(_IN_TRASH)
            .order_by(Article.trashed_at.desc(), Article.id.desc())
        )
        stamps = db.session.execute(query.offset((page - 1) * page_size).limit(page_size + 1))
        rows = stamps.all()
        trashed_at = {row.id: row.trashed_at for row in rows}
        articles = load_articles(db.session, rows[:page_size])
        for article in articles:
            article["trashed_at"] = trashed_at[article["id"]]
        total = db.session.scalar(select(func.count()).select_from(Article).where(_IN_TRASH))
        envelope = list_envelope(
            articles, page=page, page_size=page_size, total=total, more=len(rows) > page_size
        )
        return json_response(envelope)


@blp.route("/trash/<int:article_id>")
class TrashedArticle(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(204)
    @blp.errors(404)
    @blp.doc(operationId="purgeArticle")
    def delete(self, article_id: int) -> None:
        """Purge an article from the trash

        Deleted for good, with its links, old slugs and search row. Needs If-Match.
        """
        article = _trashed(article_id)
        require_if_match(item_etag(article))
        delete_article(db.session, article)


@blp.route("/<int:article_id>/restore")
class ArticleRestore(MethodView):
    @blp.requires(Role.EDITOR)
    @blp.response(200, ArticleSchema)
    @blp.errors(404)
    @blp.doc(operationId="restoreArticle")
    def post(self, article_id: int) -> Response:
        """Restore an article from the trash

        It is back where it was: the same status, slug and relations.
        """
        restore_article(_trashed(article_id))
        db.session.flush()
        return article_response(by_id(article_id), {})
