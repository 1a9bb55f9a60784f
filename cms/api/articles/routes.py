"""Articles: the list every page starts from, one article by id or slug, and writes."""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from sqlalchemy import BindParameter, bindparam, select

from cms.api.articles.listing import list_articles, project, shape
from cms.api.articles.read import STORY, load_articles, stamp_query
from cms.api.articles.schemas import (
    ARTICLE_INCLUDES,
    ArticleFieldsSchema,
    ArticleIncludeArgs,
    ArticleQueryArgs,
    ArticleSchema,
    ArticleWriteSchema,
)
from cms.api.common import envelope as list_of
from cms.api.framework import Blueprint, json_response
from cms.auth.permissions import (
    NOW,
    article_visibility,
    authorize_article_delete,
    authorize_article_write,
    byline_owed,
    owns,
    require_principal,
)
from cms.auth.principal import Principal, current_principal
from cms.cache_tags import show
from cms.caching import (
    CACHES,
    LRU,
    conditional,
    content_generation,
    fresh_until,
    not_modified,
    require_if_match,
    strong_etag,
    versioned_etag,
)
from cms.extensions import db
from cms.models import Article, ArticleSlug, ArticleStatus, Role, utcnow
from cms.models.base import UTCDateTime
from cms.problems import fail
from cms.raw_reads import raw_fetchone
from cms.revalidation import remember_revalidation
from cms.services.articles import create_article, trash_article, update_article
from cms.services.posts import export_post
from cms.services.purging import stored_article_keys
from cms.services.users import ensure_byline
from cms.services.visibility import catch_up, public_list_etag

blp = Blueprint(
    "articles", __name__, url_prefix="/api/v1/articles", description="Articles, own and aggregated"
)


ANONYMOUS = "anonymous"
MARKDOWN = "text/markdown"
# One article also answers `Accept: text/markdown` (as getArticleMarkdown does). The
# spec documents JSON only there: a second media type makes every generated client type
# the response as "Article or string".
ALSO_MARKDOWN = "With `Accept: text/markdown`: the front-matter post, as getArticleMarkdown."


@dataclass(frozen=True)
class Key:
    """Which article a request names: by its id or by its slug."""

    column: str
    value: int | str


def by_id(article_id: int) -> Key:
    return Key("id", article_id)


def by_slug(slug: str) -> Key:
    return Key("slug", slug)


_KEY: BindParameter[Any] = bindparam("key")
# What anonymous readers may read, by id or slug, built once: the key and the clock
# are bound at execution, so every request runs the same statement.
_PUBLIC_STAMPS = {
    column: stamp_query(rated=False).where(
        getattr(Article, column) == _KEY, *article_visibility(None, now=NOW)
    )
    for column in ("id", "slug")
}


def _stamp(key: Key, principal: Principal | None) -> Any:
    """(id, version, updated_at, unpublish_at) of the article, if the principal may see it."""
    query = _PUBLIC_STAMPS[key.column]
    if principal is not None:
        visible = article_visibility(principal, now=NOW)
        query = stamp_query(rated=False).where(getattr(Article, key.column) == _KEY, *visible)
    return db.session.connection().execute(query, {"key": key.value, "now": utcnow()}).first()


def item_etag(stamp: Any) -> str:
    return versioned_etag(Article.__tablename__, stamp.id, stamp.version, stamp.updated_at)


def _published_stamp() -> Any:
    """The stamp of the public article a by-id or by-slug URL names: anonymous
    revalidation is the hottest request a CDN makes. Kept per content generation (any
    change to content moves it), so where the generation is pushed (PostgreSQL) a
    revalidation reads nothing; the clock is applied here, on every request."""
    args = request.view_args or {}
    column, value = ("id", args["article_id"]) if "article_id" in args else ("slug", args["slug"])
    key = (content_generation(), column, value)
    stamp = _stamps.get(key)
    if stamp is None:
        stamp = _read_published_stamp(column, value) or _NO_STAMP
        _stamps.put(key, stamp)
    now = utcnow()
    if stamp is _NO_STAMP or stamp.published_at is None or stamp.published_at > now:
        return None
    if stamp.unpublish_at is not None and stamp.unpublish_at <= now:
        return None
    return stamp


