"""Search costs what the caller may see, and what they typed once (issue 10, finding 3)."""

import sqlite3
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from cms.extensions import db
from cms.models import Article, ArticleStatus
from cms.services.articles import create_article
from cms.services.planner import refresh_statistics
from cms.services.search import (
    MAX_SEARCH_WORDS,
    SNIPPET_SOURCE_CHARS,
    ranked_matches,
    search_terms,
)
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


def test_search_highlights_from_the_lead_only(client: FlaskClient) -> None:
    """FTS5's snippet() weighs every pair of hits in a document: a long body of one
    repeated word took seconds per result (minutes at 1 MB). Highlighting reads only
    the lead, so its cost is bounded whatever the body, and a word found further on
    gets the opening words instead of a highlight."""
    far_on = create_article(
        db.session,
        {
            "title": "Census",
            "body_html": "<p>" + "ice " * SNIPPET_SOURCE_CHARS + "walrus</p>",
            "status": ArticleStatus.PUBLISHED,
        },
    )
    repeated = create_article(
        db.session,
        {
            "title": "Tusks",
            "body_html": "<p>" + "walrus " * 30_000 + "</p>",
            "status": ArticleStatus.PUBLISHED,
        },
    )
    db.session.commit()

    found = {a["id"]: a["snippet"] for a in search(client, "walrus").json["data"]}
    assert set(found) == {far_on.id, repeated.id}
    assert "<mark>walrus</mark>" in found[repeated.id]
    assert "<mark>" not in found[far_on.id]
    assert found[far_on.id].startswith("Census. ice ice")


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


def test_postgresql_takes_a_rare_words_window_from_its_index(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's planner walked the primary key newest first for a word in 3% of the
    documents, reading each one's tsvector (200 ms at 100,000 articles, where the GIN
    index took 20): search chooses by the database's statistics of the words."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's FTS5 reads its own index: there is no plan to choose")
    monkeypatch.setitem(app.config, "SEARCH_RANK_WINDOW", 5)
    made = [article(f"Harbour report {n}" + (" walrus" if n % 20 == 0 else "")) for n in range(60)]
    db.session.execute(text("ANALYZE search_documents"))
    db.session.commit()

    def window_sql(q: str) -> str:
        hits = ranked_matches(db.session, search_terms(q), 5, [Article.trashed_at.is_(None)])
        assert hits is not None
        return str(select(hits).compile(dialect=db.engine.dialect))

    hidden_order = "search_documents.article_id + "  # the planner cannot walk by id
    assert hidden_order in window_sql("walrus")  # in 3 of 60 documents: the index
    assert hidden_order not in window_sql("harbour")  # in all of them: walk newest first
    # Either way, the window is the newest matches.
    walrus = search(client, "walrus").json
    assert {a["id"] for a in walrus["data"]} == {made[n].id for n in (0, 20, 40)}
    harbour = search(client, "harbour").json
    assert harbour["meta"]["total"] == 5
    assert {a["id"] for a in harbour["data"]} == {a.id for a in made[-5:]}
