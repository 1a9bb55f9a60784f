"""Login is rate limited per account and per address; failures only count."""

import statistics
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LOGIN_WINDOW_SECONDS
from tests.guesses import PASSWORD, FrozenClock, unique_user


def login(client: FlaskClient, email: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_ten_wrong_logins_then_429_then_the_window_passes(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(monkeypatch)
    user = unique_user()
    statuses = [login(client, user.email, "wrong", "10.0.0.1").status_code for _ in range(10)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 5

    limited = login(client, user.email, PASSWORD, "10.0.0.1")
    assert limited.status_code == 429  # even the right password waits: no oracle
    assert limited.mimetype == "application/problem+json"
    assert limited.json["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == str(LOGIN_WINDOW_SECONDS)

    clock.advance(LOGIN_WINDOW_SECONDS - 1)
    assert login(client, user.email, PASSWORD, "10.0.0.1").status_code == 429
    clock.advance(1)
    assert login(client, user.email, PASSWORD, "10.0.0.1").status_code == 200


def test_the_account_limit_holds_across_addresses(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    FrozenClock(monkeypatch)
    user = unique_user()
    statuses = [login(client, user.email, "wrong", f"10.1.0.{i}").status_code for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2


def test_the_address_limit_holds_across_accounts(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    FrozenClock(monkeypatch)
    statuses = [
        login(client, f"nobody{i}@example.com", "wrong", "10.2.0.1").status_code for i in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2
    assert login(client, "someone@example.com", "wrong", "10.2.0.2").status_code == 401


def test_successful_logins_do_not_count(app: Flask, client: FlaskClient) -> None:
    user = unique_user()
    statuses = [login(client, user.email, PASSWORD, "10.3.0.1").status_code for _ in range(8)]
    assert statuses == [200] * 8


def test_unknown_email_and_wrong_password_take_the_same_time(
    app: Flask, client: FlaskClient
) -> None:
    user = unique_user()

    def timed(email: str, address: str) -> float:
        start = time.perf_counter()
        assert login(client, email, "wrong", address).status_code == 401
        return time.perf_counter() - start

    known = statistics.median(timed(user.email, f"10.4.0.{i}") for i in range(4))
    unknown = statistics.median(timed(f"ghost{i}@example.com", f"10.5.0.{i}") for i in range(4))
    assert 0.5 < known / unknown < 2.0
