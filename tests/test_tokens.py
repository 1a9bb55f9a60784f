"""Token lifecycle: forged, expired, revoked, rotated and reused tokens are all 401."""

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.extensions import db
from cms.models import ApiToken, Role
from tests.conftest import edit, remove

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(client: FlaskClient, make_user: Callable[..., Any]) -> dict[str, Any]:
    user = make_user(Role.EDITOR)
    body = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    return {**body.json, "user": user}


def me(client: FlaskClient, token: str) -> Any:
    return client.get("/api/v1/auth/me", headers=bearer(token))


def assert_401(response: Any, code: str | None = None) -> None:
    assert response.status_code == 401, response.json
    assert response.mimetype == "application/problem+json"
    if code:
        assert response.json["code"] == code


def test_tampered_payload_is_401(client: FlaskClient, tokens: dict[str, Any]) -> None:
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    claims["sub"] = "999"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_401(me(client, f"{header}.{forged}.{signature}"), "invalid_token")


def test_alg_none_is_401(client: FlaskClient, tokens: dict[str, Any]) -> None:
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert_401(me(client, pyjwt.encode(claims, key=None, algorithm="none")))


def test_other_algorithm_is_401(client: FlaskClient, tokens: dict[str, Any]) -> None:
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    token = pyjwt.encode(
        claims, "test-secret-key-that-is-long-enough-for-hs256-x" * 2, algorithm="HS512"
    )
    assert_401(me(client, token))


def test_access_token_cannot_refresh(client: FlaskClient, tokens: dict[str, Any]) -> None:
    assert_401(client.post("/api/v1/auth/refresh", headers=bearer(tokens["access_token"])))


def test_refresh_rotates(client: FlaskClient, tokens: dict[str, Any]) -> None:
    fresh = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert fresh.status_code == 200
    assert fresh.json["refresh_token"] != tokens["refresh_token"]
    assert me(client, fresh.json["access_token"]).status_code == 200
    again = client.post("/api/v1/auth/refresh", headers=bearer(fresh.json["refresh_token"]))
    assert again.status_code == 200


def test_reused_refresh_token_revokes_the_family(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    rotated = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).json

    assert_401(
        client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), "token_reused"
    )
    # The thief and the owner both lose the session: every token of the family is dead.
    assert_401(
        client.post("/api/v1/auth/refresh", headers=bearer(rotated["refresh_token"])),
        "token_revoked",
    )
    assert_401(me(client, rotated["access_token"]), "token_revoked")
    assert_401(me(client, tokens["access_token"]), "token_revoked")


def test_logout_revokes_access_and_refresh(client: FlaskClient, tokens: dict[str, Any]) -> None:
    assert (
        client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code
        == 204
    )
    assert_401(me(client, tokens["access_token"]), "token_revoked")
    assert_401(
        client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])),
        "token_revoked",
    )


def test_logout_leaves_other_sessions_alone(client: FlaskClient, tokens: dict[str, Any]) -> None:
    other = client.post(
        "/api/v1/auth/login", json={"email": tokens["user"].email, "password": PASSWORD}
    ).json
    client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert me(client, other["access_token"]).status_code == 200


def test_password_change_revokes_every_token(client: FlaskClient, tokens: dict[str, Any]) -> None:
    email = tokens["user"].email
    response = client.post(
        "/api/v1/auth/password",
        headers=bearer(tokens["access_token"]),
        json={"current_password": PASSWORD, "new_password": "a much better passphrase"},
    )
    assert response.status_code == 204
    assert_401(me(client, tokens["access_token"]), "token_revoked")
    assert_401(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])))
    old = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/login", json={"email": email, "password": "a much better passphrase"}
    )
    assert new.status_code == 200


def test_password_change_needs_the_current_password(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    response = client.post(
        "/api/v1/auth/password",
        headers=bearer(tokens["access_token"]),
        json={"current_password": "guess", "new_password": "x" * 12},
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"current_password": ["Wrong password."]}
    assert me(client, tokens["access_token"]).status_code == 200


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "contributor"}])
def test_deactivation_and_role_change_revoke_tokens(
    client: FlaskClient,
    tokens: dict[str, Any],
    make_user: Callable[..., Any],
    change: dict[str, Any],
) -> None:
    admin = make_user(Role.ADMIN)
    admin_token = client.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
    ).json
    response = edit(
        client,
        f"/api/v1/users/{tokens['user'].id}",
        json=change,
        headers=bearer(admin_token["access_token"]),
    )
    assert response.status_code == 200
    assert_401(me(client, tokens["access_token"]), "token_revoked")


