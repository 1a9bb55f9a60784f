"""Reading a feed document into plain items: feedparser-rs first, feedparser as the
fallback and the reference.

feedparser-rs (Rust, quick-xml) reads a well-formed feed about 50 times faster than
feedparser (bench/parsers.py) and gives the same feedparser-shaped result. It has no DTD
processing at all: external entities are never read and no entity is ever expanded from
a DOCTYPE, so XXE and billion laughs are inert by construction; ParserLimits bound the
rest. feedparser reads the document instead when the fast read may be wrong:
- feedparser-rs raises, or finds the document not well-formed (bozo): feedparser's
  recovery (undefined HTML entities, wrong or exotic charsets) is the reference, and its
  complaint becomes the feed's warning;
- the HTTP header or the XML declaration names a charset other than UTF-8: feedparser-rs
  sees no headers, and turns what it cannot decode into U+FFFD without a word (so a
  U+FFFD in a title or body sends the document to feedparser too);
- fewer items came out than the document has <item>/<entry> start tags (one regex scan),
  or an item came out with no link or no title: fields may have been lost.
"""

import io
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

# Both parsers are imported where a feed is read (a job, in the worker): they cost each
# web worker 5 MiB (feedparser-rs 4.2, feedparser 0.8), and no web request reads a feed.
if TYPE_CHECKING:
    import feedparser_rs

FAST = "feedparser-rs"
REFERENCE = "feedparser"
_ITEM_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}


@cache
def fast_limits() -> "feedparser_rs.ParserLimits":
    """The fetch already caps a document's bytes (FETCH_MAX_BYTES); this caps what fits
    in it."""
    import feedparser_rs

    return feedparser_rs.ParserLimits(max_entries=100_000, max_feed_size_bytes=64 * 1024 * 1024)


@dataclass
class RawItem:
    """One item as the document gave it: text not yet cleaned, links not yet resolved."""

    guid: str
    link: str
    title: str
    title_is_html: bool
    summary: str
    body: str  # the full content when given, else the summary
    published: time.struct_time | None
    authors: list[str]
    tags: list[str]


@dataclass
class RawFeed:
    title: str
    title_is_html: bool
    version: str  # "rss20", "atom10"...; "" when no feed was recognised
    items: list[RawItem]
    warning: str | None  # read, but the document is not well-formed
    parser: str  # FAST or REFERENCE


def read_feed(body: bytes, content_type: str | None = None) -> RawFeed:
    """The feed in `body`, read by the fast parser when it reads it well, else by
    feedparser."""
    return read_fast(body, content_type) or read_reference(body, content_type)


def read_fast(body: bytes, content_type: str | None = None) -> RawFeed | None:
    """feedparser-rs's reading, or None when feedparser should read the document."""
    if not _utf8(_CHARSET.search(content_type or "")) or not _utf8(_DECLARED.match(body)):
        return None
    import feedparser_rs

    try:
        parsed = feedparser_rs.parse_with_limits(
            body, limits=fast_limits(), sanitize_html=False, resolve_relative_uris=False
        )
    except Exception:  # whatever the fast path fails on, the reference reads
        return None
    if parsed.bozo or len(parsed.entries) < len(_ITEM_TAG.findall(body)):
        return None
    feed = _raw_feed(parsed, FAST)
    if any(not item.link or not item.title for item in feed.items) or _replaced(feed):
        return None
    return feed


def _replaced(feed: RawFeed) -> bool:
    """U+FFFD: bytes that were not UTF-8 after all (feedparser says so, and may decode
    them)."""
    texts = [feed.title, *(text for i in feed.items for text in (i.title, i.summary, i.body))]
    return any("\ufffd" in text for text in texts)


def _utf8(charset: re.Match[Any] | None) -> bool:
    """No charset named, or UTF-8 (or its subset ASCII)."""
    if charset is None:
        return True
    name = charset.group(1)
    return (name.decode("ascii") if isinstance(name, bytes) else name).lower() in _UTF8


def read_reference(body: bytes, content_type: str | None = None) -> RawFeed:
    """feedparser's reading. Its sanitizer and relative-URI pass are off: they cost more
    than half its time, and every body goes through nh3, which resolves links as it
    sanitizes (services.html.sanitize_html)."""
    import feedparser

    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": content_type or "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    return _raw_feed(parsed, REFERENCE)


def _raw_feed(parsed: Any, parser: str) -> RawFeed:
    """Both parsers' results have feedparser's shape; feedparser-rs's nested values are
    objects where feedparser's are dicts, so fields are read as attributes."""
    warning = str(_get(parsed, "bozo_exception") or "not well-formed") if parsed.bozo else None
    feed = _get(parsed, "feed")
    return RawFeed(
        title=_str(feed, "title"),
        title_is_html=_is_html(feed, parser),
        version=_str(parsed, "version"),
        items=[_raw_item(entry, parser) for entry in parsed.entries],
        warning=warning,
        parser=parser,
    )


def _raw_item(entry: Any, parser: str) -> RawItem:
    content = _get(entry, "content") or []
    summary = _str(entry, "summary")
    return RawItem(
        guid=_str(entry, "id"),
        link=_str(entry, "link"),
        title=_str(entry, "title"),
        title_is_html=_is_html(entry, parser),
        summary=summary,
        body=_str(content[0], "value") if content else summary,
        published=_get(entry, "published_parsed") or _get(entry, "updated_parsed"),
        authors=_authors(entry, parser),
        tags=_strings(_get(tag, "term") for tag in _get(entry, "tags") or []),
    )


def _authors(entry: Any, parser: str) -> list[str]:
    """feedparser-rs keeps an RSS <author> in author_detail only, not in authors."""
    people = list(_get(entry, "authors") or [])
    if parser == FAST:
        people.insert(0, _get(entry, "author_detail"))
    names = _strings(_get(person, "name") for person in people)
    return list(dict.fromkeys(names))


def _is_html(node: Any, parser: str) -> bool:
    """Whether a title is markup. feedparser-rs calls every title text/html, so there
    only a title that contains markup or an escaped character counts as HTML."""
    detail = _get(node, "title_detail")
    if "html" not in str(_get(detail, "type") or ""):
        return False
    return parser == REFERENCE or any(c in _str(node, "title") for c in "<&")


def _get(node: Any, name: str) -> Any:
    if node is None:
        return None
    get = getattr(node, "get", None)  # both parsers' FeedParserDicts; else an object
    return get(name) if callable(get) else getattr(node, name, None)


def _str(node: Any, name: str) -> str:
    value = _get(node, name)
    return value if isinstance(value, str) else ""


def _strings(values: Iterable[Any]) -> list[str]:
    return [value for value in values if isinstance(value, str)]
