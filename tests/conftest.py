"""Fixtures: a migrated database per run, an app, a client, and authenticated headers."""

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from cms import create_app
from cms.caching import clear_caches
from cms.extensions import db
from cms.jobs import flush_queue, run_queued
from cms.models import Base, Role
from cms.services.users import create_user
from tests.databases import database_url, redis_settings
from tests.feed_server import FeedServer

SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
LOGIN_WINDOW_SECONDS = 2
SEEDED_BY_MIGRATIONS = {"content_state"}  # rows the app relies on: never emptied


def make_app(database: str, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            # Jobs wait in memory until a test runs them (cms.jobs.run_queued); worker
            # processes have tests of their own (tests/test_workers.py).
            "QUEUE_URL": "memory://",
            # Short windows, so a test can wait one out.
            "LOGIN_LIMIT_PER_ACCOUNT": f"5 per {LOGIN_WINDOW_SECONDS} seconds",
            "LOGIN_LIMIT_PER_ADDRESS": f"10 per {LOGIN_WINDOW_SECONDS} seconds",
            **overrides,
        }
    )


def run_jobs(until: datetime | None = None) -> int:
    """Run the queued jobs as a worker would (cms.jobs.run_queued: each in an app context
    and session of its own), then end the test's own transaction so it sees their writes
    (SQLite keeps a reader on the snapshot its transaction began with)."""
    db.session.rollback()
    ran = run_queued(until)
    db.session.rollback()
    return ran


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, str]]:
    """Redis settings for the run (empty without REDIS_URL: memory and database stores)."""
    with redis_settings() as settings:
        yield settings


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database, built by the migrations (not create_all)."""
    with database_url(tmp_path_factory.mktemp("db")) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def app(database: str, services: dict[str, str], media_root: Path) -> Iterator[Flask]:
    # Renditions are made before the upload answers, so tests see them at once (the
    # background path has a test of its own).
    app = make_app(
        database, STORAGE_URL=f"file://{media_root}", IMAGE_RENDERING="request", **services
    )
    with app.app_context():
        yield app
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from empty tables (the schema stays: it is the migrated one)."""
    yield
    if "app" not in request.fixturenames:
        return
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in SEEDED_BY_MIGRATIONS:
                connection.execute(table.delete())
    db.session.remove()
    clear_caches()  # emptying tables behind the app's back is like a restart
    flush_queue()  # and so is forgetting what was queued


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.EDITOR, password: str = "correct horse battery") -> Any:
        user = create_user(
            db.session, email=f"user{next(counter)}@example.com", password=password, role=role
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def auth(client: FlaskClient, make_user: Callable[..., Any]) -> dict[str, str]:
    """Authorization headers of a freshly logged-in editor."""
    user = make_user()
    response = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Log in a fresh user of a role: (the user, their Authorization headers)."""

    def as_role(role: Role) -> tuple[Any, dict[str, str]]:
        user = make_user(role)
        body = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"}
        )
        return user, {"Authorization": f"Bearer {body.json['access_token']}"}

    return as_role


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., Any]) -> dict[str, str]:
    """Authorization headers of a freshly logged-in admin."""
    user = make_user(Role.ADMIN)
    response = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(db.engine, "before_cursor_execute", counter)


@pytest.fixture
def row_counts(app: Flask) -> Callable[[], dict[str, int]]:
    """Rows per table: compare before and after a refused request to prove nothing changed."""

    def snapshot() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {
                table.name: connection.execute(
                    text(f"SELECT count(*) FROM {table.name}")  # noqa: S608 - our own names
                ).scalar_one()
                for table in Base.metadata.sorted_tables
            }

    return snapshot


FAST_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def fast_password_hash() -> str:
    """Hash once per run: argon2 is slow on purpose, and tests create many users."""
    from cms.services.users import _hasher

    return _hasher.hash(FAST_PASSWORD)


def with_etag(client: FlaskClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    """Headers plus If-Match with the ETag a GET of `url` returns, as a real client does."""
    etag = client.get(url, headers=headers).headers.get("ETag", '"none"')
    return {**headers, "If-Match": etag}


def edit(client: FlaskClient, url: str, *, json: Any, headers: dict[str, str]) -> Any:
    return client.patch(url, json=json, headers=with_etag(client, url, headers))


def remove(client: FlaskClient, url: str, *, headers: dict[str, str]) -> Any:
    return client.delete(url, headers=with_etag(client, url, headers))


@pytest.fixture
def server(app: Flask) -> Iterator[FeedServer]:
    """A loopback feed server the app may fetch from (allow-listed in FETCH_ALLOW)."""
    server = FeedServer()
    app.config["FETCH_ALLOW"] = [f"127.0.0.1:{server.port}"]
    yield server
    app.config["FETCH_ALLOW"] = []
    server.close()


@pytest.fixture
def internal() -> Iterator[FeedServer]:
    """A service inside the network (never allow-listed): fetch tests prove it receives
    no request."""
    server = FeedServer()
    yield server
    server.close()