_NO_STAMP = SimpleNamespace()  # remembered too: a CDN revalidates gone articles as well
_stamps = LRU(size=8192)
CACHES.append(_stamps)


def _read_published_stamp(column: str, value: int | str) -> Any:
    """Read raw (a SQLAlchemy Connection round trip costs a third of a 304)."""
    dialect = db.engine.dialect
    row = raw_fetchone(
        "SELECT id, version, updated_at, published_at, unpublish_at FROM articles "  # noqa: S608
        f"WHERE {column} = ? AND status = 'published' AND trashed_at IS NULL",
        value,
    )  # column is one of two constants
    if row is None:
        return None
    stamp_time = UTCDateTime().process_result_value
    return SimpleNamespace(
        id=row[0],
        version=row[1],
        updated_at=stamp_time(row[2], dialect),
        published_at=stamp_time(row[3], dialect),
        unpublish_at=stamp_time(row[4], dialect),
    )


def _wants_markdown() -> bool:
    if "markdown" not in request.environ.get("HTTP_ACCEPT", "").lower():
        return False  # most requests: no need to parse Accept
    accept = request.accept_mimetypes
    return accept.best_match(["application/json", MARKDOWN]) == MARKDOWN


@blp.before_request
def _revalidate_anonymously() -> Response | None:
    """CDNs and browsers revalidate without credentials: answer their 304s before any
    argument parsing or auth work (the validators need neither). A list's validator
    covers its whole URL, so only a URL that answered 200 can match it; an item's does
    not, so its query must be one the item takes. `*` matches anything: parsed first."""
    if (
        request.method != "GET"
        or request.endpoint not in _JSON_READS
        or not request.if_none_match
        or request.if_none_match.star_tag
        or "HTTP_AUTHORIZATION" in request.environ
    ):
        return None
    if request.endpoint == "articles.Articles":
        etag = _public_list_etag(ANONYMOUS)
        answer = not_modified(etag)
    else:
        if _wants_markdown() or not _only_known_includes():  # markdown: its own validator
            return None
        stamp = _published_stamp()
        if stamp is None:
            return None
        fresh_until(stamp.unpublish_at)
        etag = item_etag(stamp)
        answer = not_modified(etag, stamp.updated_at)
    if answer is not None:
        remember_revalidation(etag)
    return answer


def _public_list_etag(scope: str) -> str:
    return public_list_etag(db.session, scope)


def _only_known_includes() -> bool:
    """Is the query of an item GET nothing but `include` of known relations?"""
    if any(name != "include" for name in request.args):
        return False
    parts = [part for value in request.args.getlist("include") for part in value.split(",")]
    if STORY in parts:  # its validator needs the content generation: the view's
        return False
    return len(parts) <= len(ARTICLE_INCLUDES) and set(parts) <= set(ARTICLE_INCLUDES)


@blp.after_request
def _vary_on_accept(response: Response) -> Response:
    """One article is JSON or a front-matter post, by Accept: caches must key on it,
    for the 304s answered before the view too."""
    if request.method in ("GET", "HEAD") and request.endpoint in _ONE_ARTICLE:
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Accept" if vary else "Accept"
    return response


_ONE_ARTICLE = frozenset({"articles.ArticleById", "articles.ArticleBySlug"})
_JSON_READS = _ONE_ARTICLE | {"articles.Articles"}


