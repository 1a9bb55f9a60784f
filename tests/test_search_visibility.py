"""Search costs what the caller may see, and what they typed once (issue 10, finding 3)."""

import sqlite3
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.extensions import db
from cms.models import Article, ArticleStatus
from cms.services.articles import create_article
from cms.services.planner import refresh_statistics
from cms.services.search import MAX_SEARCH_WORDS
from tests.factories import ArticleFactory


def article(title: str, status: ArticleStatus = ArticleStatus.PUBLISHED) -> Article:
    created = create_article(db.session, {"title": title, "status": status})
    db.session.commit()
    return created


def search(client: FlaskClient, q: str, headers: dict[str, str] | None = None) -> Any:
    return client.get("/api/v1/articles", query_string={"q": q}, headers=headers or {})


def test_search_ranks_only_visible_rows(
    app: Flask, client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newer drafts that match must neither be ranked for anonymous readers nor push
    the one published match out of the window of ranked rows."""
    monkeypatch.setitem(app.config, "SEARCH_RANK_WINDOW", 2)
    published = article("Walrus census published")
    drafts = [article(f"Walrus draft {n}", ArticleStatus.DRAFT) for n in range(5)]

    body = search(client, "walrus").json
    assert [a["id"] for a in body["data"]] == [published.id]
    assert body["meta"]["total"] == 1
    # Editors see the drafts: their window holds the two newest of them.
    editor_view = search(client, "walrus", auth).json["data"]
    assert {a["id"] for a in editor_view} == {drafts[-1].id, drafts[-2].id}


def test_search_deduplicates_and_caps_terms(client: FlaskClient) -> None:
    found = article("Walrus sightings", ArticleStatus.PUBLISHED)
    words = [f"word{n}" for n in range(MAX_SEARCH_WORDS + 1)]

    # A repeated word is one term (any case): 32 of them are under the cap.
    for q in [" ".join(["walrus"] * 32), "Walrus WALRUS walrus", '"walrus" walrus -x -X']:
        response = search(client, q)
        assert response.status_code == 200, response.json
        assert [a["id"] for a in response.json["data"]] == [found.id]
    assert search(client, " ".join(words[:MAX_SEARCH_WORDS] * 3)).status_code == 200

    # Distinct words beyond the cap, however they are spelled, are a clear 422.
    for q in [
        " ".join(words),
        '"' + " ".join(words) + '"',  # one phrase of too many words
        " ".join(words[:8]) + " " + " ".join(f"-{w}" for w in words[8:]),
    ]:
        response = search(client, q)
        assert response.status_code == 422, q
        assert response.mimetype == "application/problem+json"
        assert response.json["code"] == "validation_error"
        assert list(response.json["errors"]) == ["q"]


def test_search_highlighting_is_bounded_by_the_lead(client: FlaskClient) -> None:
    """FTS5's snippet() weighs every pair of hits in a document: a long body of one
    repeated word took seconds per result (minutes at 1 MB). Only the lead is read."""
    body = "<p>" + "walrus " * 30_000 + "</p>"
    created = create_article(
        db.session, {"title": "Tusks", "body_html": body, "status": ArticleStatus.PUBLISHED}
    )
    db.session.commit()

    started = time.perf_counter()
    found = search(client, "walrus").json["data"]
    assert time.perf_counter() - started < 1.0  # generous: it takes milliseconds
    assert [a["id"] for a in found] == [created.id]
    assert "<mark>walrus</mark>" in found[0]["snippet"]


def test_the_statistics_job_lets_search_test_visibility_from_an_index(app: Flask) -> None:
    """SQLite plans from ANALYZE's statistics: without them a search's visibility test
    read every matching article's row, bodies and all (cms.services.planner)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum gathers its own statistics")
    ArticleFactory.create_batch(40)
    window = (
        "EXPLAIN QUERY PLAN SELECT f.rowid FROM articles_fts f JOIN articles a ON a.id = f.rowid "
        "WHERE f.articles_fts MATCH 'body' AND a.trashed_at IS NULL AND a.status = 'published' "
        "AND a.published_at <= '2030-01-01' ORDER BY f.rowid DESC LIMIT 1000"
    )
    refresh_statistics()
    # A connection reads the statistics when it loads the schema: ask a new one.
    with sqlite3.connect(db.engine.url.database or "") as fresh:
        plan = " | ".join(row[3] for row in fresh.execute(window))
    assert "COVERING INDEX ix_articles_id_stamp" in plan
