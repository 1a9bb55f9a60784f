"""Wrong passwords are limited across every worker process, and on every door:
login and password change count against the same per-account and per-address limits."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LOGIN_WINDOW_SECONDS
from tests.guesses import PASSWORD, FrozenClock, unique_user

ROOT = Path(__file__).resolve().parents[1]

# One worker process of a deployment without Redis: its own app, its own memory, the
# shared database. It tries wrong passwords and prints each answer's status.
WORKER = """
import json, sys
from tests.conftest import make_app

app = make_app(sys.argv[1], REDIS_URL=None, LOGIN_LIMIT_PER_ACCOUNT="5 per minute")
client = app.test_client()
for _ in range(int(sys.argv[3])):
    answer = client.post("/api/v1/auth/login", json={"email": sys.argv[2], "password": "wrong"})
    print(json.dumps([answer.status_code, answer.headers.get("Retry-After")]))
"""


def wrong_logins_in_a_new_process(database: str, email: str, count: int) -> list[Any]:
    done = subprocess.run(  # noqa: S603 - our own script, run by this Python
        [sys.executable, "-c", WORKER, database, email, str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_login_limit_holds_across_processes_without_redis(app: Flask, database: str) -> None:
    email = unique_user().email
    first = wrong_logins_in_a_new_process(database, email, 3)
    second = wrong_logins_in_a_new_process(database, email, 3)
    assert [status for status, _ in first + second] == [401] * 5 + [429]
    retry_after = second[-1][1]
    assert 1 <= int(retry_after) <= 60


def change_password(client: FlaskClient, token: str, current: str, address: str) -> Any:
    return client.post(
        "/api/v1/auth/password",
        json={"current_password": current, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_password_change_is_throttled(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(monkeypatch)
    user = unique_user()
    login = {"email": user.email, "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=login).json["access_token"]

    statuses = [change_password(client, token, "guess", "10.6.0.1").status_code for _ in range(7)]
    assert statuses == [422] * 5 + [429] * 2
    limited = change_password(client, token, PASSWORD, "10.6.0.2")  # the account is limited
    assert limited.status_code == 429
    assert limited.json["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == str(LOGIN_WINDOW_SECONDS)
    # The same guesses at the same password: the login door is closed too.
    assert client.post("/api/v1/auth/login", json=login).status_code == 429

    clock.advance(LOGIN_WINDOW_SECONDS)
    assert change_password(client, token, PASSWORD, "10.6.0.1").status_code == 204


def test_wrong_logins_limit_the_password_change(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    FrozenClock(monkeypatch)
    user = unique_user()
    token = client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    ).json["access_token"]
    for _ in range(5):
        wrong = {"email": user.email, "password": "wrong"}
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert change_password(client, token, "guess", "10.7.0.1").status_code == 429
