"""Faults of what the API stands on: the database, Redis, the media disk. Each gives a
documented problem, keeps nothing half-written, and the API recovers when it is back.

The faults are real where they can be: a lock another writer holds, a database file
gone, a PostgreSQL backend terminated, ports nothing listens on. A full disk cannot be
had everywhere, so the storage's filesystem is given a number of free bytes instead.
"""

import errno
import io
import os
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from PIL import Image as Pillow
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

import cms.storage
from cms.auth.tokens import create_api_token
from cms.extensions import db
from cms.models import Role, Tag
from cms.problems import RETRY_AFTER_SECONDS
from cms.services.users import create_user
from tests.conftest import make_app
from tests.databases import database_url

PASSWORD = "correct horse battery"


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


@contextmanager
def closed_port() -> Iterator[int]:
    """A local port held, never listened on: connecting to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


# The database --------------------------------------------------------------------


class SqliteFaults:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # The app waits busy_timeout (5 s) for a lock; a blocked write is as blocked
        # after a tenth of a second, and the test need not wait the rest.
        event.listen(db.engine, "connect", self._short_busy_timeout)
        db.engine.dispose()  # the connections open so far wait the 5 s

    @staticmethod
    def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=100")

    @contextmanager
    def writes_blocked(self) -> Iterator[None]:
        """Another process holds the write lock: reads go on, the first write fails."""
        other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    @contextmanager
    def unreachable(self) -> Iterator[None]:
        """The database file's folder is gone (a lost mount): no connection opens."""
        db.engine.dispose()  # connections still open would keep reading the old file
        gone = self.folder.rename(self.folder.with_name("gone"))
        try:
            yield
        finally:
            gone.rename(self.folder)


