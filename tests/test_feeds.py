"""Feed ingestion end to end: feeds served by a real HTTP server on 127.0.0.1, created
and fetched through the API (and the CLI), read back as a frontend would."""

import hashlib
import time
import tracemalloc
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms.extensions import db
from cms.models import Article, SourceCopy
from tests.conftest import run_jobs
from tests.factories import ArticleFactory, PublicationFactory
from tests.feed_server import FeedServer


def rss(*items: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<rss version="2.0"><channel><title>Example News</title>{extra}'
        f"<link>https://news.example.com/</link>{''.join(items)}</channel></rss>"
    )


def item(n: int, *, link: str | None = None, guid: str | None = None, more: str = "") -> str:
    link = link or f"https://news.example.com/story/{n}"
    return (
        f"<item><title>Story {n}</title><link>{link}</link><guid>{guid or link}</guid>"
        f"<pubDate>Mon, 06 Sep 2021 16:45:{n % 60:02d} +0000</pubDate>"
        f"<description>Summary of story {n}.</description>{more}</item>"
    )


def add_feed(client: FlaskClient, headers: dict[str, str], url: str, **fields: Any) -> int:
    response = client.post("/api/v1/feeds", json={"url": url, **fields}, headers=headers)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def fetch_feed(client: FlaskClient, headers: dict[str, str], feed_id: int) -> dict[str, Any]:
    """Ask for a fetch (202 and a job), run the queue as a worker would, and read the
    job's result, with the feed as it now is."""
    response = client.post(f"/api/v1/feeds/{feed_id}/fetch", headers=headers)
    assert response.status_code == 202, response.json
    assert response.json["state"] == "queued"
    run_jobs()
    job = client.get(response.headers["Location"], headers=headers)
    assert job.json["state"] == "done", job.json
    feed = client.get(f"/api/v1/feeds/{feed_id}", headers=headers).json
    return {**job.json["result"], "feed": feed}


