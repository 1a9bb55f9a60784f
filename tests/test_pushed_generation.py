"""Issue 13: on PostgreSQL the content generation is pushed to each process
(LISTEN/NOTIFY), so a CDN's revalidation (a 304) takes no database connection at all,
and a change committed elsewhere still turns the next revalidation into a 200."""

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from cms.extensions import db
from cms.generation import CHANNEL, LISTENER, QUIET_LIMIT, GenerationWatcher, watcher_for
from tests.databases import database_url
from tests.factories import ArticleFactory

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (CI's PostgreSQL + Redis pass runs it): SQLite cannot notify",
)


def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait for the listener thread (its connection, its notice), never longer than `within`."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the listener did not catch up"
        time.sleep(0.01)


def listening(app: Flask) -> GenerationWatcher:
    watcher: GenerationWatcher = app.extensions["generation_watcher"]
    eventually(lambda: watcher.current() is not None)
    return watcher


def test_a_revalidation_takes_no_database_connection(app: Flask, client: FlaskClient) -> None:
    article = ArticleFactory(slug="pushed")
    listening(app)
    urls = ["/api/v1/articles", f"/api/v1/articles/{article.id}", "/api/v1/articles/slug/pushed"]
    etags = {url: client.get(url).headers["ETag"] for url in urls}
    for url in urls:  # the first revalidation may read what it keeps (a stamp, the timeline)
        assert client.get(url, headers={"If-None-Match": etags[url]}).status_code == 304

    checkouts: list[object] = []
    record = lambda *_: checkouts.append(1)  # noqa: E731
    event.listen(db.engine.pool, "checkout", record)
    try:
        for url in urls:
            assert client.get(url, headers={"If-None-Match": etags[url]}).status_code == 304
    finally:
        event.remove(db.engine.pool, "checkout", record)
    assert checkouts == []


def test_a_change_committed_elsewhere_ends_the_304s(app: Flask, client: FlaskClient) -> None:
    article = ArticleFactory(title="Before")
    watcher = listening(app)
    url = f"/api/v1/articles/{article.id}"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    # Another process: its own connection, its own transaction, the same protocol.
    with psycopg.connect(watcher.conninfo) as other:
        other.execute(
            "UPDATE articles SET title = 'After', version = version + 1, "
            "updated_at = now() WHERE id = %s",
            (article.id,),
        )
        [generation] = other.execute(
            "UPDATE content_state SET generation = generation + 1 WHERE id = 1 RETURNING generation"
        ).fetchone()
        other.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(generation)))
        assert watcher.current() != generation  # nothing is heard before the commit
    eventually(lambda: watcher.current() == generation)

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.json["title"] == "After"


def test_a_lost_listener_falls_back_to_reading(app: Flask, client: FlaskClient) -> None:
    watcher = listening(app)
    with psycopg.connect(watcher.conninfo, autocommit=True) as admin:
        [(ended,)] = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (LISTENER,),
        ).fetchall()
    assert ended >= 1
    eventually(lambda: watcher.current() is None)  # lost: the generation is read meanwhile
    article = ArticleFactory(title="Seen")
    assert client.get(f"/api/v1/articles/{article.id}").json["title"] == "Seen"
    eventually(lambda: watcher.current() is not None)  # listening again
    article.title = "Seen again"
    db.session.commit()
    assert client.get(f"/api/v1/articles/{article.id}").json["title"] == "Seen again"


def test_a_listener_not_heard_from_is_not_trusted(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that died without a reset leaves the thread blocked and `live` set:
    past QUIET_LIMIT without a read or a notice, the generation is read per request."""
    watcher = listening(app)
    assert watcher.current() is not None
    monkeypatch.setattr(watcher, "heard_at", time.monotonic() - QUIET_LIMIT - 1)
    assert watcher.live
    assert watcher.current() is None
    article = ArticleFactory(title="Read, not heard")
    assert client.get(f"/api/v1/articles/{article.id}").json["title"] == "Read, not heard"


def test_a_dropped_database_takes_its_listener_with_it(tmp_path: Path) -> None:
    """A listener on a database about to be dropped is stopped first: it went on trying
    to reconnect to it, every 30 s, for as long as the process lived."""

    def listeners() -> int:
        return sum(thread.name == "generation" for thread in threading.enumerate())

    before = listeners()
    with database_url(tmp_path) as url:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute("CREATE TABLE content_state (id int PRIMARY KEY, generation int)")
            connection.execute("INSERT INTO content_state VALUES (1, 7)")
        watcher = watcher_for(url)
        assert watcher is not None
        eventually(lambda: watcher.current() is not None)  # listening
        assert listeners() == before + 1
    eventually(lambda: listeners() == before)
    assert watcher_for(url) is not watcher  # a later app gets a listener of its own
