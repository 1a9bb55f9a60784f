"""Issue 13: several stateless processes on one PostgreSQL + Redis. Two gunicorn
instances (2 sync workers each), as two machines of a deployment run them: what one
writes, the next read through the other shows (body, ETag, totals); a credential
revoked through one is refused by the other; wrong passwords count across both."""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.consumers.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, serve_app
from tests.databases import database_url

# Each worker of a server answers some of these: enough to reach both.
ROUNDS = 8


@pytest.fixture
def two_servers(tmp_path: Path, services: dict[str, str]) -> Iterator[tuple[str, str]]:
    if not services or not os.environ.get("DATABASE_URL"):
        pytest.skip("needs DATABASE_URL and REDIS_URL (CI's PostgreSQL + Redis pass runs it)")
    with database_url(tmp_path) as url:
        settings = {"DATABASE_URL": url, **services}
        instance = tmp_path / "instance"
        with (
            serve_app(instance, gunicorn=True, settings=settings) as first,
            serve_app(instance, gunicorn=True, settings=settings, set_up=False) as second,
        ):
            yield first.origin, second.origin


def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, dict(error.headers), json.loads(raw) if raw else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(origin: str, password: str = ADMIN_PASSWORD) -> tuple[int, Any]:
    status, _, body = call(
        "POST", f"{origin}/api/v1/auth/login", {"email": ADMIN_EMAIL, "password": password}
    )
    return status, body


def every_answer(url: str, headers: dict[str, str] | None = None) -> list[tuple[int, Any, str]]:
    """(status, body, ETag) of ROUNDS requests: both workers of a server answer some."""
    answers = []
    for _ in range(ROUNDS):
        status, response_headers, body = call("GET", url, headers=headers)
        answers.append((status, body, response_headers.get("ETag", "")))
    return answers


def test_a_write_through_one_is_read_through_the_other(two_servers: tuple[str, str]) -> None:
    first, second = two_servers
    status, tokens = login(first)
    assert status == 200, tokens
    admin = bearer(tokens["access_token"])
    listing = f"{second}/api/v1/articles"
    status, _, created = call(
        "POST", f"{first}/api/v1/articles", {"title": "Before", "status": "published"}, admin
    )
    assert status == 201, created
    [(_, before, etag_before)] = set(
        (s, json.dumps(b, sort_keys=True), e) for s, b, e in every_answer(listing)
    )
    assert json.loads(before)["data"][0]["title"] == "Before"
    for status, _, etag in every_answer(listing, {"If-None-Match": etag_before}):
        assert (status, etag) == (304, etag_before)  # then repeated before the app (revalidation)

    _, headers, _ = call("GET", f"{first}/api/v1/articles/{created['id']}", headers=admin)
    status, _, changed = call(
        "PATCH",
        f"{first}/api/v1/articles/{created['id']}",
        {"title": "After"},
        admin | {"If-Match": headers["ETag"]},
    )
    assert status == 200, changed
    call("POST", f"{first}/api/v1/articles", {"title": "Another", "status": "published"}, admin)
    for status, body, etag in every_answer(listing, {"If-None-Match": etag_before}):
        assert (status, etag != etag_before) == (200, True)
        assert [a["title"] for a in body["data"]] == ["Another", "After"]
        assert body["meta"]["total"] == 2


def test_a_credential_revoked_through_one_is_refused_by_the_other(
    two_servers: tuple[str, str],
) -> None:
    first, second = two_servers
    _, tokens = login(first)
    admin = bearer(tokens["access_token"])
    status, _, made = call(
        "POST", f"{first}/api/v1/tokens", {"name": "bot", "role": "editor"}, admin
    )
    assert status == 201, made
    bot = bearer(made["token"])
    assert {s for s, _, _ in every_answer(f"{second}/api/v1/auth/me", bot)} == {200}
    status, _, _ = call(
        "DELETE", f"{first}/api/v1/tokens/{made['id']}", headers=admin | {"If-Match": "*"}
    )
    assert status == 204
    assert {s for s, _, _ in every_answer(f"{second}/api/v1/auth/me", bot)} == {401}

    assert call("POST", f"{first}/api/v1/auth/logout", headers=admin)[0] == 204
    assert {s for s, _, _ in every_answer(f"{second}/api/v1/auth/me", admin)} == {401}


def test_wrong_passwords_count_across_processes(two_servers: tuple[str, str]) -> None:
    first, second = two_servers
    for _ in range(5):  # LOGIN_LIMIT_PER_ACCOUNT: 5 per minute
        assert login(first, "not the password")[0] == 401
    status, refused = login(second, "not the password either")
    assert (status, refused["code"]) == (429, "rate_limited")
