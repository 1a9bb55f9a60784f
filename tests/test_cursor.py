"""Keyset cursors: every article exactly once, however deep, while others are inserted."""

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from cms.extensions import db
from cms.models import Article, ArticleStatus
from cms.services.identifiers import new_stable_id
from tests.factories import ArticleFactory

START = datetime(2024, 1, 1, tzinfo=UTC)


def bulk_articles(n: int, *, offset: int = 0, same_time_every: int = 1) -> None:
    """Many published articles fast (Core insert); every `same_time_every` share a time."""
    rows = [
        {
            "slug": f"bulk-{offset + i}",
            "stable_id": new_stable_id(),
            "title": f"Bulk {i}",
            "body_format": "html",
            "body_source": "",
            "body_html": "",
            "status": "published",
            "published_at": START + timedelta(minutes=(offset + i) // same_time_every),
            "importance": None if i % 7 == 0 else (i * 37) % 100,
            "key_points": [],
            "version": 1,
        }
        for i in range(n)
    ]
    db.session.execute(insert(Article), rows)
    db.session.commit()


def walk(client: FlaskClient, query: str, on_page: Any = None) -> list[int]:
    seen: list[int] = []
    url = f"/api/v1/articles?{query}"
    while url:
        body = client.get(url).json
        seen.extend(a["id"] for a in body["data"])
        assert body["meta"]["total"] is None
        url = body["links"]["next"]
        if on_page:
            on_page()
    return seen


def test_deep_cursor_paging_returns_every_article_once_despite_inserts(
    app: Flask, client: FlaskClient
) -> None:
    bulk_articles(10_000, same_time_every=3)  # ties on published_at: id must break them
    existing = {a for (a,) in db.session.execute(db.select(Article.id))}
    inserted = iter(range(100_000))

    def insert_newer_and_older() -> None:
        n = next(inserted)
        ArticleFactory(published_at=START + timedelta(days=365 + n))  # ahead of the cursor
        ArticleFactory(published_at=START - timedelta(days=1 + n))  # behind it: still comes

    first = client.get("/api/v1/articles?page_size=100&count=false&fields=id").json
    cursor_query = f"page_size=100&count=false&fields=id&cursor={first['meta']['next_cursor']}"
    seen = [a["id"] for a in first["data"]] + walk(client, cursor_query, insert_newer_and_older)

    assert len(seen) == len(set(seen)), "an article came twice"
    assert existing <= set(seen), "an article was skipped"


def test_cursor_over_a_nullable_key_in_both_directions(client: FlaskClient) -> None:
    bulk_articles(250)
    for sort in ("-importance", "importance", "-importance,title", "title"):
        query = f"sort={sort}&page_size=17&count=false&fields=id,importance"
        first = client.get(f"/api/v1/articles?{query}").json
        seen = [a["id"] for a in first["data"]]
        seen += walk(client, f"{query}&cursor={first['meta']['next_cursor']}")
        everything = [
            a["id"]
            for a in client.get(f"/api/v1/articles?sort={sort}&page_size=100&count=false").json[
                "data"
            ]
        ]
        everything += [
            a["id"]
            for a in client.get(
                f"/api/v1/articles?sort={sort}&page_size=100&page=2&count=false"
            ).json["data"]
        ]
        everything += [
            a["id"]
            for a in client.get(
                f"/api/v1/articles?sort={sort}&page_size=100&page=3&count=false"
            ).json["data"]
        ]
        assert seen == everything, sort


def test_cursor_pages_link_forward_only(client: FlaskClient) -> None:
    bulk_articles(5)
    first = client.get("/api/v1/articles?page_size=2").json
    second = client.get(f"/api/v1/articles?page_size=2&cursor={first['meta']['next_cursor']}")
    assert second.json["meta"]["page"] is None
    assert second.json["links"]["prev"] is None
    assert "cursor=" in second.json["links"]["next"]


def test_bad_cursors_are_400(client: FlaskClient) -> None:
    bulk_articles(3)
    cursor = client.get("/api/v1/articles?page_size=1").json["meta"]["next_cursor"]
    for bad in ("garbage", "e30", cursor[:-3], "eyJzIjpbXSwidiI6W119"):
        response = client.get(f"/api/v1/articles?cursor={bad}")
        assert response.status_code == 400, bad
        assert response.json["code"] == "invalid_cursor"
    other_sort = client.get(f"/api/v1/articles?sort=title&cursor={cursor}")
    assert other_sort.status_code == 400


def test_an_editors_cursor_walks_past_the_drafts_without_a_date(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    """Drafts have no published_at and sort last: a deep page's index range (made for
    the public, whose articles all have one) must not cut them off for editors."""
    bulk_articles(30, same_time_every=3)
    drafts = [ArticleFactory(status=ArticleStatus.DRAFT, published_at=None) for _ in range(5)]
    seen: list[int] = []
    query: dict[str, Any] = {"page_size": 7, "count": "false", "fields": "id"}
    while True:
        body = client.get("/api/v1/articles", query_string=query, headers=auth).json
        seen.extend(a["id"] for a in body["data"])
        if body["meta"]["next_cursor"] is None:
            break
        query["cursor"] = body["meta"]["next_cursor"]
    assert len(seen) == len(set(seen)) == 35
    assert set(seen[-5:]) == {draft.id for draft in drafts}
