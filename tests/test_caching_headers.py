"""Issue 10, finding 13: what shared caches key on, and what they may store."""

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import ArticleFactory

FORGED_HOST = "attacker.example"


def test_every_article_representation_varies_on_accept(client: FlaskClient) -> None:
    """JSON and the front-matter post share a URL: a CDN must not hand one for the other,
    including the 304s answered before the view runs."""
    article = ArticleFactory(slug="two-ways")
    for url in (f"/api/v1/articles/{article.id}", "/api/v1/articles/slug/two-ways"):
        for accept in ("application/json", "text/markdown"):
            first = client.get(url, headers={"Accept": accept})
            assert first.status_code == 200
            assert "Accept" in first.headers["Vary"], (url, accept)
            again = client.get(
                url, headers={"Accept": accept, "If-None-Match": first.headers["ETag"]}
            )
            assert again.status_code == 304
            assert "Accept" in again.headers["Vary"], (url, accept, "304")


def _publicly_cached_urls(article_id: int) -> list[str]:
    return [
        "/api/v1/articles",
        "/api/v1/articles?page=1&page_size=1",
        "/api/v1/tags",
        f"/api/v1/articles/{article_id}",
        "/api/v1/articles/999999",  # a problem
        "/api/v1/articles?nonsense=1",  # a problem
    ]


def test_the_host_header_is_never_reflected_into_public_responses(client: FlaskClient) -> None:
    article = ArticleFactory()
    for url in _publicly_cached_urls(article.id):
        response = client.get(url, headers={"Host": FORGED_HOST})
        assert FORGED_HOST not in response.get_data(as_text=True), url
        assert all(FORGED_HOST not in value for _, value in response.headers), url


@pytest.fixture
def public_base(app: Flask) -> Iterator[str]:
    base = "https://cms.example.com"
    app.config["PUBLIC_BASE_URL"] = base
    yield base
    app.config["PUBLIC_BASE_URL"] = ""


def test_links_and_problem_types_use_the_configured_public_base_url(
    client: FlaskClient, public_base: str
) -> None:
    ArticleFactory()
    ArticleFactory()
    listing = client.get("/api/v1/articles?page_size=1", headers={"Host": FORGED_HOST}).json
    assert listing["links"]["self"] == f"{public_base}/api/v1/articles?page_size=1"
    assert listing["links"]["next"].startswith(f"{public_base}/api/v1/articles?")
    problem = client.get("/api/v1/articles/999999", headers={"Host": FORGED_HOST}).json
    assert problem["type"] == f"{public_base}/problems/not-found"
