"""Ranked full-text search: finds by phrase, ranks title over body, survives anything."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cms.demo import load_demo
from cms.extensions import db
from cms.models import ArticleStatus, utcnow
from tests.conftest import edit, make_app, remove


def search(client: FlaskClient, q: str, **params: Any) -> Any:
    response = client.get("/api/v1/articles", query_string={"q": q, **params})
    assert response.status_code == 200, response.json
    return response.json


def write(client: FlaskClient, auth: dict[str, str], **payload: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/articles", json={"status": "published", **payload}, headers=auth
    )
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def test_finds_the_sample_post_by_a_phrase_from_its_body(app: Flask, client: FlaskClient) -> None:
    load_demo(db.session)
    db.session.commit()
    found = search(client, '"rambling memo"')["data"]
    assert [a["title"] for a in found] == ["Is Mark Zuckerberg flip flopping on open source AI?"]
    assert "<mark>rambling" in found[0]["snippet"]  # FTS5 marks the phrase, PostgreSQL words
    assert '"superintelligence."' in found[0]["snippet"]  # entities decoded once, not twice


def test_title_match_ranks_above_body_match(client: FlaskClient, auth: dict[str, str]) -> None:
    in_body = write(
        client,
        auth,
        title="Quarterly update",
        body_html="<p>The walrus population grew this year.</p>",
    )
    in_title = write(
        client,
        auth,
        title="Walrus sightings rise",
        body_html="<p>Coastal observers counted more animals.</p>",
    )
    ranked = [a["id"] for a in search(client, "walrus")["data"]]
    assert ranked == [in_title["id"], in_body["id"]]


def test_searches_excerpt_summary_and_tag_names(client: FlaskClient, auth: dict[str, str]) -> None:
    tag = client.post("/api/v1/tags", json={"name": "Quantum"}, headers=auth).json
    tagged = write(client, auth, title="A", tag_ids=[tag["id"]])
    summarized = write(client, auth, title="B", summary="About qubits and stuff")
    assert [a["id"] for a in search(client, "quantum")["data"]] == [tagged["id"]]
    assert [a["id"] for a in search(client, "qubits")["data"]] == [summarized["id"]]

    edit(client, f"/api/v1/tags/{tag['id']}", json={"name": "Photonics"}, headers=auth)
    assert [a["id"] for a in search(client, "photonics")["data"]] == [tagged["id"]]
    assert search(client, "quantum")["data"] == []


def test_index_follows_edits_and_deletes(client: FlaskClient, auth: dict[str, str]) -> None:
    article = write(client, auth, title="Penguins", body_html="<p>Antarctic birds</p>")
    url = f"/api/v1/articles/{article['id']}"
    edit(client, url, json={"title": "Puffins"}, headers=auth)
    assert search(client, "penguins")["data"] == []
    assert [a["id"] for a in search(client, "puffins")["data"]] == [article["id"]]
    remove(client, url, headers=auth)
    assert search(client, "puffins")["data"] == []


def test_drafts_stay_hidden_from_anonymous_search(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    write(client, auth, title="Embargoed scoop", status=ArticleStatus.DRAFT.value)
    assert search(client, "embargoed")["data"] == []
    assert len(search(client, "embargoed", **{})["data"]) == 0
    editor_view = client.get("/api/v1/articles?q=embargoed", headers=auth).json["data"]
    assert [a["title"] for a in editor_view] == ["Embargoed scoop"]


def test_search_combines_with_filters_and_counts(client: FlaskClient, auth: dict[str, str]) -> None:
    write(client, auth, title="Solar storms", importance=90)
    write(client, auth, title="Solar panels", importance=10)
    body = search(client, "solar", min_importance=50)
    assert [a["title"] for a in body["data"]] == ["Solar storms"]
    assert body["meta"]["total"] == 1


def test_snippets_are_escaped_html(client: FlaskClient, auth: dict[str, str]) -> None:
    write(
        client,
        auth,
        title="Markup",
        body_html="<p>Salt &amp; pepper, and &lt;script&gt; tags, with care</p>",
    )
    snippet = search(client, "care")["data"][0]["snippet"]
    assert "<script" not in snippet
    assert "Salt &amp; pepper" in snippet
    assert "<mark>care</mark>" in snippet


def test_a_snippet_follows_the_text_it_highlights(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    """Snippets are kept per content generation: an edit shows in the next search."""
    article = write(client, auth, title="Tides", body_html="<p>The heron waded out.</p>")
    assert "The <mark>heron</mark> waded out" in search(client, "heron")["data"][0]["snippet"]
    assert "<mark>tides</mark>" in search(client, "tides")["data"][0]["snippet"].lower()
    edit(
        client,
        f"/api/v1/articles/{article['id']}",
        json={"body_html": "<p>A heron flew off.</p>"},
        headers=auth,
    )
    assert "A <mark>heron</mark> flew off" in search(client, "heron")["data"][0]["snippet"]


def test_a_repeated_search_sees_every_write_since(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    """An anonymous search's page is kept until the next content change, no longer."""
    first = write(client, auth, title="Otter spotted")
    assert [a["id"] for a in search(client, "otter")["data"]] == [first["id"]]
    second = write(client, auth, title="Otter family returns")
    found = search(client, "otter")["data"]
    assert {a["id"] for a in found} == {first["id"], second["id"]}
    remove(client, f"/api/v1/articles/{first['id']}", headers=auth)
    assert [a["id"] for a in search(client, "otter")["data"]] == [second["id"]]


