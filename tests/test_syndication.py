"""Issue 15: RSS 2.0, Atom 1.0 and JSON Feed 1.1 of published content. Each parses with
feedparser without a bozo flag and keeps its format's rules (Atom's checked in Python:
RFC 4287's RELAX NG could not be had offline; see tests/schemas/README.md); JSON Feed
validates against its schema. Public means public at that instant: clocks are moved."""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from cms.extensions import db
from cms.models import ArticleStatus, Rendition, utcnow
from tests.conftest import remove
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PublicationFactory,
    TagFactory,
)

SITE = "/api/v1/syndication"
FORMATS = ("rss.xml", "atom.xml", "feed.json")
ATOM = "{http://www.w3.org/2005/Atom}"
JSON_FEED_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "jsonfeed-1.1.schema.json").read_text()
)


@pytest.fixture(autouse=True)
def site(app: Flask) -> Iterator[None]:
    """A configured public site and API origin (feeds carry absolute URLs)."""
    saved = {key: app.config[key] for key in ("SITE_URL", "PUBLIC_BASE_URL", "SITE_NAME")}
    app.config.update(
        SITE_URL="https://news.example",
        PUBLIC_BASE_URL="https://cms.news.example",
        SITE_NAME="The Example News",
    )
    yield
    app.config.update(saved)


def entries(client: FlaskClient, url: str) -> list[str]:
    """Titles of the items of any of the three formats, checked to be well-formed."""
    response = client.get(url)
    assert response.status_code == 200, response.data
    if url.endswith(".json"):
        return [item["title"] for item in checked_json_feed(response)["items"]]
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


def checked_json_feed(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/feed+json"
    feed = response.json if response.is_json else json.loads(response.data)
    validator = jsonschema.Draft202012Validator(
        JSON_FEED_SCHEMA, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(feed)
    for item in feed["items"]:  # `format: uri` needs a package jsonschema lacks here
        for key in ("url", "external_url", "image"):
            if key in item:
                assert absolute(item[key]), item[key]
    return dict(feed)


def absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


# RFC 4287's own RELAX NG schema (appendix B, tests/schemas/atom.rnc), in the XML
# syntax lxml reads (converted with rnc2rng 2.7.0; see tests/schemas/README.md).
ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parent / "schemas" / "atom.rng")))


def check_atom(document: bytes) -> etree._Element:
    """Valid by RFC 4287's schema, and by the rules beyond it (its Schematron notes
    and the prose): feed and entries have one id (an absolute IRI), title and updated
    (RFC 3339); an entry has at most one alternate link (per type and language) and an
    author unless the feed has one."""
    feed = etree.fromstring(document)
    assert ATOM_SCHEMA.validate(feed), ATOM_SCHEMA.error_log
    assert feed.tag == f"{ATOM}feed"
    for element in [feed, *feed.findall(f"{ATOM}entry")]:
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, (element.tag, name)
        assert urlsplit(element.findtext(f"{ATOM}id")).scheme
        for name in ("updated", "published"):
            if (value := element.findtext(f"{ATOM}{name}")) is not None:
                rfc3339(value)
        alternates = [
            (link.get("type"), link.get("hreflang"))
            for link in element.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == len(set(alternates)) <= 1, alternates
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert [link.get("rel") for link in feed.findall(f"{ATOM}link")] == ["self", "alternate"]
    return feed


def check_rss(document: bytes) -> etree._Element:
    """RSS 2.0: a channel with title, link and description; items with a title or a
    description, a guid, and RFC 822 dates."""
    rss = etree.fromstring(document)
    assert rss.tag == "rss"
    assert rss.get("version") == "2.0"
    [channel] = rss.findall("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")).tzinfo is not None
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        assert item.findtext("guid")
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    return channel


