"""Syndication: the newest public articles of the site, or of one category, tag, author
or publication, as the pieces every feed format shows (cms.services.feed_formats writes
RSS 2.0, Atom 1.0 and JSON Feed 1.1 from them).

One bounded query for the items, relations loaded in bulk (a constant number of
queries however many items). Bodies are the sanitized HTML the article stores.
Aggregated items (those with a source_url) credit their publication and link to the
original.
"""

import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload, selectinload

from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    Image,
    ImageStatus,
    Publication,
    Tag,
)
from cms.services import DbSession
from cms.services.purging import resource_key
from cms.services.site_urls import PageKind, page_url, site_url
from cms.services.visibility import public_now

Scope = Literal["categories", "tags", "authors", "publications"]
SCOPES: dict[
    Scope, tuple[type[Category] | type[Tag] | type[Author] | type[Publication], PageKind]
] = {
    "categories": (Category, "category"),
    "tags": (Tag, "tag"),
    "authors": (Author, "author"),
    "publications": (Publication, "publication"),
}
# Before any content: the `updated` of a feed with no items (Atom requires one, and a
# fixed one keeps the document the same until something appears).
BEFORE_CONTENT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Channel:
    """What a feed is about: the site, or one category, tag, author or publication."""

    title: str
    description: str
    home_url: str  # the public page the feed mirrors (Atom's id and alternate link)
    scope_filter: ColumnElement[bool] | None = None
    cache_key: str | None = None  # what the channel's title and description come from


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int  # 0: not known (a remote image), as RSS practice writes it
    type: str


@dataclass(frozen=True)
class Credit:
    """Whose reporting an aggregated item is, and where the original is."""

    name: str
    url: str  # the publication's site (else the original's)
    original_url: str


def site_channel() -> Channel:
    config = current_app.config
    return Channel(config["SITE_NAME"], f"The newest from {config['SITE_NAME']}", site_url())


def scoped_channel(session: DbSession, scope: Scope, slug: str) -> Channel | None:
    """The channel of one category, tag, author or publication; None if no such slug."""
    model, kind = SCOPES[scope]
    found = cast(
        Category | Tag | Author | Publication | None,
        session.scalar(select(model).where(model.slug == slug)),
    )
    if found is None:
        return None
    title = f"{current_app.config['SITE_NAME']}: {found.name}"
    about = found.bio if isinstance(found, Author) else found.description
    home = page_url(kind, slug=slug, id=found.id)
    return Channel(
        title, about or title, home, _belongs_to(scope, found.id), resource_key(kind, found.id)
    )


def _belongs_to(scope: Scope, id_: int) -> ColumnElement[bool]:
    if scope == "categories":
        return Article.category_id == id_
    if scope == "publications":
        return Article.publication_id == id_
    if scope == "tags":
        return Article.tag_links.any(ArticleTag.tag_id == id_)
    return Article.author_links.any(ArticleAuthor.author_id == id_)


def newest_articles(session: DbSession, channel: Channel) -> list[Article]:
    """The newest SYNDICATION_ITEMS public articles of the channel, with what feeds show
    of their relations (four queries, whatever the count)."""
    query = (
        select(Article)
        .where(Article.trashed_at.is_(None), public_now())
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(current_app.config["SYNDICATION_ITEMS"])
        .options(
            joinedload(Article.category),
            joinedload(Article.publication),
            joinedload(Article.cover_image).selectinload(Image.renditions),
            selectinload(Article.author_links).joinedload(ArticleAuthor.author),
            selectinload(Article.tag_links).joinedload(ArticleTag.tag),
        )
    )
    if channel.scope_filter is not None:
        query = query.where(channel.scope_filter)
    return list(session.scalars(query).unique())


def last_change(articles: list[Article]) -> datetime:
    """When the feed last changed: an article's edit, or its (scheduled) appearance."""
    times = [max(a.updated_at, a.published_at or a.updated_at) for a in articles]
    return max(times, default=BEFORE_CONTENT)