class PostgresFaults:
    def __init__(self, url: str) -> None:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.admin = psycopg.connect(dsn, autocommit=True)

    def _terminate(self, where: str, *params: Any) -> None:
        self.admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "  # noqa: S608
            f"WHERE datname = current_database() AND pid <> pg_backend_pid() AND {where}",
            params,
        )

    @contextmanager
    def writes_blocked(self) -> Iterator[None]:
        """The request's backend is terminated as it commits, its INSERT already sent."""

        pending = [True]  # once: the request after it finds the database back

        def terminate(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if pending and statement.startswith("UPDATE content_state"):  # before commit
                pending.clear()
                self._terminate("pid = %s", cursor.connection.info.backend_pid)

        event.listen(db.engine, "before_cursor_execute", terminate)
        try:
            yield
        finally:
            event.remove(db.engine, "before_cursor_execute", terminate)

    @contextmanager
    def unreachable(self) -> Iterator[None]:
        """The server is gone: its connections die, and its port refuses new ones."""
        with closed_port() as port:

            def elsewhere(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
                params["port"] = port

            event.listen(db.engine, "do_connect", elsewhere)
            self._terminate("true")
            try:
                yield
            finally:
                event.remove(db.engine, "do_connect", elsewhere)

    def close(self) -> None:
        self.admin.close()


@pytest.fixture
def own(tmp_path: Path) -> Iterator[tuple[Flask, SqliteFaults | PostgresFaults]]:
    """An app on a database of its own (this test breaks it), with an editor, and the
    faults that database can be given."""
    folder = tmp_path / "db"
    folder.mkdir()
    with database_url(folder) as url:
        app = make_app(url, PROPAGATE_EXCEPTIONS=False)
        with app.app_context():
            upgrade()
            faults = PostgresFaults(url) if url.startswith("postgresql") else SqliteFaults(folder)
            create_user(db.session, email="editor@example.com", password=PASSWORD, role=Role.EDITOR)
            db.session.commit()
            try:
                yield app, faults
            finally:
                if isinstance(faults, PostgresFaults):
                    faults.close()
                db.session.remove()
                db.engine.dispose()


def editor_headers(client: FlaskClient) -> dict[str, str]:
    response = login(client, "editor@example.com")
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def tag_names() -> list[str]:
    names = list(db.session.scalars(select(Tag.name)))
    db.session.rollback()
    return names


def test_a_write_cut_off_by_the_database_is_503_and_keeps_nothing(own: Any) -> None:
    app, faults = own
    client = app.test_client()
    headers = editor_headers(client)
    with faults.writes_blocked():
        response = client.post("/api/v1/tags", json={"name": "Lost"}, headers=headers)
    assert_unavailable(response)
    assert tag_names() == []
    again = client.post("/api/v1/tags", json={"name": "Kept"}, headers=headers)
    assert again.status_code == 201, again.json
    assert tag_names() == ["Kept"]


def test_an_unreachable_database_is_503_until_it_is_back(own: Any) -> None:
    app, faults = own
    client = app.test_client()
    headers = editor_headers(client)
    with faults.unreachable():
        assert_unavailable(client.get("/api/v1/articles"))
        assert_unavailable(client.post("/api/v1/tags", json={"name": "Lost"}, headers=headers))
    assert client.get("/api/v1/articles").status_code == 200
    assert client.post("/api/v1/tags", json={"name": "Kept"}, headers=headers).status_code == 201
    assert tag_names() == ["Kept"]


def test_a_database_error_that_is_a_bug_stays_a_500(own: Any) -> None:
    app, _ = own
    with db.engine.begin() as connection:  # a schema the code does not match
        connection.execute(text("DROP TABLE article_tags"))
        connection.execute(text("DROP TABLE tags"))
    response = app.test_client().get("/api/v1/tags")
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "Retry-After" not in response.headers


# Redis ---------------------------------------------------------------------------


@pytest.fixture
def redis_down(app: Flask, database: str, media_root: Path) -> Iterator[Flask]:
    """The app as deployed with Redis, while nothing answers at REDIS_URL (on the
    shared database: `app` empties its tables after the test)."""
    with closed_port() as port:
        down = make_app(
            database,
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            STORAGE_URL=f"file://{media_root}",
            LOGIN_LIMIT_PER_ACCOUNT="3 per minute",  # no window runs out during the test
        )
        with down.app_context():
            yield down
            db.session.remove()
            db.engine.dispose()


def test_redis_down_logins_go_on_with_the_limits_kept_in_the_database(
    redis_down: Flask, make_user: Callable[..., Any]
) -> None:
    email = make_user().email
    client = redis_down.test_client()
    assert login(client, email).status_code == 200
    wrong = [login(client, email, "wrong password").status_code for _ in range(4)]
    assert wrong == [401, 401, 401, 429]


@pytest.mark.parametrize(
    ("path", "token"),
    [
        ("/api/v1/auth/me", "access_token"),
        ("/api/v1/auth/refresh", "refresh_token"),
        ("/api/v1/auth/logout", "access_token"),
    ],
)
def test_redis_down_requests_with_a_jwt_fail_closed(
    redis_down: Flask, make_user: Callable[..., Any], path: str, token: str
) -> None:
    """No one can tell whether the token was revoked: 503, never a 500 nor a pass."""
    client = redis_down.test_client()
    tokens = login(client, make_user().email).json
    method = client.get if path.endswith("/me") else client.post
    assert_unavailable(method(path, headers={"Authorization": f"Bearer {tokens[token]}"}))


def test_redis_down_leaves_anonymous_reads_and_api_tokens_alone(redis_down: Flask) -> None:
    _, secret = create_api_token(
        db.session, name="robot", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    client = redis_down.test_client()
    assert client.get("/api/v1/articles").status_code == 200
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert (me.status_code, me.json["kind"]) == (200, "api_token")


# The media disk ------------------------------------------------------------------


class DiskWithRoom:
    """The storage's filesystem with `free` bytes left. A write that does not fit puts
    what fits in the file, then fails with ENOSPC, as the kernel's write(2) does."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.files_that_fit = 0

    def NamedTemporaryFile(self, **options: Any) -> Any:  # noqa: N802 - tempfile's name
        handle = tempfile.NamedTemporaryFile(**options)  # noqa: SIM115 - the caller's
        into_file = handle.file.write

        def write(data: bytes) -> int:
            written = into_file(data[: max(self.free, 0)])
            self.free -= written
            if written < len(data):
                handle.file.flush()  # the part that fit is on disk
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.files_that_fit += 1
            return int(written)

        handle.write = write
        return handle


@pytest.fixture
def media_files(media_root: Path) -> Iterator[Callable[[], set[str]]]:
    def stored() -> set[str]:
        return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}

    yield stored
    for path in sorted(media_root.rglob("*"), reverse=True):  # the next test starts empty
        path.unlink() if path.is_file() else path.rmdir()


def photo() -> bytes:
    """Noise: it compresses badly, so every rendition takes room."""
    buffer = io.BytesIO()
    Pillow.frombytes("RGB", (800, 600), os.urandom(800 * 600 * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


# The disk fills up in the upload itself, or in the first rendition, after the
# original (and, with the renditions made in the request, more) was written in full.
@pytest.mark.parametrize("room_past_the_original", [None, 10_000], ids=["original", "rendition"])
def test_a_full_disk_keeps_no_image_and_no_file(
    client: FlaskClient,
    auth: dict[str, str],
    media_files: Callable[[], set[str]],
    row_counts: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    room_past_the_original: int | None,
) -> None:
    data = photo()
    disk = DiskWithRoom(
        1_000 if room_past_the_original is None else len(data) + room_past_the_original
    )
    monkeypatch.setattr(cms.storage, "tempfile", disk)
    rows = row_counts()
    form = {"file": (io.BytesIO(data), "photo.jpg", "image/jpeg")}
    response = client.post("/api/v1/images", data=form, headers=auth)
    assert response.status_code == 507, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "insufficient_storage"
    assert disk.files_that_fit == (0 if room_past_the_original is None else 1)
    assert row_counts() == rows  # no image, no renditions
    assert media_files() == set()  # nor any file of theirs, whole or partial
