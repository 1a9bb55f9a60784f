"""Login is rate limited per account and per address; failures only count."""

import statistics
import time
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import LOGIN_WINDOW_SECONDS

PASSWORD = "correct horse battery"


def login(client: FlaskClient, email: str, password: str, address: str) -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_ten_wrong_logins_then_429_then_the_window_passes(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    statuses = [login(client, user.email, "wrong", "10.0.0.1").status_code for _ in range(10)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 5

    limited = login(client, user.email, PASSWORD, "10.0.0.1")
    assert limited.status_code == 429  # even the right password waits: no oracle
    assert limited.mimetype == "application/problem+json"
    assert limited.json["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= LOGIN_WINDOW_SECONDS + 1

    time.sleep(LOGIN_WINDOW_SECONDS + 0.5)
    assert login(client, user.email, PASSWORD, "10.0.0.1").status_code == 200


def test_the_account_limit_holds_across_addresses(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    statuses = [login(client, user.email, "wrong", f"10.1.0.{i}").status_code for i in range(7)]
    assert statuses[-1] == 429


def test_the_address_limit_holds_across_accounts(client: FlaskClient) -> None:
    statuses = [
        login(client, f"nobody{i}@example.com", "wrong", "10.2.0.1").status_code for i in range(12)
    ]
    assert 429 in statuses
    assert login(client, "someone@example.com", "wrong", "10.2.0.2").status_code == 401


def test_successful_logins_do_not_count(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    user = make_user()
    statuses = [login(client, user.email, PASSWORD, "10.3.0.1").status_code for _ in range(8)]
    assert statuses == [200] * 8


def test_unknown_email_and_wrong_password_take_the_same_time(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()

    def timed(email: str, address: str) -> float:
        start = time.perf_counter()
        assert login(client, email, "wrong", address).status_code == 401
        return time.perf_counter() - start

    known = statistics.median(timed(user.email, f"10.4.0.{i}") for i in range(4))
    unknown = statistics.median(timed(f"ghost{i}@example.com", f"10.5.0.{i}") for i in range(4))
    assert 0.5 < known / unknown < 2.0