def article_response(
    key: Key,
    args: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    renamed_from: str | None = None,
) -> Response:
    """One visible article, with a validator computed before anything is rendered.
    With `renamed_from`, a slug the article had redirects to its current one."""
    stamp = _visible_stamp_or_none(key)
    if stamp is None and renamed_from is not None and (renamed := _renamed(renamed_from)):
        stamp = _visible_stamp_or_none(by_id(renamed))
        if stamp is not None:
            return _moved_to(stamp.id)
    if stamp is None:
        fail(404, detail="No such article.")
    fields, include = shape(args)
    etag = item_etag(stamp)
    if STORY in include:  # the story moves with other articles: any change names it anew
        etag = strong_etag(etag, STORY, content_generation())
    if status == 200 and _wants_markdown():
        return markdown_response(stamp)
    if status == 200 and (cached := not_modified(etag, stamp.updated_at)):
        return cached
    [article] = load_articles(db.session, [stamp], include=include)
    response = json_response(project(article, fields), status, headers)
    return conditional(response, etag, stamp.updated_at)


def visible_stamp(key: Key) -> Any:
    """The stamp of the article `key` names, if the caller may see it; else a 404."""
    stamp = _visible_stamp_or_none(key)
    if stamp is None:
        fail(404, detail="No such article.")
    return stamp


def _visible_stamp_or_none(key: Key) -> Any:
    stamp = _stamp(key, current_principal())
    if stamp is None and catch_up(db.session):  # a scheduled one the scheduler has not flipped
        stamp = _stamp(key, current_principal())
    if stamp is not None:
        fresh_until(stamp.unpublish_at)
    return stamp


def _renamed(slug: str) -> int | None:
    """The article that gave this slug up last (a current slug never gets here)."""
    return db.session.scalar(select(ArticleSlug.article_id).where(ArticleSlug.slug == slug))


def _moved_to(article_id: int) -> Response:
    """301 to the article's current slug URL, with the same query."""
    slug = db.session.scalar(select(Article.slug).where(Article.id == article_id))
    location = url_for("articles.ArticleBySlug", slug=slug)
    if request.query_string:
        location = f"{location}?{request.query_string.decode()}"
    # Revalidated on every use: a rename back, a takedown or a new holder of the slug
    # must not meet a cached redirect (a CDN could bounce between two slugs).
    response = Response(status=301, headers={"Location": location, "Cache-Control": "no-cache"})
    response.vary.add("Authorization")
    return response


def markdown_response(stamp: Any) -> Response:
    """The article as the site's front-matter post. Its editors and its own authors get
    the body as written (lossless, what `flask cms export` writes); other readers get
    the sanitized body_html: the source may hold markup the sanitizer removes, and a
    site build or a browser may trust a post it fetched from here."""
    article = db.session.get(Article, stamp.id)
    assert article is not None  # just stamped, in this transaction
    show(stored_article_keys(article))
    as_written = _may_edit(current_principal(), article)
    version = "as written" if as_written else "sanitized"
    etag = strong_etag(item_etag(stamp), MARKDOWN, version)
    if cached := not_modified(etag, stamp.updated_at):
        return cached
    response = Response(export_post(article, as_written=as_written), mimetype=MARKDOWN)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return conditional(response, etag, stamp.updated_at)


def _may_edit(principal: Principal | None, article: Article) -> bool:
    """Editors, and the article's own authors (whose text it is)."""
    if principal is None:
        return False
    return principal.at_least(Role.EDITOR) or owns(principal, article)


def article_to_change(article_id: int) -> Article:
    """The article for a write: 404 unless the caller may at least see it."""
    visible = db.session.scalar(
        select(Article.id).where(Article.id == article_id, *article_visibility(current_principal()))
    )
    article = db.session.get(Article, visible) if visible is not None else None
    if article is None:
        fail(404, detail="No such article.")
    return article