def articles(client: FlaskClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    # Without `status`, editors see every article; anonymous callers the published.
    response = client.get(
        "/api/v1/articles", query_string={"page_size": 100, **params}, headers=headers
    )
    assert response.status_code == 200, response.json
    return list(response.json["data"])


def test_rss_items_become_draft_articles_once(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    venue = PublicationFactory(domain="news.example.com", credibility=4)
    db.session.commit()
    script = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;p onclick='x()'&gt;Body&lt;/p&gt;"
    url = server.serve(
        "/rss",
        rss(
            item(1, more="<author>jane@example.com (Jane Doe)</author><category>AI</category>"),
            item(2, more=f"<description>{script}</description>"),
            item(3),
        ),
    )
    feed_id = add_feed(client, admin, url)

    result = fetch_feed(client, admin, feed_id)

    assert (result["status"], result["new_items"], result["seen_items"]) == ("ok", 3, 0)
    assert result["feed"]["title"] == "Example News"
    found = {a["title"]: a for a in articles(client, admin, include="authors,tags")}
    assert set(found) == {"Story 1", "Story 2", "Story 3"}
    first = found["Story 1"]
    assert first["status"] == "draft"
    assert first["source_url"] == "https://news.example.com/story/1"
    assert first["resource_id"] == hashlib.sha256(first["source_url"].encode()).hexdigest()[:16]
    assert first["published_at"] == "2021-09-06T16:45:01Z"
    assert first["excerpt"] == "Summary of story 1."
    assert [a["name"] for a in first["authors"]] == ["Jane Doe"]
    assert [t["name"] for t in first["tags"]] == ["AI"]
    assert first["publication"]["id"] == venue.id
    assert first["credibility"]["value"] == 4  # inherited from the venue
    body = client.get(f"/api/v1/articles/{found['Story 2']['id']}", headers=admin).json
    assert "<script" not in body["body_html"]
    assert "onclick" not in body["body_html"]
    assert "Body" in body["body_html"]
    assert articles(client, {}) == []  # drafts are not public

    again = fetch_feed(client, admin, feed_id)
    assert (again["new_items"], again["seen_items"]) == (0, 3)
    assert db.session.query(Article).count() == 3


def test_atom_items_can_arrive_published(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
    <id>urn:example:feed</id><updated>2026-11-20T10:00:00Z</updated>
    <entry><title type="html">Tariffs &lt;b&gt;up&lt;/b&gt; &amp;amp; more</title>
      <id>urn:example:1</id><link rel="alternate" href="https://atom.example.org/a/1"/>
      <published>2026-11-20T09:30:00+01:00</published><updated>2026-11-20T10:00:00Z</updated>
      <author><name>Ana Lima</name></author>
      <summary>Short.</summary>
      <content type="html">&lt;p&gt;Full &lt;em&gt;text&lt;/em&gt;.&lt;/p&gt;</content></entry>
    </feed>"""
    url = server.serve("/atom", atom, headers={"Content-Type": "application/atom+xml"})
    feed_id = add_feed(client, admin, url, item_status="published")

    assert fetch_feed(client, admin, feed_id)["new_items"] == 1

    public = articles(client, {}, include="authors")
    assert [a["title"] for a in public] == ["Tariffs up & more"]
    assert public[0]["published_at"] == "2026-11-20T08:30:00Z"
    assert [a["name"] for a in public[0]["authors"]] == ["Ana Lima"]
    body = client.get(f"/api/v1/articles/{public[0]['id']}").json["body_html"]
    assert body == "<p>Full <em>text</em>.</p>"


def test_relative_links_and_entities_resolve(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    content = (
        "&lt;p&gt;See &lt;a href=&quot;../reports/q3.html&quot;&gt;the report&lt;/a&gt; "
        "&lt;img src=&quot;/img/chart.png&quot;&gt; &amp;eacute;t&amp;eacute;&lt;/p&gt;"
    )
    feed = rss(
        "<item><title>AT&amp;T &#8211; &#x201C;5G&#x201D; caf&#233;</title>"
        "<link>/news/42?utm_source=rss&amp;id=7</link>"
        f"<description>{content}</description></item>"
    )
    url = server.serve("/feeds/main/rss.xml", feed)
    feed_id = add_feed(client, admin, url)

    fetch_feed(client, admin, feed_id)

    [article] = articles(client, admin)
    assert article["title"] == "AT&T \u2013 \u201c5G\u201d caf\u00e9"
    base = f"http://127.0.0.1:{server.port}"
    assert article["source_url"] == f"{base}/news/42?utm_source=rss&id=7"
    # The dedup key ignores the tracking parameter.
    expected = hashlib.sha256(f"{base}/news/42?id=7".encode()).hexdigest()[:16]
    assert article["resource_id"] == expected
    body = client.get(f"/api/v1/articles/{article['id']}", headers=admin).json["body_html"]
    assert f'href="{base}/feeds/reports/q3.html"' in body
    assert f'src="{base}/img/chart.png"' in body
    assert "\u00e9t\u00e9" in body


def test_a_feed_answering_304_is_not_parsed_again(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    url = server.serve(
        "/cond", rss(item(1)), etag='"abc"', headers={"Last-Modified": "Mon, 01 Jan 2024 0:0 GMT"}
    )
    feed_id = add_feed(client, admin, url)
    fetch_feed(client, admin, feed_id)

    result = fetch_feed(client, admin, feed_id)

    assert (result["status"], result["new_items"]) == ("not_modified", 0)
    second = server.hits("/cond")[1].headers
    assert second["If-None-Match"] == '"abc"'
    assert second["If-Modified-Since"] == "Mon, 01 Jan 2024 0:0 GMT"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body><h1>Welcome</h1></body></html>", "Not a readable RSS or Atom feed"),
        ("\x00\x01garbage", "Not a readable RSS or Atom feed"),
    ],
)
def test_a_malformed_feed_records_its_error(
    client: FlaskClient, admin: dict[str, str], server: FeedServer, body: str, message: str
) -> None:
    feed_id = add_feed(client, admin, server.serve("/bad", body))

    result = fetch_feed(client, admin, feed_id)

    assert result["status"] == "error"
    assert message in result["error"]
    feed = client.get(f"/api/v1/feeds/{feed_id}", headers=admin).json
    assert (feed["last_status"], feed["consecutive_failures"]) == ("error", 1)
    assert message in feed["last_error"]
    assert db.session.query(Article).count() == 0


def test_a_slow_feed_times_out(
    app: Flask, client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    feed_id = add_feed(client, admin, server.serve("/slow", rss(item(1)), delay=30))
    app.config["FETCH_TIMEOUT"] = 0.5
    try:
        started = time.monotonic()
        result = fetch_feed(client, admin, feed_id)
    finally:
        app.config["FETCH_TIMEOUT"] = 10.0
    assert time.monotonic() - started < 5  # the server answers after 30
    assert result["status"] == "error"
    assert "in time" in result["error"]


def test_a_redirect_to_a_private_address_is_refused(
    client: FlaskClient, admin: dict[str, str], server: FeedServer, internal: FeedServer
) -> None:
    internal.serve("/secret", rss(item(1)))
    url = server.serve("/moved", status=301, headers={"Location": internal.url("/secret")})
    feed_id = add_feed(client, admin, url)

    result = fetch_feed(client, admin, feed_id)

    assert result["status"] == "error"
    assert "private, loopback" in result["error"]
    assert internal.requests == []


def test_xxe_does_not_read_files_or_reach_the_network(
    client: FlaskClient, admin: dict[str, str], server: FeedServer, internal: FeedServer
) -> None:
    internal.serve("/dtd", '<!ENTITY leak "INTERNAL">')
    doctype = (
        '<!DOCTYPE rss [<!ENTITY file SYSTEM "file:///etc/passwd">'
        f'<!ENTITY % remote SYSTEM "{internal.url("/dtd")}"> %remote;]>'
    )
    feed = rss(
        item(1, more="<description>Leak: &file; &leak;</description>"),
        extra="<description>&file;</description>",
    ).replace("<rss", doctype + "<rss", 1)
    feed_id = add_feed(client, admin, server.serve("/xxe", feed))

    fetch_feed(client, admin, feed_id)

    everything = str(
        [
            client.get(f"/api/v1/articles/{a['id']}", headers=admin).json
            for a in articles(client, admin)
        ]
    )
    assert "root:" not in everything
    assert "INTERNAL" not in everything
    assert internal.requests == []


def test_billion_laughs_does_not_blow_memory(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    entities = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1 if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    feed = rss(item(1, more="<description>&lol9;</description>")).replace(
        "<rss", f"<!DOCTYPE rss [{entities}]><rss", 1
    )
    feed_id = add_feed(client, admin, server.serve("/lol", feed))

    tracemalloc.start()
    try:
        fetch_feed(client, admin, feed_id)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 64_000_000  # the whole request; expanded, the entity alone is 3 GB
    assert all(len(a["excerpt"] or "") < 1000 for a in articles(client, admin))


def test_a_large_feed_is_ingested_once(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    url = server.serve("/big", rss(*(item(n) for n in range(10_000))))
    feed_id = add_feed(client, admin, url)

    first = fetch_feed(client, admin, feed_id)
    second = fetch_feed(client, admin, feed_id)

    assert (first["new_items"], second["new_items"], second["seen_items"]) == (10_000, 0, 10_000)
    assert db.session.query(Article).count() == 10_000
    assert len(first["new_article_ids"]) == 10_000


def test_the_same_story_in_two_feeds_is_one_article(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    story = "https://news.example.com/story/7"
    a = add_feed(client, admin, server.serve("/a", rss(item(7, link=story))))
    b = add_feed(
        client,
        admin,
        server.serve("/b", rss(item(7, link=f"{story}?utm_medium=feed#top", guid="other-guid"))),
    )

    # Whichever is read first (the poll cycle a new feed nudges may read b first) has
    # it; the other finds it seen.
    for feed_id in (a, b):
        result = fetch_feed(client, admin, feed_id)
        assert result["new_items"] + result["seen_items"] == 1
    assert db.session.query(Article).count() == 1


def test_a_deleted_item_does_not_come_back(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    feed_id = add_feed(client, admin, server.serve("/rss", rss(item(1), item(2))))
    fetch_feed(client, admin, feed_id)
    victim = articles(client, admin)[0]
    url = f"/api/v1/articles/{victim['id']}"
    assert client.delete(url, headers={**admin, "If-Match": "*"}).status_code == 204  # trashed

    assert fetch_feed(client, admin, feed_id)["new_items"] == 0
    assert len(articles(client, admin)) == 1
    purge = f"/api/v1/articles/trash/{victim['id']}"
    assert client.delete(purge, headers={**admin, "If-Match": "*"}).status_code == 204

    assert fetch_feed(client, admin, feed_id)["new_items"] == 0
    assert db.session.query(Article).count() == 1


def test_cached_source_copies_are_kept_and_searchable(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    page = "<html><body><script>var x;</script><p>The quokka census</p></body></html>"
    server.serve("/story/1", page, headers={"Content-Type": "text/html; charset=utf-8"})
    feed = rss(item(1, link=server.url("/story/1")), item(2, link=server.url("/story/404")))
    feed_id = add_feed(client, admin, server.serve("/rss", feed), cache_sources=True)

    fetch_feed(client, admin, feed_id)

    kept = {a["source_url"]: a for a in articles(client, admin, fields="source_url,fetch,title")}
    record = kept[server.url("/story/1")]["fetch"]
    assert record["status"] == 200
    assert record["bytes"] == len(page.encode())
    assert record["content_hash"] == hashlib.sha256(page.encode()).hexdigest()
    assert record["fetched_at"] is not None
    assert kept[server.url("/story/404")]["fetch"]["status"] == 404
    hits = articles(client, admin, q="quokka")
    assert [a["title"] for a in hits] == ["Story 1"]
    assert articles(client, admin, q="var") == []  # script text is not page text


def test_ingest_command_fetches_due_feeds_and_survives_broken_ones(
    app: Flask, client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    good = add_feed(client, admin, server.serve("/good", rss(item(1), item(2))))
    add_feed(client, admin, server.serve("/broken", "not a feed"))
    paused = add_feed(client, admin, server.serve("/paused", rss(item(3))), is_active=False)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["cms", "ingest"])

    assert result.exit_code == 1
    assert "Fetched 2 feeds: 2 new articles, 1 feeds failed." in result.output
    assert "/broken" in result.output
    assert server.hits("/paused") == []
    assert db.session.query(Article).count() == 2

    again = runner.invoke(args=["cms", "ingest"])  # nothing is due within the interval
    assert "Fetched 0 feeds" in again.output
    assert len(server.hits("/good")) == 1
    forced = runner.invoke(args=["cms", "ingest", str(paused), str(good)])
    assert "Fetched 2 feeds: 1 new articles" in forced.output


def test_feeds_are_for_admins(
    client: FlaskClient, auth: dict[str, str], admin: dict[str, str]
) -> None:
    feed_id = add_feed(client, admin, "https://example.com/feed")
    assert client.get("/api/v1/feeds", headers=auth).status_code == 403
    assert client.get(f"/api/v1/feeds/{feed_id}").status_code == 401
    listed = client.get("/api/v1/feeds", headers=admin).json["data"]
    assert [f["url"] for f in listed] == ["https://example.com/feed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "https://example.com/f", "interval_minutes": 0}, "interval_minutes"),
        ({"url": "https://example.com/f", "item_status": "archived"}, "item_status"),
        ({"url": "https://example.com/f", "publication_id": 999}, "publication_id"),
        ({"url": "https://example.com/f", "last_status": "ok"}, "last_status"),
    ],
)
def test_bad_feeds_are_refused(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/feeds", json=body, headers=admin)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_titles_taken_before_and_twice_in_a_feed_get_free_slugs(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    ArticleFactory(slug="daily-briefing")
    ArticleFactory(slug="daily-briefing-2")
    db.session.commit()
    same = "<item><title>Daily briefing</title><link>https://n.example/{0}</link></item>"
    feed_id = add_feed(client, admin, server.serve("/rss", rss(same.format(1), same.format(2))))

    assert fetch_feed(client, admin, feed_id)["new_items"] == 2

    slugs = set(db.session.scalars(select(Article.slug)))
    assert slugs == {"daily-briefing", "daily-briefing-2", "daily-briefing-3", "daily-briefing-4"}


def test_hostile_item_data_is_cleaned_or_skipped(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    long_link = "https://n.example/" + "a" * 2100
    feed = rss(
        "<item><title>Nul\x00 title</title><link>https://n.example/1</link>"
        "<category>t\x00ag</category><description>b\x00ody</description></item>",
        f"<item><title>Too long</title><link>{long_link}</link></item>",
    )
    url = server.serve("/rss", feed, headers={"ETag": '"' + "e" * 600 + '"'})
    feed_id = add_feed(client, admin, url)

    result = fetch_feed(client, admin, feed_id)

    assert (result["status"], result["new_items"], result["skipped_items"]) == ("ok", 1, 1)
    [article] = articles(client, admin, include="tags")
    assert (article["title"], article["excerpt"]) == ("Nul title", "body")
    assert [t["name"] for t in article["tags"]] == ["tag"]
    assert fetch_feed(client, admin, feed_id)["status"] == "ok"  # no validator was kept
    assert "If-None-Match" not in server.hits("/rss")[1].headers


def test_a_long_name_is_one_tag_and_one_author_however_it_arrives(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    """Imports and feed ingest match authors and tags by the same slug, even for names
    whose slug would be longer than slugs may be."""
    tag = ("Artificial intelligence and its regulation " * 3)[:119]
    author = ("Doctor Verylongname " * 6)[:118]
    post = f"---\ntitle: Imported\ndate: 2026-01-02\ntags: [{tag!r}]\nauthor: {author!r}\n---\nB"
    for _ in range(2):
        imported = client.post(
            "/api/v1/articles/import",
            data=post.replace("Imported", f"Imported {_}"),
            headers={**admin, "Content-Type": "text/markdown"},
        )
        assert imported.status_code == 201, imported.json["errors"]
    more = f"<category>{tag}</category><author>x@example.com ({author})</author>"
    fetch_feed(
        client, admin, add_feed(client, admin, server.serve("/rss", rss(item(1, more=more))))
    )

    tags = client.get("/api/v1/tags", headers=admin).json["data"]
    authors = client.get("/api/v1/authors", headers=admin).json["data"]
    assert [t["name"] for t in tags] == [tag]
    assert [a["name"] for a in authors] == [author]
    tagged = articles(client, admin, tag=tags[0]["slug"])
    assert sorted(a["title"] for a in tagged) == ["Imported 0", "Imported 1", "Story 1"]


def test_a_cached_copy_keeps_the_main_text_and_what_the_page_says(
    client: FlaskClient, admin: dict[str, str], server: FeedServer
) -> None:
    story = (
        "The annual quokka census took place on Rottnest Island this week. Researchers "
        "counted more than ten thousand animals, up on last year. "
    )
    page = (
        '<html lang="en-AU"><head><title>Quokka census | Island News</title>'
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2026-11-20T08:00:00Z"></head>'
        "<body><nav>Home Sport Weather Subscribe</nav><article><h1>Quokka census</h1>"
        f"<p>{story * 3}</p><p>{story * 2}</p></article>"
        "<footer>Cookie settings and other boilerplate</footer></body></html>"
    )
    server.serve("/story/1", page, headers={"Content-Type": "text/html; charset=utf-8"})
    feed = rss(item(1, link=server.url("/story/1")))
    feed_id = add_feed(client, admin, server.serve("/rss", feed), cache_sources=True)

    fetch_feed(client, admin, feed_id)

    copy = db.session.scalars(select(SourceCopy)).one()
    assert "ten thousand animals" in copy.text
    assert "Subscribe" not in copy.text  # navigation and footer are not the story
    assert "Cookie" not in copy.text
    assert (copy.title, copy.author, copy.language) == ("Quokka census", "Jane Doe", "en-AU")
    assert copy.published_on == date(2026, 11, 20)
    assert [a["title"] for a in articles(client, admin, q="rottnest")] == ["Story 1"]
    assert articles(client, admin, q="cookie") == []
