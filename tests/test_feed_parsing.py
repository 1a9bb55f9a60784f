"""The fast parser (feedparser-rs) against feedparser, the reference: the same entries
from the same documents, and both safe on hostile ones by their own settings."""

import time
import tracemalloc
from dataclasses import asdict
from typing import Any

import feedparser_rs
import pytest

from bench.ingest import feed_document
from cms.services.feed_parsing import FAST, fast_limits, read_fast, read_feed, read_reference
from cms.services.feeds import FeedParseError, ParsedFeed, entries_of
from tests.test_feed_corpus import CORPUS, headers_of
from tests.test_feeds import item, rss

URL = "https://feeds.example.com/feed.xml"

# Where the fast path (after its fallback rule) and feedparser still differ, and why.
KNOWN_DIFFERENCES = {
    # Atom 0.3 mode="base64": feedparser-rs does not decode it. Only a feed title, which
    # is used only when the feed was added without one.
    "wellformed/atom10/feed_title_base64.xml": "feed title",
    "wellformed/atom10/feed_title_base64_2.xml": "feed title",
    # An <image> inside a <category>: feedparser-rs takes the image's <link> as the
    # item's (one article more, pointing at the image's page); feedparser finds no link.
    "wellformed/rss/item_category_image.xml": "items",
    # An empty channel with an element of an unbound prefix: feedparser calls the
    # document broken (an error, as nothing else is in it); feedparser-rs an empty feed.
    "illformed/undeclared_namespace.xml": "error",
}


def our_feeds() -> dict[str, bytes]:
    """The shapes our own ingest tests and benchmark use."""
    more = "<author>jane@example.com (Jane Doe)</author><category>AI</category>"
    return {
        "ours/items": rss(item(1, more=more), item(2), item(3)).encode(),
        "ours/entities": rss(
            "<item><title>AT&amp;T &#8211; caf&#233;</title><link>/news/42?a=1&amp;id=7</link>"
            "<description>&lt;p&gt;See &lt;a href=&quot;../q3.html&quot;&gt;it&lt;/a&gt;"
            "&lt;/p&gt;</description></item>"
        ).encode(),
        "ours/bench": feed_document(300),
    }


def corpus() -> dict[str, tuple[bytes, str | None]]:
    documents = {
        p.relative_to(CORPUS).as_posix(): p.read_bytes() for p in sorted(CORPUS.rglob("*.xml"))
    }
    documents.update(our_feeds())
    return {
        name: (body, headers_of(body)["Content-Type"] if "Header:" in str(body[:400]) else None)
        for name, body in documents.items()
    }


def stored(read: Any) -> tuple[str, list[dict[str, Any]]] | str:
    """What ingest would store from a reading: the feed's title and its entries."""
    try:
        parsed: ParsedFeed = entries_of(read, URL)
    except FeedParseError:
        return "error"
    return parsed.title, [asdict(entry) for entry in parsed.entries]


def difference(fast: Any, reference: Any) -> str | None:
    if fast == reference:
        return None
    if "error" in (fast, reference):
        return "error"
    if len(fast[1]) != len(reference[1]):
        return "items"
    for mine, theirs in zip(fast[1], reference[1], strict=True):
        fields = [key for key in mine if mine[key] != theirs[key]]
        if fields:
            return ", ".join(fields)
    return "feed title"


def test_the_fast_path_stores_what_feedparser_stores() -> None:
    differences, fast_reads = {}, 0
    for name, (body, content_type) in corpus().items():
        fast = read_fast(body, content_type)
        if fast is None:
            continue  # read by feedparser itself
        fast_reads += 1
        found = difference(stored(fast), stored(read_reference(body, content_type)))
        if found:
            differences[name] = found

    assert differences == KNOWN_DIFFERENCES
    # Most of the corpus falls back: its feeds test one element each, in items that have
    # no link or no title, or are not well-formed on purpose.
    assert fast_reads >= 160


def test_our_feeds_take_the_fast_path() -> None:
    for body in our_feeds().values():
        assert read_feed(body).parser == FAST


def test_a_broken_document_falls_back_to_feedparser_with_its_warning() -> None:
    body = rss(
        "<item><title>Story</title><link>https://n.example/1</link>"
        "<description>caf&eacute;&nbsp;au lait</description></item>"
    ).encode()

    read = read_feed(body)

    assert read.parser == "feedparser"
    assert read.warning
    assert "undefined entity" in read.warning
    assert read.items[0].summary == "caf\u00e9\u00a0au lait"


def xxe() -> bytes:
    doctype = '<!DOCTYPE rss [<!ENTITY file SYSTEM "file:///etc/passwd">]>'
    body = rss(item(1, more="<description>Leak: &file;</description>"))
    return body.replace("<rss", doctype + "<rss", 1).encode()


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1 if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    body = rss(item(1, more="<description>&lol9;</description>"))
    return body.replace("<rss", f"<!DOCTYPE rss [{entities}]><rss", 1).encode()


def huge_attributes() -> bytes:
    """Attributes of 8 MB each on the channel and on an item's link (an attribute has
    no length limit in either parser: the fetch's byte cap is the bound)."""
    big = "a" * 8_000_000
    body = rss(item(1, more=f'<enclosure url="https://e.com/{big}" type="{big}"/>'))
    return body.replace("<channel>", f'<channel x="{big}">', 1).encode()


def fast_parser(body: bytes) -> Any:
    """feedparser-rs as read_fast calls it, before its fallback rule looks at the result."""
    return feedparser_rs.parse_with_limits(
        body, limits=fast_limits(), sanitize_html=False, resolve_relative_uris=False
    )


PARSERS = [
    pytest.param(fast_parser, id="feedparser-rs"),
    pytest.param(read_reference, id="feedparser"),
]


@pytest.mark.parametrize("parse", PARSERS)
def test_xxe_reads_no_file(parse: Any) -> None:
    assert "root:" not in repr(parse(xxe()))


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize("document", [billion_laughs, huge_attributes])
def test_entity_bombs_and_huge_attributes_stay_small_and_quick(parse: Any, document: Any) -> None:
    body = document()
    tracemalloc.start()
    started = time.process_time()  # this process's CPU: other work on the machine is not counted
    try:
        result = repr(parse(body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert time.process_time() - started < 15  # an expansion takes minutes
    # The document held a few times over, never the expansion (3 GB for the laughs).
    assert peak < 10 * len(body) + 40_000_000
    assert len(result) < 3 * len(body) + 100_000