def entry_id(article: Article) -> str:
    """A permanent id (RFC 4151 tag URI) from the article's stable_id: survives slug
    edits, so readers never show a renamed article twice. The date is the naming
    authority's and must never change."""
    return f"tag:{urlsplit(site_url()).hostname},2025:{article.stable_id}"


def article_url(article: Article) -> str:
    return page_url("article", slug=article.slug, id=article.id)


def credit(article: Article) -> Credit | None:
    if article.source_url is None:
        return None
    publication = article.publication
    name = publication.name if publication else urlsplit(article.source_url).hostname or ""
    url = (publication.url if publication else None) or article.source_url
    return Credit(name, url, article.source_url)


def summary_html(article: Article) -> str:
    """The excerpt as HTML, with a credit line for aggregated items ("" for neither)."""
    html = f"<p>{escape(article.excerpt)}</p>" if article.excerpt else ""
    return html + _credit_line(article)


def content_html(article: Article) -> str | None:
    """The whole stored (sanitized) body, with the credit line, when the site
    syndicates full content (SYNDICATION_FULL_CONTENT); else None."""
    if not current_app.config["SYNDICATION_FULL_CONTENT"]:
        return None
    return article.body_html + _credit_line(article)


def _credit_line(article: Article) -> str:
    source = credit(article)
    if source is None:
        return ""
    return f'<p>Source: <a href="{escape(source.original_url)}">{escape(source.name)}</a></p>'


def enclosure(article: Article) -> Enclosure | None:
    """The cover image as an enclosure: its served file's size and type when we made
    it (an upload's rendition), else the type its URL suggests."""
    image = article.cover_image
    if image is None or image.status is not ImageStatus.READY:
        return None
    served = next((r for r in image.renditions if image.url.endswith(r.key)), None)
    if served is not None:
        return Enclosure(image.url, served.bytes, f"image/{served.format}")
    guessed = mimetypes.guess_type(urlsplit(image.url).path)[0]
    return Enclosure(image.url, 0, guessed or "application/octet-stream")


def byline(article: Article) -> list[dict[str, str]]:
    return [
        {
            "name": link.author.name,
            "url": page_url("author", slug=link.author.slug, id=link.author.id),
        }
        for link in article.author_links
    ]


def categories(article: Article) -> list[tuple[str, str]]:
    """(term, label) of the article's category and tags."""
    found = [(article.category.slug, article.category.name)] if article.category else []
    return found + [(link.tag.slug, link.tag.name) for link in article.tag_links]


def json_feed(channel: Channel, articles: list[Article], feed_url: str) -> dict[str, Any]:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1) as a dict, for orjson."""
    config = current_app.config
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": channel.title,
        "home_page_url": channel.home_url,
        "feed_url": feed_url,
        "description": channel.description,
        "language": config["SITE_LANGUAGE"],
        "authors": [{"name": config["SITE_NAME"], "url": site_url()}],
        "items": [_json_item(article) for article in articles],
    }


def _json_item(article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(article),
        "url": article_url(article),
        "title": article.title,
        "content_html": content_html(article) or summary_html(article),
        "date_published": article.published_at,
        "date_modified": article.updated_at,
        "tags": [label for _, label in categories(article)],
    }
    if article.excerpt:
        item["summary"] = article.excerpt
    if authors := byline(article):
        item["authors"] = authors
    if (cover := enclosure(article)) is not None:
        item["image"] = cover.url
        attachment: dict[str, Any] = {"url": cover.url, "mime_type": cover.type}
        if cover.length:
            attachment["size_in_bytes"] = cover.length
        item["attachments"] = [attachment]
    if (source := credit(article)) is not None:
        item["external_url"] = source.original_url
        # An extension (a key starting with "_"), as the spec provides for.
        item["_source"] = {"name": source.name, "url": source.url}
    return item
