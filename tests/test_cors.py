"""CORS for browser frontends: listed origins only, credentials only for them,
preflights cached."""

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.extensions import db
from tests.conftest import make_app
from tests.factories import ArticleFactory

FRONTEND = "https://news.example"


@pytest.fixture
def cors_client(app: Flask, database: str) -> Iterator[FlaskClient]:
    """An app over the same database that lists one frontend."""
    listed = make_app(database, CORS_ORIGINS=[FRONTEND], CORS_MAX_AGE=900)
    with listed.app_context():
        yield listed.test_client()
        db.session.remove()
        db.engine.dispose()  # its own pool: closed now, not whenever it is collected


def test_a_listed_origin_reads_with_credentials(cors_client: FlaskClient) -> None:
    article = ArticleFactory()
    response = cors_client.get(f"/api/v1/articles/{article.id}", headers={"Origin": FRONTEND})
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]
    # A revalidation answered before the view keeps them too.
    etag = response.headers["ETag"]
    again = cors_client.get(
        f"/api/v1/articles/{article.id}", headers={"Origin": FRONTEND, "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == FRONTEND


def test_a_preflight_is_answered_and_cached(cors_client: FlaskClient) -> None:
    response = cors_client.options(
        "/api/v1/articles/1",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "if-match", "content-type"} <= set(allowed.replace(" ", "").split(","))
    assert response.headers["Access-Control-Max-Age"] == "900"


def test_an_origin_not_listed_gets_no_cors_headers(cors_client: FlaskClient) -> None:
    article = ArticleFactory()
    for response in (
        cors_client.get(
            f"/api/v1/articles/{article.id}", headers={"Origin": "https://evil.example"}
        ),
        cors_client.options(
            "/api/v1/articles",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        ),
        cors_client.get("/api/v1/articles/999999", headers={"Origin": "https://evil.example"}),
    ):
        assert not [k for k, _ in response.headers.items() if k.startswith("Access-Control")]


def test_no_origins_configured_means_no_cors(client: FlaskClient) -> None:
    response = client.get("/api/v1/articles", headers={"Origin": FRONTEND})
    assert "Access-Control-Allow-Origin" not in response.headers