def test_all_three_formats_are_valid_and_newest_first(client: FlaskClient) -> None:
    author, tag = AuthorFactory(name="Ada"), TagFactory(name="Science")
    ArticleFactory(title="Older", excerpt="First", authors=[author], tags=[tag])
    ArticleFactory(title="Newer", excerpt="Second", category=CategoryFactory())
    for name in FORMATS:
        assert entries(client, f"{SITE}/{name}") == ["Newer", "Older"], name
    atom = check_atom(client.get(f"{SITE}/atom.xml").data)
    assert atom.findtext(f"{ATOM}title") == "The Example News"
    channel = check_rss(client.get(f"{SITE}/rss.xml").data)
    assert channel.findtext("link") == "https://news.example"


def test_media_types_and_item_links_follow_the_public_url_pattern(
    app: Flask, client: FlaskClient
) -> None:
    app.config["ARTICLE_URL_PATTERN"] = "{site}/news/{id}-{slug}"
    try:
        article = ArticleFactory(slug="hello")
        expected = f"https://news.example/news/{article.id}-hello"
        media = {}
        for name in FORMATS:
            response = client.get(f"{SITE}/{name}")
            media[name] = response.mimetype
            if name == "feed.json":
                assert checked_json_feed(response)["items"][0]["url"] == expected
            else:
                assert feedparser.parse(response.data).entries[0].link == expected
    finally:
        app.config["ARTICLE_URL_PATTERN"] = "{site}/articles/{slug}"
    assert media == {
        "rss.xml": "application/rss+xml",
        "atom.xml": "application/atom+xml",
        "feed.json": "application/feed+json",
    }


@pytest.mark.parametrize("name", FORMATS)
def test_per_category_tag_author_and_publication(client: FlaskClient, name: str) -> None:
    category, tag, author = CategoryFactory(slug="world"), TagFactory(slug="ai"), AuthorFactory()
    publication = PublicationFactory(slug="wire")
    ArticleFactory(
        title="In all", category=category, tags=[tag], authors=[author], publication=publication
    )
    ArticleFactory(title="Elsewhere", category=CategoryFactory())
    for scope, slug in [
        ("categories", "world"),
        ("tags", "ai"),
        ("authors", author.slug),
        ("publications", "wire"),
    ]:
        assert entries(client, f"{SITE}/{scope}/{slug}/{name}") == ["In all"], scope


