"""Feed documents into plain entries, ready to store: links resolved against the feed's
address, titles as text, bodies sanitized (the document is read in feed_parsing)."""

import hashlib
import html
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from cms.services.feed_parsing import RawFeed, RawItem, read_feed
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
    return entries_of(read_feed(body, content_type), url)


def entries_of(raw: RawFeed, url: str) -> ParsedFeed:
    """A feed is unreadable only when nothing usable came out: no item, and no feed
    either (no feed recognised, or a broken document without even a title). A broken
    one that was recovered is read, with a warning."""
    if not raw.items and (not raw.version or (raw.warning and not raw.title)):
        reason = raw.warning or "no feed found"
        raise FeedParseError(f"Not a readable RSS or Atom feed ({reason}).")
    entries: list[Entry] = []
    skipped = 0
    for item in raw.items:
        entry = _entry(item, url)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    title = _text(raw.title, raw.title_is_html) or url
    return ParsedFeed(title, entries, skipped, raw.warning)


def _entry(item: RawItem, feed_url: str) -> Entry | None:
    link = urljoin(feed_url, _clean(item.link)).strip()
    if urlsplit(link).scheme not in ("http", "https") or link == feed_url or len(link) > MAX_LINK:
        return None
    return Entry(
        guid_hash=hashlib.sha256((item.guid or link).encode("utf-8", "replace")).hexdigest(),
        link=link,
        resource_id=resource_id_for(link),
        title=(_text(item.title, item.title_is_html) or link)[:MAX_TITLE],
        excerpt=_plain(item.summary)[:MAX_EXCERPT],
        body_html=sanitize_html(_clean(item.body), base_url=feed_url),
        published_at=_moment(item.published),
        authors=_names(item.authors),
        tags=_names(item.tags)[:MAX_TAGS],
    )


def _text(value: str, is_html: bool) -> str:
    """A title as plain text, whether the feed gave it as text or as HTML."""
    value = _clean(value)
    return _plain(value) if is_html else " ".join(value.split())


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
