"""A throw-away database per test run: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL is used when DATABASE_URL is set. The server outlives the run, so each run
creates its own database (cms_test_<random>) and drops it at the end.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from cms.generation import stop_watching

REQUIRE_SERVICES = os.environ.get("CMS_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Fail in CI (services are part of the contract there), skip elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CMS_REQUIRE_SERVICES=1: CI must not skip)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def database_url(tmp_dir: Path) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_dir / 'test.sqlite3'}"
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cms_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL at DATABASE_URL is unreachable: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        test_url = url.set(database=name).render_as_string(hide_password=False)
        try:
            yield test_url
        finally:
            stop_watching(test_url)  # or its listener thread would call the dropped one
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_settings() -> Iterator[dict[str, str]]:
    """With REDIS_URL set: use it under a key prefix of this run's own, deleted after."""
    url = os.environ.get("REDIS_URL")
    if not url:
        yield {}
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis at REDIS_URL is unreachable: {error}")
    prefix = f"cms_test_{secrets.token_hex(4)}:"
    try:
        yield {"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix}
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
