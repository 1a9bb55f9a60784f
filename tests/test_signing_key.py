"""Tokens are signed with a key of this installation's own, never one from the source."""

import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt as pyjwt
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup

from cms import config, create_app
from cms.config import ConfigurationError
from cms.extensions import db
from cms.models import Role
from tests.conftest import make_app
from tests.guesses import PASSWORD, unique_user

# The key the source used to carry: anyone could sign tokens with it.
OLD_SOURCE_KEY = "dev-only-insecure-secret-change-me-0123456789"


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key in the environment, not in development, and an empty instance folder."""
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "CMS_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    return tmp_path


@contextmanager
def serving(app: Flask) -> Iterator[Flask]:
    """An app of its own on the test database (a server started with this config)."""
    yield app
    with app.app_context():
        db.engine.dispose()


def forged_admin_token(user_id: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "type": "access", "fresh": False, "jti": "forged"}
    claims |= {"iat": now, "nbf": now, "exp": now + 600, "fid": "f", "gen": 0, "role": "admin"}
    return pyjwt.encode(claims, OLD_SOURCE_KEY, algorithm="HS256")


def test_default_signing_key_is_refused_outside_development(
    app: Flask, instance: Path, database: str
) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set") as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": database})  # how gunicorn starts wsgi:app
    assert "Set SECRET_KEY to a random string of at least 32 bytes" in str(refused.value)

    # Where a key may still be made up (development, tests), it is never the old one.
    admin = unique_user(Role.ADMIN)
    with serving(make_app(database, SECRET_KEY=None)) as development:
        headers = {"Authorization": f"Bearer {forged_admin_token(admin.id)}"}
        response = development.test_client().get("/api/v1/users", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_generated_key_is_owner_only_and_reused(
    app: Flask, instance: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CMS_ENV", "development")  # what `make run` sets
    user = unique_user()
    with serving(create_app({"SQLALCHEMY_DATABASE_URI": database})) as first:
        login = {"email": user.email, "password": PASSWORD}
        token = first.test_client().post("/api/v1/auth/login", json=login).json["access_token"]
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes().strip()) >= config.MIN_KEY_BYTES

    with serving(create_app({"SQLALCHEMY_DATABASE_URI": database})) as restarted:
        me = restarted.test_client().get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert restarted.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert me.status_code == 200  # tokens survive a restart
    # No temporary left (the job queue's file, without Redis, is the only other one)
    names = {p.name for p in instance.iterdir()} - {"queue.sqlite3"}
    assert names == {"secret_key"}


@pytest.mark.parametrize("key", ["short", "x" * 31, "é" * 15])
def test_short_signing_key_is_refused(
    instance: Path, database: str, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SECRET_KEY is shorter than 32 bytes"):
        create_app({"SQLALCHEMY_DATABASE_URI": database})


def test_flask_commands_run_without_a_key(instance: Path, database: str) -> None:
    """An operator's `flask db upgrade`, `flask cms ...` sign nothing: no key needed."""
    cli = FlaskGroup(
        create_app=lambda: create_app({"SQLALCHEMY_DATABASE_URI": database}), load_dotenv=False
    )
    result = CliRunner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    assert "/api/v1/auth/login" in result.output
    assert not (instance / "secret_key").exists()  # a throw-away key, nothing written
