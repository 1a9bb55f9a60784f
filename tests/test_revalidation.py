"""Issue 13: an anonymous revalidation the app has answered with a 304 is answered again
before Flask (cms.revalidation), and only while it is still true: a write through this
app or another one over the same database, or the clock reaching a scheduled change,
ends it at once."""

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from cms.extensions import db
from cms.models import utcnow
from cms.revalidation import Revalidation
from tests.conftest import make_app
from tests.factories import ArticleFactory

FRONTEND = "https://news.example"
on_sqlite = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL pushes the generation: tests/test_pushed_generation.py",
)


@pytest.fixture
def entered(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that reached the Flask app behind the revalidation layer."""
    layer = app.wsgi_app
    assert isinstance(layer, Revalidation)
    inner, paths = layer.wsgi_app, []

    def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        paths.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    layer.wsgi_app = counting
    yield paths
    layer.wsgi_app = inner


def revalidate(client: FlaskClient, url: str, etag: str, **headers: str) -> Any:
    return client.get(url, headers={"If-None-Match": etag, **headers})


def without_date(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "Date"}


def test_a_repeated_revalidation_is_answered_before_the_app(
    client: FlaskClient, entered: list[str]
) -> None:
    article = ArticleFactory(slug="steady")
    urls = ["/api/v1/articles?include=authors", "/api/v1/articles/slug/steady"]
    urls.append(f"/api/v1/articles/{article.id}")
    for url in urls:
        etag = client.get(url).headers["ETag"]
        first = revalidate(client, url, etag)
        entered.clear()
        again = revalidate(client, url, f'W/{etag}, "other"')  # weak comparison, as the app's
        assert (first.status_code, again.status_code) == (304, 304)
        assert entered == []
        assert without_date(again) == without_date(first)
        # Another validator, or none, is the app's to answer.
        assert revalidate(client, url, '"stale"').status_code == 200
        assert revalidate(client, url, "*").status_code in (200, 304)
        assert revalidate(client, url, etag, **{"If-Match": '"other"'}).status_code == 412
        assert entered == [url.split("?")[0]] * 3


def test_a_write_ends_them(client: FlaskClient, admin: dict[str, str], entered: list[str]) -> None:
    article = ArticleFactory(title="Before")
    urls = ["/api/v1/articles", f"/api/v1/articles/{article.id}"]
    etags = {url: client.get(url).headers["ETag"] for url in urls}
    for url in urls:
        assert revalidate(client, url, etags[url]).status_code == 304
    changed = client.patch(
        f"/api/v1/articles/{article.id}",
        json={"title": "After"},
        headers={**admin, "If-Match": etags[urls[1]]},
    )
    assert changed.status_code == 200, changed.json
    for url in urls:
        entered.clear()
        fresh = revalidate(client, url, etags[url])
        assert fresh.status_code == 200
        assert fresh.headers["ETag"] != etags[url]
        assert "After" in fresh.get_data(as_text=True)
        assert entered == [url]


@on_sqlite
def test_a_write_through_another_app_ends_them(client: FlaskClient, database: str) -> None:
    """Another process over the same database: the generation is read on each answer."""
    article = ArticleFactory(title="Before")
    url = f"/api/v1/articles/{article.id}"
    etag = client.get(url).headers["ETag"]
    assert revalidate(client, url, etag).status_code == 304
    assert revalidate(client, url, etag).status_code == 304

    other = make_app(database)
    with other.app_context():
        other_article = db.session.get(type(article), article.id)
        assert other_article is not None
        other_article.title = "After"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert revalidate(client, url, etag).status_code == 200


def test_the_clock_ends_them(client: FlaskClient, admin: dict[str, str]) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        ArticleFactory(title="Old")
        leaving = ArticleFactory(title="Leaving", unpublish_at=utcnow() + timedelta(seconds=40))
        in_30s = (utcnow() + timedelta(seconds=30)).isoformat()
        scheduled = client.post(
            "/api/v1/articles",
            json={"title": "Coming", "status": "scheduled", "published_at": in_30s},
            headers=admin,
        )
        assert scheduled.status_code == 201, scheduled.json
        item = f"/api/v1/articles/{leaving.id}"
        etags = {url: client.get(url).headers["ETag"] for url in ("/api/v1/articles", item)}

        clock.shift(timedelta(seconds=10))
        for url, seconds_left in (("/api/v1/articles", 20), (item, 30)):
            for _ in range(2):  # the app's answer, then the repeated one: counted down
                answer = revalidate(client, url, etags[url])
                assert answer.status_code == 304
                assert answer.cache_control.max_age == seconds_left

        clock.shift(timedelta(seconds=19))
        assert revalidate(client, "/api/v1/articles", etags["/api/v1/articles"]).status_code == 304
        clock.shift(timedelta(seconds=1))  # its time, to the second
        listed = revalidate(client, "/api/v1/articles", etags["/api/v1/articles"])
        assert listed.status_code == 200
        assert "Coming" in listed.get_data(as_text=True)

        clock.shift(timedelta(seconds=9))
        assert revalidate(client, item, etags[item]).status_code == 304
        clock.shift(timedelta(seconds=1))
        assert revalidate(client, item, etags[item]).status_code == 404


@pytest.fixture
def cors_client(app: Flask, database: str) -> Iterator[FlaskClient]:
    listed = make_app(database, CORS_ORIGINS=[FRONTEND])
    with listed.app_context():
        yield listed.test_client()
        db.session.remove()
        db.engine.dispose()


def test_origin_and_accept_are_answered_apart(cors_client: FlaskClient) -> None:
    article = ArticleFactory(slug="apart")
    url = "/api/v1/articles/slug/apart"
    etag = cors_client.get(url).headers["ETag"]
    for _ in range(2):
        listed = revalidate(cors_client, url, etag, Origin=FRONTEND)
        assert listed.status_code == 304
        assert listed.headers["Access-Control-Allow-Origin"] == FRONTEND
    for _ in range(2):
        unlisted = revalidate(cors_client, url, etag, Origin="https://evil.example")
        assert unlisted.status_code == 304
        assert "Access-Control-Allow-Origin" not in unlisted.headers
    markdown = revalidate(cors_client, url, etag, Accept="text/markdown")
    assert markdown.status_code == 200  # a post has its own validator
    assert markdown.headers["Content-Type"].startswith("text/markdown")
    assert article.id


def test_callers_with_credentials_never_get_them(
    client: FlaskClient, auth: dict[str, str], entered: list[str]
) -> None:
    ArticleFactory(title="Public")
    ArticleFactory(title="Draft", status="draft", published_at=None)
    url = "/api/v1/articles"
    etag = client.get(url).headers["ETag"]
    assert revalidate(client, url, etag).status_code == 304
    assert revalidate(client, url, etag).status_code == 304
    entered.clear()
    editor = revalidate(client, url, etag, **auth)
    assert editor.status_code == 200  # an editor's list holds the draft: its own validator
    assert "Draft" in editor.get_data(as_text=True)
    assert entered == [url]
