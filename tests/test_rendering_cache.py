"""Issue 13: the per-process rendering cache holds one rendering per article version,
whatever the shapes asked for, and is bounded by bytes, not only by entries."""

from typing import Any

import pytest
from flask.testing import FlaskClient

from cms.api.articles import read
from cms.caching import LRU
from tests.conftest import QueryCounter
from tests.factories import ArticleFactory, AuthorFactory, CategoryFactory, TagFactory

SHAPES = ["", "include=authors", "include=authors,category,tags", "fields=id,title,body_html"]


def test_a_byte_bound_evicts_the_oldest_and_keeps_nothing_too_large() -> None:
    cache = LRU(size=100, max_bytes=1000)
    for key in range(4):
        cache.put(key, str(key), 300)
    assert (list(cache.entries), cache.bytes) == ([1, 2, 3], 900)
    cache.put(2, "2 again", 500)  # a bigger value for a key: its new size counts
    assert (list(cache.entries), cache.bytes) == ([3, 2], 800)
    cache.put("huge", "x", 5000)  # over the whole budget: not kept, and evicts nothing
    assert (list(cache.entries), cache.bytes) == ([3, 2], 800)
    cache.put(3, "3 grown too large", 5000)  # a key's new value too large: the old goes
    assert (list(cache.entries), cache.bytes) == ([2], 500)


def test_one_rendering_serves_every_shape(
    client: FlaskClient, count_queries: QueryCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = LRU(size=100, max_bytes=10**9)
    monkeypatch.setattr(read, "_rendered", cache)
    author, category, tag = AuthorFactory(bio="Writes"), CategoryFactory(), TagFactory()
    articles = [ArticleFactory(authors=[author], category=category, tags=[tag]) for _ in range(3)]
    bodies: dict[str, Any] = {}
    for shape in SHAPES:
        listed = client.get(f"/api/v1/articles?{shape}").json["data"]
        bodies[shape] = {item["id"]: item for item in listed}
    assert len(cache.entries) == len(articles)

    full, compact = bodies["include=authors,category,tags"], bodies[""]
    for article in articles:
        assert full[article.id]["authors"][0]["bio"] == "Writes"
        assert "bio" not in compact[article.id]["authors"][0]
        assert set(full[article.id]["category"]) > set(compact[article.id]["category"])
        assert bodies["include=authors"][article.id]["category"] == compact[article.id]["category"]
        assert set(bodies["fields=id,title,body_html"][article.id]) == {"id", "title", "body_html"}

    # Warm, a shape asked for the first time costs one query per relation it adds: the
    # citing pages (the total is remembered, the stamps are read raw); no bodies.
    count_queries.statements.clear()
    client.get("/api/v1/articles?page_size=21&include=cited_by")  # another URL: no 304
    [citations] = count_queries.statements
    assert "FROM page_citations" in citations


def test_large_bodies_are_held_within_the_byte_budget(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = 2_500_000
    cache = LRU(size=4096, max_bytes=budget)
    monkeypatch.setattr(read, "_rendered", cache)
    megabyte = "<p>" + "news " * 200_000 + "</p>"
    for _ in range(8):
        ArticleFactory(body_html=megabyte)
    for shape in SHAPES:
        for page in (1, 2):
            response = client.get(f"/api/v1/articles?page_size=4&page={page}&{shape}")
            assert len(response.json["data"]) == 4
    assert 0 < cache.bytes <= budget
    assert len(cache.entries) == 2  # two 1 MB renderings fit in 2.5 MB, a third does not
