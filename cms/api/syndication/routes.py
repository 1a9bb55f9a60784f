"""Syndication: RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the published articles, site-wide
and per category, tag, author or publication. (Not the ingested sources: those are
/api/v1/feeds.) Validators come before any rendering, as for article lists."""

from collections.abc import Callable
from typing import Any

import orjson
from flask import Response, current_app, request
from flask.views import MethodView

from cms.api.framework import JSON_DUMP_OPTIONS, Blueprint, ChoiceConverter
from cms.cache_tags import show
from cms.caching import conditional, not_modified
from cms.extensions import db
from cms.models import Article
from cms.problems import fail
from cms.services.purging import list_key, stored_article_keys
from cms.services.site_urls import api_url
from cms.services.syndication import (
    SCOPES,
    Channel,
    Scope,
    json_feed,
    newest_articles,
    scoped_channel,
    site_channel,
)
from cms.services.visibility import public_list_etag

blp = Blueprint(
    "syndication",
    __name__,
    url_prefix="/api/v1/syndication",
    description="RSS, Atom and JSON Feed of published articles, for readers and "
    "aggregators (the sources this site ingests are `feeds`)",
)


class ScopeConverter(ChoiceConverter):
    choices = tuple(SCOPES)


# Before the routes below are added: Flask runs a blueprint's records in order.
blp.record_once(lambda state: state.app.url_map.converters.update(syndication_scope=ScopeConverter))

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
SCOPED = "/<syndication_scope:scope>/<string:slug>"
# Settings that change what a feed says: part of every feed's validator.
SETTINGS = (
    "SITE_URL",
    "SITE_NAME",
    "SITE_LANGUAGE",
    "ARTICLE_URL_PATTERN",
    "CATEGORY_URL_PATTERN",
    "TAG_URL_PATTERN",
    "AUTHOR_URL_PATTERN",
    "PUBLICATION_URL_PATTERN",
    "SYNDICATION_ITEMS",
    "SYNDICATION_FULL_CONTENT",
    "PUBLIC_BASE_URL",
)

Render = Callable[[Channel, list[Article], str], Any]
ARTICLE_LIST = list_key("article")  # any article's change may change a feed


# cms.services.feed_formats is imported by the requests that write RSS or Atom: feedgen
# and lxml cost each web worker 5.5 MiB, and most of them never serve a feed.
def _rss(channel: Channel, articles: list[Article], feed_url: str) -> Response:
    from cms.services import feed_formats

    return Response(
        feed_formats.rss(channel, articles, feed_url), content_type=f"{RSS}; charset=utf-8"
    )


def _atom(channel: Channel, articles: list[Article], feed_url: str) -> Response:
    from cms.services import feed_formats

    body = feed_formats.atom(channel, articles, feed_url)
    return Response(body, content_type=f"{ATOM}; charset=utf-8")


def _json(channel: Channel, articles: list[Article], feed_url: str) -> Response:
    body = orjson.dumps(json_feed(channel, articles, feed_url), option=JSON_DUMP_OPTIONS)
    return Response(body, content_type=JSON_FEED)


def feed_response(render: Render, scope: Scope | None = None, slug: str = "") -> Response:
    """The feed of the site (or of one scope's slug): 404 for an unknown slug, 304 for
    a current copy, else the newest public articles rendered."""
    if scope is None:
        channel = site_channel()
    elif (found := scoped_channel(db.session, scope, slug)) is not None:
        channel = found
    else:
        fail(404, detail=f"No such {scope[:-1]}.")
    settings = tuple(current_app.config[name] for name in SETTINGS)
    etag = public_list_etag(db.session, "public", *settings)
    if cached := not_modified(etag):
        return cached
    articles = newest_articles(db.session, channel)
    show([ARTICLE_LIST, *([channel.cache_key] if channel.cache_key else [])])
    show(key for article in articles for key in stored_article_keys(article))
    response: Response = render(channel, articles, api_url(request.path))
    return conditional(response, etag)


def _documented(media_type: str, what: str) -> dict[str, Any]:
    schema = {"type": "object"} if media_type == JSON_FEED else {"type": "string"}
    return {"schema": schema, "content_type": media_type, "description": what}


RSS_DOC = _documented(RSS, "RSS 2.0: the newest published articles, newest first")
ATOM_DOC = _documented(ATOM, "Atom 1.0 (RFC 4287): the newest published articles")
JSON_DOC = _documented(JSON_FEED, "JSON Feed 1.1: the newest published articles")
SCOPED_DESCRIPTION = (
    "`scope` names what `slug` is: a category, tag, author or publication. "
    "Items are the newest SYNDICATION_ITEMS public articles; the whole body or the "
    "excerpt per SYNDICATION_FULL_CONTENT; cover images as enclosures; aggregated items "
    "credit their publication and link to the original."
)


@blp.route("/rss.xml")
class SiteRss(MethodView):
    @blp.response(200, **RSS_DOC)
    @blp.doc(operationId="getSiteRss", description=SCOPED_DESCRIPTION)
    def get(self) -> Response:
        """The site's RSS 2.0 feed"""
        return feed_response(_rss)


@blp.route("/atom.xml")
class SiteAtom(MethodView):
    @blp.response(200, **ATOM_DOC)
    @blp.doc(operationId="getSiteAtom", description=SCOPED_DESCRIPTION)
    def get(self) -> Response:
        """The site's Atom feed"""
        return feed_response(_atom)


@blp.route("/feed.json")
class SiteJsonFeed(MethodView):
    @blp.response(200, **JSON_DOC)
    @blp.doc(operationId="getSiteJsonFeed", description=SCOPED_DESCRIPTION)
    def get(self) -> Response:
        """The site's JSON Feed"""
        return feed_response(_json)


@blp.route(f"{SCOPED}/rss.xml")
class ScopedRss(MethodView):
    @blp.response(200, **RSS_DOC)
    @blp.errors(404)
    @blp.doc(operationId="getScopedRss", description=SCOPED_DESCRIPTION)
    def get(self, scope: Scope, slug: str) -> Response:
        """The RSS 2.0 feed of a category, tag, author or publication"""
        return feed_response(_rss, scope, slug)


@blp.route(f"{SCOPED}/atom.xml")
class ScopedAtom(MethodView):
    @blp.response(200, **ATOM_DOC)
    @blp.errors(404)
    @blp.doc(operationId="getScopedAtom", description=SCOPED_DESCRIPTION)
    def get(self, scope: Scope, slug: str) -> Response:
        """The Atom feed of a category, tag, author or publication"""
        return feed_response(_atom, scope, slug)


@blp.route(f"{SCOPED}/feed.json")
class ScopedJsonFeed(MethodView):
    @blp.response(200, **JSON_DOC)
    @blp.errors(404)
    @blp.doc(operationId="getScopedJsonFeed", description=SCOPED_DESCRIPTION)
    def get(self, scope: Scope, slug: str) -> Response:
        """The JSON Feed of a category, tag, author or publication"""
        return feed_response(_json, scope, slug)