@pytest.mark.parametrize("scope", ["categories", "tags", "authors", "publications"])
def test_an_unknown_slug_is_a_404_problem(client: FlaskClient, scope: str) -> None:
    for name in FORMATS:
        response = client.get(f"{SITE}/{scope}/nope/{name}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.json["code"] == "not_found"
    assert client.get(f"{SITE}/stories/x/rss.xml").json["code"] == "not_found"


def test_drafts_in_review_and_archived_never_appear(client: FlaskClient) -> None:
    for status in (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.ARCHIVED):
        ArticleFactory(title=str(status), status=status)
    ArticleFactory(title="Public")
    for name in FORMATS:
        assert entries(client, f"{SITE}/{name}") == ["Public"]


def test_a_scheduled_article_enters_exactly_at_its_time_and_leaves_at_unpublish(
    client: FlaskClient,
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        now = utcnow()
        ArticleFactory(title="Old", published_at=now - timedelta(days=1))
        ArticleFactory(
            title="Soon",
            status=ArticleStatus.SCHEDULED,
            published_at=now + timedelta(seconds=30),
            unpublish_at=now + timedelta(seconds=90),
        )
        before = {name: client.get(f"{SITE}/{name}") for name in FORMATS}
        assert before["rss.xml"].cache_control.s_maxage == 30  # not a second past it
        clock.shift(timedelta(seconds=29))
        for name in FORMATS:
            assert entries(client, f"{SITE}/{name}") == ["Old"]
            etag = before[name].headers["ETag"]
            assert client.get(f"{SITE}/{name}", headers={"If-None-Match": etag}).status_code == 304
        clock.shift(timedelta(seconds=1))
        for name in FORMATS:
            again = client.get(
                f"{SITE}/{name}", headers={"If-None-Match": before[name].headers["ETag"]}
            )
            assert again.status_code == 200
            assert entries(client, f"{SITE}/{name}") == ["Soon", "Old"]
        clock.shift(timedelta(seconds=60))  # its unpublish_at
        for name in FORMATS:
            assert entries(client, f"{SITE}/{name}") == ["Old"]


def test_a_trashed_article_leaves_the_feeds(client: FlaskClient, auth: dict[str, str]) -> None:
    article = ArticleFactory(title="Gone soon")
    ArticleFactory(title="Stays")
    etag = client.get(f"{SITE}/atom.xml").headers["ETag"]
    assert remove(client, f"/api/v1/articles/{article.id}", headers=auth).status_code == 204
    assert client.get(f"{SITE}/atom.xml", headers={"If-None-Match": etag}).status_code == 200
    for name in FORMATS:
        assert entries(client, f"{SITE}/{name}") == ["Stays"]


def test_etag_304_cache_control_and_a_change_changes_the_etag(client: FlaskClient) -> None:
    article = ArticleFactory(title="Before")
    for name in FORMATS:
        first = client.get(f"{SITE}/{name}")
        etag = first.headers["ETag"]
        assert first.cache_control.public
        assert first.cache_control.s_maxage
        cached = client.get(f"{SITE}/{name}", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.headers["ETag"] == etag
    etags = {name: client.get(f"{SITE}/{name}").headers["ETag"] for name in FORMATS}
    article.title = "After"
    db.session.commit()
    for name in FORMATS:
        response = client.get(f"{SITE}/{name}", headers={"If-None-Match": etags[name]})
        assert response.status_code == 200
        assert response.headers["ETag"] != etags[name]
        assert entries(client, f"{SITE}/{name}") == ["After"]


def test_excerpt_by_default_and_the_whole_sanitized_body_by_setting(
    app: Flask, client: FlaskClient
) -> None:
    ArticleFactory(excerpt="Short <b>plain</b>", body_html="<p>The <em>whole</em> body</p>")
    feed = client.get(f"{SITE}/feed.json").json
    assert feed["items"][0]["content_html"] == "<p>Short &lt;b&gt;plain&lt;/b&gt;</p>"
    assert "whole" not in client.get(f"{SITE}/rss.xml").get_data(as_text=True)
    excerpt_etag = client.get(f"{SITE}/atom.xml").headers["ETag"]
    app.config["SYNDICATION_FULL_CONTENT"] = True
    try:
        item = checked_json_feed(client.get(f"{SITE}/feed.json"))["items"][0]
        assert item["content_html"] == "<p>The <em>whole</em> body</p>"
        assert item["summary"] == "Short <b>plain</b>"
        atom = feedparser.parse(client.get(f"{SITE}/atom.xml").data)
        assert atom.entries[0].content[0].value == "<p>The <em>whole</em> body</p>"
        rss = feedparser.parse(client.get(f"{SITE}/rss.xml").data)
        assert "<em>whole</em>" in rss.entries[0].content[0].value
        assert client.get(f"{SITE}/atom.xml").headers["ETag"] != excerpt_etag
    finally:
        app.config["SYNDICATION_FULL_CONTENT"] = False


def test_aggregated_items_credit_their_source_and_covers_are_enclosures(
    client: FlaskClient,
) -> None:
    publication = PublicationFactory(name="The Wire", url="https://wire.example")
    cover = ImageFactory(url="https://img.example/cover.png")
    ArticleFactory(
        title="Aggregated",
        source_url="https://wire.example/story",
        resource_id="0123456789abcdef",
        publication=publication,
        cover_image=cover,
        excerpt="What happened",
    )
    rss = feedparser.parse(client.get(f"{SITE}/rss.xml").data).entries[0]
    assert rss.source == {"href": "https://wire.example", "title": "The Wire"}
    assert rss.enclosures == [
        {
            "href": "https://img.example/cover.png",
            "length": "0",
            "type": "image/png",
        }
    ]
    assert 'href="https://wire.example/story"' in rss.summary
    atom = etree.fromstring(client.get(f"{SITE}/atom.xml").data).find(f"{ATOM}entry")
    links = {link.get("rel", "alternate"): link.attrib for link in atom.findall(f"{ATOM}link")}
    assert links["via"]["href"] == "https://wire.example/story"
    assert links["enclosure"]["type"] == "image/png"
    assert atom.findtext(f"{ATOM}source/{ATOM}title") == "The Wire"
    item = checked_json_feed(client.get(f"{SITE}/feed.json"))["items"][0]
    assert item["external_url"] == "https://wire.example/story"
    assert item["_source"] == {"name": "The Wire", "url": "https://wire.example"}
    assert item["attachments"] == [
        {"url": "https://img.example/cover.png", "mime_type": "image/png"}
    ]


def test_items_are_one_bounded_query_with_relations_in_bulk(
    app: Flask, client: FlaskClient, count_queries: Any
) -> None:
    def queries_for(count: int) -> int:
        for _ in range(count):
            ArticleFactory(
                authors=[AuthorFactory()],
                tags=[TagFactory()],
                category=CategoryFactory(),
                cover_image=ImageFactory(),
                publication=PublicationFactory(),
            )
        count_queries.statements.clear()
        assert client.get(f"{SITE}/feed.json").status_code == 200
        return len(count_queries.statements)

    few, many = queries_for(2), queries_for(20)
    assert few == many <= 8
    app.config["SYNDICATION_ITEMS"] = 5
    try:
        assert len(client.get(f"{SITE}/feed.json").json["items"]) == 5
    finally:
        app.config["SYNDICATION_ITEMS"] = 50


def test_a_rendered_cover_is_enclosed_with_its_size_and_type(client: FlaskClient) -> None:
    cover = ImageFactory(url="https://cdn.example/ab12/cover-1280.webp")
    cover.renditions = [
        Rendition(
            kind="width",
            format="webp",
            width=1280,
            height=720,
            bytes=4321,
            key="ab12/cover-1280.webp",
        ),
    ]
    db.session.commit()
    ArticleFactory(cover_image=cover)
    [enclosure] = feedparser.parse(client.get(f"{SITE}/rss.xml").data).entries[0].enclosures
    assert enclosure == {
        "href": "https://cdn.example/ab12/cover-1280.webp",
        "length": "4321",
        "type": "image/webp",
    }
    item = checked_json_feed(client.get(f"{SITE}/feed.json"))["items"][0]
    assert item["attachments"][0]["size_in_bytes"] == 4321


def test_text_xml_cannot_hold_is_dropped_not_a_500(client: FlaskClient) -> None:
    """JSON carries control characters (escaped), so stored text may hold them; XML 1.0
    cannot: the outputs drop them (found by schemathesis)."""
    publication = PublicationFactory(name="Wire\x0b", description="\x01About")
    ArticleFactory(
        title="Open\x0bweights\x1f",
        excerpt="An \x08excerpt",
        body_html="<p>Body\x0c</p>",
        publication=publication,
        source_url="https://wire.example/story",
    )
    for path in ("rss.xml", "atom.xml", f"publications/{publication.slug}/rss.xml"):
        response = client.get(f"/api/v1/syndication/{path}")
        assert response.status_code == 200, path
        parsed = feedparser.parse(response.data)
        assert parsed.bozo == 0, path
        assert parsed.entries[0].title == "Openweights"
    ArticleFactory(title="Own\x0bstory", published_at=utcnow() - timedelta(hours=1))
    nothing_left = ArticleFactory(title="\x0b\x1f", slug="control-characters-only")
    parsed = feedparser.parse(client.get(f"{SITE}/atom.xml").data)
    assert nothing_left.slug in [entry.title for entry in parsed.entries]  # a title still
    news = client.get("/api/v1/sitemaps/news.xml")
    assert news.status_code == 200
    assert b"<news:title>Ownstory</news:title>" in news.data
