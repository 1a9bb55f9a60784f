"""Reading RSS and Atom documents into plain entries (feedparser, fed bytes, never URLs).

feedparser's own sanitizer and relative-URI pass are switched off: they cost more than
half of its time, and every body goes through nh3 anyway, which resolves relative links
against the feed's address as it sanitizes (services.html.sanitize_html).
"""

import hashlib
import html
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from cms.services.html import html_to_text, sanitize_html
from cms.services.identifiers import resource_id_for

MAX_TAGS = 10
MAX_NAME = 120
MAX_TITLE = 500
MAX_EXCERPT = 1000
MAX_LINK = 2048  # longer source URLs are not kept (nor are their items)


class FeedParseError(Exception):
    """The bytes are not a feed (nothing usable could be read)."""


@dataclass
class Entry:
    guid_hash: str
    link: str
    resource_id: str  # of the link: the dedup key across feeds and imports
    title: str
    excerpt: str
    body_html: str
    published_at: datetime | None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class ParsedFeed:
    title: str
    entries: list[Entry]
    skipped: int  # items without a usable http(s) link
    warning: str | None  # feedparser read it, but the document is not well-formed


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """The entries of a feed fetched from `url`; relative links resolve against it."""
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": content_type or "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    warning = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else None
    if not parsed.entries and (warning or parsed.get("version", "") == ""):
        raise FeedParseError(f"Not a readable RSS or Atom feed ({warning or 'no feed found'}).")
    entries: list[Entry] = []
    skipped = 0
    for raw in parsed.entries:
        entry = _entry(raw, url)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    return ParsedFeed(_text(parsed.feed, "title") or url, entries, skipped, warning)


def _entry(raw: Any, feed_url: str) -> Entry | None:
    link = urljoin(feed_url, _clean(raw.get("link") or "")).strip()
    if urlsplit(link).scheme not in ("http", "https") or link == feed_url or len(link) > MAX_LINK:
        return None
    content = raw.get("content") or []
    body = content[0].get("value", "") if content else raw.get("summary", "")
    summary = raw.get("summary", "")
    return Entry(
        guid_hash=hashlib.sha256((raw.get("id") or link).encode("utf-8", "replace")).hexdigest(),
        link=link,
        resource_id=resource_id_for(link),
        title=(_text(raw, "title") or link)[:MAX_TITLE],
        excerpt=_plain(summary)[:MAX_EXCERPT],
        body_html=sanitize_html(_clean(body), base_url=feed_url),
        published_at=_moment(raw.get("published_parsed") or raw.get("updated_parsed")),
        authors=_names(author.get("name") for author in raw.get("authors", [])),
        tags=_names(tag.get("term") for tag in raw.get("tags", []))[:MAX_TAGS],
    )


def _text(node: Any, key: str) -> str:
    """A title as plain text, whether the feed gave it as text or as HTML."""
    value = _clean(str(node.get(key) or ""))
    detail = node.get(f"{key}_detail") or {}
    return _plain(value) if "html" in detail.get("type", "") else " ".join(value.split())


def _plain(markup: str) -> str:
    return _clean(html.unescape(html_to_text(_clean(markup))))


def _clean(text: str) -> str:
    """NUL has no place in text (and PostgreSQL refuses it); the loose parser keeps it."""
    return text.replace("\x00", "")


def _names(values: Any) -> list[str]:
    names: list[str] = []
    for value in values:
        name = " ".join(_clean(str(value or "")).split())[:MAX_NAME]
        if name and name not in names:
            names.append(name)
    return names


def _moment(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
