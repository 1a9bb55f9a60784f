"""Sitemaps of the public articles for search engines: an index of paged article
sitemaps and a Google News sitemap. URLs are the public site's (SITE_URL and the URL
patterns); the sitemaps' own are this API's (PUBLIC_BASE_URL)."""

from typing import Any

import marshmallow as ma
from flask import Response, current_app, url_for
from flask.views import MethodView

from cms.api.common import QueryInteger
from cms.api.framework import Blueprint
from cms.cache_tags import show
from cms.caching import conditional, fresh_until, not_modified
from cms.extensions import DB_INT_MAX, db
from cms.models import utcnow
from cms.problems import fail
from cms.services.purging import list_key
from cms.services.site_urls import api_url
from cms.services.visibility import catch_up, next_change, public_list_etag

# cms.services.sitemaps is imported by the requests that write a sitemap: its lxml costs
# each web worker 4.7 MiB, and most of them never serve one.

blp = Blueprint(
    "sitemaps",
    __name__,
    url_prefix="/api/v1/sitemaps",
    description="Sitemaps (sitemaps.org) and a Google News sitemap of published articles",
)

XML = "application/xml"
SETTINGS = ("SITE_URL", "ARTICLE_URL_PATTERN", "SITEMAP_PAGE_SIZE", "PUBLIC_BASE_URL")


class SitemapPageArgs(ma.Schema):
    page = QueryInteger(
        load_default=1,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
        metadata={"description": "1-based; the index lists the pages there are"},
    )


def _xml(body: bytes) -> Response:
    return Response(body, content_type=f"{XML}; charset=utf-8")


ARTICLE_LIST = list_key("article")  # any article's change may change a sitemap


def _etag() -> str:
    show([ARTICLE_LIST])
    settings = tuple(current_app.config[name] for name in SETTINGS)
    return public_list_etag(db.session, "public", *settings)


def _documented(what: str) -> dict[str, Any]:
    return {"schema": {"type": "string"}, "content_type": XML, "description": what}


@blp.route("/index.xml")
class SitemapIndex(MethodView):
    @blp.response(200, **_documented("A sitemap index (sitemaps.org 0.9) of the article sitemaps"))
    @blp.doc(operationId="getSitemapIndex")
    def get(self) -> Response:
        """The sitemap index

        Lists each article sitemap page that has a public article, with the newest
        change among its articles as lastmod. Submit it to search engines.
        """
        from cms.services import sitemaps  # deferred, see the imports

        etag = _etag()
        if cached := not_modified(etag):
            return cached
        pages = sitemaps.article_pages(db.session)
        path = url_for("sitemaps.ArticleSitemap")
        locations = {page.number: api_url(f"{path}?page={page.number}") for page in pages}
        return conditional(_xml(sitemaps.sitemap_index(pages, locations)), etag)


@blp.route("/articles.xml")
class ArticleSitemap(MethodView):
    @blp.arguments(SitemapPageArgs, location="query")
    @blp.response(
        200, **_documented("A sitemap (sitemaps.org 0.9) of up to SITEMAP_PAGE_SIZE articles")
    )
    @blp.errors(404)
    @blp.doc(operationId="getArticleSitemap")
    def get(self, args: dict[str, Any]) -> Response:
        """One page of the article sitemap

        Page n holds the public articles with ids in ((n-1)*size, n*size], size being
        SITEMAP_PAGE_SIZE (50,000): every page costs the same to read. A page with no
        public article is a 404 (the index does not list it).
        """
        from cms.services import sitemaps  # deferred, see the imports

        etag = _etag()
        if cached := not_modified(etag):
            return cached
        rows = sitemaps.article_page(db.session, args["page"])
        if not rows:
            fail(404, detail="No such sitemap page: the index lists the pages there are.")
        return conditional(_xml(sitemaps.urlset(rows)), etag)


@blp.route("/news.xml")
class NewsSitemap(MethodView):
    @blp.response(200, **_documented("A Google News sitemap: the last two days' articles"))
    @blp.doc(operationId="getNewsSitemap")
    def get(self) -> Response:
        """The Google News sitemap

        The site's own articles (not aggregated ones) published in the last two days,
        newest first, at most 1,000, with SITE_NAME and SITE_LANGUAGE as the
        publication. Its ETag is its content's; caches keep it no longer than until
        its oldest article leaves the window.
        """
        from cms.services import sitemaps  # deferred, see the imports

        catch_up(db.session)  # a scheduled article whose time came is in, flipped or not
        fresh_until(next_change(db.session))
        show([ARTICLE_LIST])
        rows = sitemaps.news_articles(db.session)
        if rows:
            leaves = min(published for *_, published in rows) + sitemaps.NEWS_WINDOW
            fresh_until(max(leaves, utcnow()))
        return _xml(sitemaps.news_urlset(rows))