@blp.route("")
class Articles(MethodView):
    @blp.arguments(ArticleQueryArgs, location="query")
    @blp.response(200, list_of(ArticleSchema, ArticleFieldsSchema))
    @blp.errors("invalid_cursor", "missing_token")
    @blp.doc(operationId="listArticles")
    def get(self, args: dict[str, Any]) -> Response:
        """List articles: filter, sort, search, shape and page

        Anonymous readers get published articles only and cannot ask for another
        status; contributors and authors also see their own unpublished work, editors
        all. Answers 304 to a current If-None-Match without running the list query.
        """
        principal = current_principal()
        if (
            principal is None
            and args.get("status", ArticleStatus.PUBLISHED) is not ArticleStatus.PUBLISHED
        ):
            fail(401, "missing_token", "Log in to list articles that are not published.")
        etag = _public_list_etag(principal.scope if principal else ANONYMOUS)
        if cached := not_modified(etag):
            return cached
        return conditional(json_response(list_articles(args, principal)), etag)

    @blp.requires(Role.CONTRIBUTOR)
    @blp.arguments(ArticleWriteSchema)
    @blp.response(201, ArticleSchema)
    @blp.errors(409)
    @blp.doc(operationId="createArticle")
    def post(self, data: dict[str, Any]) -> Response:
        """Create an article

        The slug is generated from the title unless given; body_html is sanitized,
        body_markdown is rendered then sanitized. Below editor, the caller is credited
        (and must stay credited), fields marked "Editors only" are a 403, and a slug
        another article has becomes the next free one (`slug-2`, as generated slugs
        do) rather than a 409 that would reveal hidden drafts; contributors create
        drafts only.
        """
        principal = require_principal()
        data = authorize_article_write(db.session, principal, None, data)
        if (user_id := byline_owed(principal, data)) is not None:
            data = {**data, "author_ids": [ensure_byline(db.session, user_id).id]}
        article = create_article(db.session, data)
        location = url_for("articles.ArticleById", article_id=article.id)
        return article_response(by_id(article.id), {}, 201, {"Location": location})


@blp.route("/<int:article_id>")
class ArticleById(MethodView):
    @blp.arguments(ArticleIncludeArgs, location="query")
    @blp.response(200, ArticleSchema)
    @blp.errors(404)
    @blp.doc(operationId="getArticle", description=ALSO_MARKDOWN)
    def get(self, args: dict[str, Any], article_id: int) -> Response:
        """Get an article by id"""
        return article_response(by_id(article_id), args)

    @blp.requires(Role.CONTRIBUTOR, own=True)
    @blp.arguments(ArticleWriteSchema(partial=True))
    @blp.response(200, ArticleSchema)
    @blp.errors(404, 409)
    @blp.doc(operationId="updateArticle")
    def patch(self, data: dict[str, Any], article_id: int) -> Response:
        """Change some fields of an article

        Needs If-Match with the article's current ETag. Editors change any article;
        authors their own; contributors their own drafts. Below editor, fields marked
        "Editors only" cannot change, and a taken slug becomes the next free one.
        """
        article = article_to_change(article_id)
        data = authorize_article_write(db.session, require_principal(), article, data)
        require_if_match(item_etag(article))
        update_article(db.session, article, data)
        return article_response(by_id(article_id), {})

    @blp.requires(Role.AUTHOR, own=True)
    @blp.response(204)
    @blp.errors(404)
    @blp.doc(operationId="deleteArticle")
    def delete(self, article_id: int) -> None:
        """Move an article to the trash

        Needs If-Match. Editors trash any article; authors their own. A trashed
        article is gone from every read, search and count; its slug and resource_id
        stay taken. Editors restore it from the trash or purge it; it is purged by
        itself after TRASH_KEEP_DAYS.
        """
        article = article_to_change(article_id)
        authorize_article_delete(require_principal(), article)
        require_if_match(item_etag(article))
        trash_article(article)


@blp.route("/slug/<string:slug>")
class ArticleBySlug(MethodView):
    @blp.arguments(ArticleIncludeArgs, location="query")
    @blp.response(200, ArticleSchema)
    @blp.errors(404)
    @blp.doc(operationId="getArticleBySlug", description=ALSO_MARKDOWN)
    @blp.alt_response(
        301, description="Moved Permanently: the slug was renamed; Location has the current URL"
    )
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get an article by slug

        A slug the article had before answers 301 with the current one in Location.
        """
        return article_response(by_slug(slug), args, renamed_from=slug)