class TestApiTokens:
    @pytest.fixture
    def admin_headers(self, client: FlaskClient, make_user: Callable[..., Any]) -> Any:
        admin = make_user(Role.ADMIN)
        body = client.post(
            "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
        ).json
        return bearer(body["access_token"])

    def create(self, client: FlaskClient, headers: dict[str, str], **extra: Any) -> Any:
        response = client.post(
            "/api/v1/tokens",
            headers=headers,
            json={"name": "ingest bot", "role": "editor", **extra},
        )
        assert response.status_code == 201, response.json
        return response.json

    def test_secret_is_shown_once_and_stored_hashed(
        self, client: FlaskClient, admin_headers: dict[str, str]
    ) -> None:
        created = self.create(client, admin_headers)
        secret = created["token"]
        assert secret.startswith("cms_")
        assert created["prefix"] == secret[:10]
        listed = client.get("/api/v1/tokens", headers=admin_headers).json["data"]
        assert secret not in json.dumps(listed)
        assert "token" not in listed[0]
        assert "token_hash" not in listed[0]
        stored = db.session.get(ApiToken, created["id"])
        assert stored is not None
        assert secret not in (stored.token_hash, stored.prefix)

    def test_machine_acts_with_its_role(
        self, client: FlaskClient, admin_headers: dict[str, str]
    ) -> None:
        secret = self.create(client, admin_headers)["token"]
        assert me(client, secret).json["kind"] == "api_token"
        assert (
            client.post("/api/v1/tags", json={"name": "Bots"}, headers=bearer(secret)).status_code
            == 201
        )
        assert client.get("/api/v1/users", headers=bearer(secret)).status_code == 403

    def test_revoked_token_stops_working(
        self, client: FlaskClient, admin_headers: dict[str, str]
    ) -> None:
        created = self.create(client, admin_headers)
        assert (
            remove(client, f"/api/v1/tokens/{created['id']}", headers=admin_headers).status_code
            == 204
        )
        assert_401(me(client, created["token"]), "invalid_token")

    def test_revoked_token_is_gone_from_the_api(
        self, client: FlaskClient, admin_headers: dict[str, str]
    ) -> None:
        kept, revoked = self.create(client, admin_headers), self.create(client, admin_headers)
        url = f"/api/v1/tokens/{revoked['id']}"
        assert remove(client, url, headers=admin_headers).status_code == 204
        # A cached copy cannot be revalidated into a 304 either (If-None-Match: *)
        assert client.get(url, headers={**admin_headers, "If-None-Match": "*"}).status_code == 404
        assert remove(client, url, headers=admin_headers).status_code == 404
        listed = client.get("/api/v1/tokens", headers=admin_headers).json
        assert [token["id"] for token in listed["data"]] == [kept["id"]]
        assert listed["meta"]["total"] == 1
        stored = db.session.get(ApiToken, revoked["id"])
        assert stored is not None  # kept for the record
        assert stored.revoked_at is not None

    def test_expired_token_stops_working(
        self, client: FlaskClient, admin_headers: dict[str, str]
    ) -> None:
        created = self.create(client, admin_headers, expires_at="2020-01-01T00:00:00Z")
        assert_401(me(client, created["token"]), "invalid_token")

    def test_made_up_token_is_401(self, client: FlaskClient) -> None:
        assert_401(me(client, "cms_" + "A" * 43), "invalid_token")


def test_expired_jwt_is_401(app: Flask, client: FlaskClient, tokens: dict[str, Any]) -> None:
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    claims.update(
        iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200, exp=int(time.time()) - 3600
    )
    token = pyjwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256")
    assert_401(me(client, token), "token_expired")


def test_logout_is_recorded_in_redis_or_the_database(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    import redis
    from sqlalchemy import func, select

    from cms.models import RevokedToken

    def recorded() -> tuple[int, int]:
        rows = db.session.scalar(select(func.count()).select_from(RevokedToken)) or 0
        if not app.config["REDIS_URL"]:
            return 0, rows
        pattern = f"{app.config['REDIS_KEY_PREFIX']}revoked:family:*"
        return len(list(redis.Redis.from_url(app.config["REDIS_URL"]).scan_iter(pattern))), rows

    before = recorded()
    client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    in_redis, in_database = (after - was for after, was in zip(recorded(), before, strict=True))
    assert (in_redis, in_database) == ((1, 0) if app.config["REDIS_URL"] else (0, 1))
