"""Sitemaps (sitemaps.org 0.9) of the public articles, and a Google News sitemap.

Article sitemaps are pages of fixed id ranges (page n holds ids ((n-1)*size, n*size]):
a page is an index range scan, so page 20 of a million articles costs what page 1
does, and an article stays on its page for good (crawlers see a page change only when
its articles do). A range with no public article has no page. Only the index reads
every public row, once per content state (remembered).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from lxml import etree
from sqlalchemy import ColumnElement, and_, func, select

from cms.caching import remember
from cms.extensions import DB_INT_MAX
from cms.models import Article, utcnow
from cms.services import DbSession
from cms.services.html import xml_text
from cms.services.site_urls import page_url
from cms.services.visibility import epoch, public_now

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_WINDOW = timedelta(days=2)  # Google News takes articles of the last two days
NEWS_MAX_URLS = 1000  # and at most this many per news sitemap


@dataclass(frozen=True)
class SitemapPage:
    number: int
    lastmod: datetime  # the newest edit or appearance among its articles


def _public() -> ColumnElement[bool]:
    return and_(Article.trashed_at.is_(None), public_now())


def article_pages(session: DbSession) -> list[SitemapPage]:
    """The article sitemaps that have a public article, with their lastmod."""
    size = current_app.config["SITEMAP_PAGE_SIZE"]

    def read() -> list[SitemapPage]:
        page = ((Article.id - 1) // size + 1).label("page")
        rows = session.execute(
            select(page, func.max(Article.updated_at), func.max(Article.published_at))
            .where(_public())
            .group_by(page)
            .order_by(page)
        )
        return [SitemapPage(number, max(edited, shown)) for number, edited, shown in rows]

    return remember(("sitemap-pages", size, epoch(session)), read)


def article_page(session: DbSession, number: int) -> list[tuple[int, str, datetime]]:
    """(id, slug, updated_at) of the public articles of page `number`, by id."""
    size = current_app.config["SITEMAP_PAGE_SIZE"]
    first, last = (number - 1) * size + 1, min(number * size, DB_INT_MAX)
    if first > DB_INT_MAX:  # past any id a column can hold (PostgreSQL refuses the bound)
        return []
    rows = session.execute(
        select(Article.id, Article.slug, Article.updated_at)
        .where(_public(), Article.id.between(first, last))
        .order_by(Article.id)
    )
    return [(id_, slug, updated_at) for id_, slug, updated_at in rows]


def news_articles(session: DbSession) -> list[tuple[int, str, str, datetime]]:
    """(id, slug, title, published_at) of the site's own articles published in the
    last two days, newest first. Aggregated items are other publications' reporting:
    Google News would credit them to this one."""
    since = utcnow() - NEWS_WINDOW
    rows = session.execute(
        select(Article.id, Article.slug, Article.title, Article.published_at)
        .where(_public(), Article.source_url.is_(None), Article.published_at > since)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(NEWS_MAX_URLS)
    )
    # (public articles always have a published_at: the filter compares it)
    return [(id_, slug, title, at) for id_, slug, title, at in rows if at is not None]


def sitemap_index(pages: list[SitemapPage], page_url_of: dict[int, str]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for page in pages:
        sitemap = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        _text(sitemap, SITEMAP_NS, "loc", page_url_of[page.number])
        _text(sitemap, SITEMAP_NS, "lastmod", _w3c(page.lastmod))
    return _document(root)


def urlset(rows: list[tuple[int, str, datetime]]) -> bytes:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for id_, slug, updated_at in rows:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        _text(url, SITEMAP_NS, "loc", page_url("article", slug=slug, id=id_))
        _text(url, SITEMAP_NS, "lastmod", _w3c(updated_at))
    return _document(root)


def news_urlset(rows: list[tuple[int, str, str, datetime]]) -> bytes:
    config = current_app.config
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    for id_, slug, title, published_at in rows:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        _text(url, SITEMAP_NS, "loc", page_url("article", slug=slug, id=id_))
        news = etree.SubElement(url, f"{{{NEWS_NS}}}news")
        publication = etree.SubElement(news, f"{{{NEWS_NS}}}publication")
        _text(publication, NEWS_NS, "name", config["SITE_NAME"])
        _text(publication, NEWS_NS, "language", config["SITE_LANGUAGE"])
        _text(news, NEWS_NS, "publication_date", _w3c(published_at))
        _text(news, NEWS_NS, "title", title)
    return _document(root)


def _text(parent: etree._Element, namespace: str, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{namespace}}}{name}").text = xml_text(text)


def _w3c(moment: datetime) -> str:
    """W3C Datetime, as the protocol asks: seconds and the zone."""
    return moment.isoformat(timespec="seconds")


def _document(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