def test_a_kept_search_page_ends_at_a_takedown_its_request_straddled(
    client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page is read as of the request's clock: it must be kept under the timeline
    place of that clock, not of a later reading of it (one past the takedown kept the
    taken-down article in search until the next write)."""
    takedown = utcnow() + timedelta(hours=1)
    gone = write(client, auth, title="Ibex herd", unpublish_at=takedown.isoformat())
    stays = write(client, auth, title="Ibex kid")
    # The timeline's clock reads past the takedown; the request's does not.
    late = takedown + timedelta(seconds=1)
    monkeypatch.setattr("cms.services.visibility.utcnow", lambda: late)
    assert {a["id"] for a in search(client, "ibex")["data"]} == {gone["id"], stays["id"]}
    monkeypatch.undo()

    with time_machine.travel(late):
        assert [a["id"] for a in search(client, "ibex")["data"]] == [stays["id"]]


def test_without_the_search_cache_every_search_ranks_anew(
    app: Flask, database: str, client: FlaskClient, auth: dict[str, str]
) -> None:
    write(client, auth, title="Lynx tracks", body_html="<p>A lynx crossed.</p>")
    uncached = make_app(database, SEARCH_CACHE=False)
    with uncached.app_context():
        reader = uncached.test_client()
        [found] = search(reader, "lynx")["data"]
        assert "<mark>lynx</mark>" in found["snippet"].lower()
        write(client, auth, title="Lynx kittens")
        assert len(search(reader, "lynx")["data"]) == 2
        db.session.remove()
        db.engine.dispose()


def test_excluding_words_and_phrases(client: FlaskClient, auth: dict[str, str]) -> None:
    keep = write(client, auth, title="Electric cars sell")
    write(client, auth, title="Electric bikes sell")
    assert [a["id"] for a in search(client, "electric -bikes")["data"]] == [keep["id"]]
    assert [a["id"] for a in search(client, '"electric cars"')["data"]] == [keep["id"]]


def test_an_overlong_query_is_a_clear_problem(client: FlaskClient) -> None:
    """Past q's 500 characters, a 422 naming q; past any URL the server reads, a 414."""
    response = client.get("/api/v1/articles", query_string={"q": "a" * 5_000})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["q"]
    response = client.get("/api/v1/articles", query_string={"q": "a" * 10_240})
    assert (response.status_code, response.json["code"]) == (414, "uri_too_long")


HOSTILE = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                '"',
                "'",
                "(",
                ")",
                "*",
                "^",
                ":",
                "-",
                "+",
                "NEAR",
                "AND",
                "OR",
                "NOT",
                "NEAR(a b)",
                "title:",
                "{",
                "}",
                "\\",
                "\x00",
                "%",
                "_",
                ";--",
                "<script>",
                "é",
                "漢字",
                " ",
            ]
        ),
        max_size=40,
    ).map("".join),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=HOSTILE)
@example(query='"unterminated')
@example(query="NEAR(")
@example(query="* OR ( AND")
@example(query="-only -negatives")
def test_hostile_queries_never_fail(client: FlaskClient, query: str) -> None:
    response = client.get("/api/v1/articles", query_string={"q": query})
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"
