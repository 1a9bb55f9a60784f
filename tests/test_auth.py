"""Minimal auth of the foundation: login, bearer tokens, and 401s in problem+json."""

import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from cms.models import Role


def login(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_login_returns_bearer_tokens(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    user = make_user(Role.AUTHOR)
    body = login(client, user.email.upper(), "correct horse battery").json  # case-insensitive
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"] != body["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json == {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": "author",
        "kind": "user",
    }


def test_wrong_password_and_unknown_email_answer_alike(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    wrong = login(client, user.email, "wrong")
    unknown = login(client, "nobody@example.com", "wrong")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    from cms.extensions import db

    user = make_user()
    user.is_active = False
    db.session.commit()
    assert login(client, user.email, "correct horse battery").status_code == 401


def forged(app: Flask, **claims: Any) -> str:
    payload = {
        "sub": "1",
        "type": "access",
        "fresh": False,
        "jti": "x",
        "iat": int(time.time()),
        "nbf": int(time.time()),
        "exp": int(time.time()) + 60,
        **claims,
    }
    return pyjwt.encode(payload, "not-the-server-key-but-long-enough-for-hs256", algorithm="HS256")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer not.a.jwt", "invalid_token"),
        ("Bearer ", "invalid_token"),
        ("Basic dXNlcjpwYXNz", "missing_token"),
    ],
)
def test_malformed_tokens_are_401(client: FlaskClient, header: str, code: str) -> None:
    response = client.post("/api/v1/tags", json={"name": "x"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code


def test_token_signed_with_another_key_is_401(app: Flask, client: FlaskClient) -> None:
    headers = {"Authorization": f"Bearer {forged(app)}"}
    response = client.post("/api/v1/tags", json={"name": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_expired_token_is_401(
    app: Flask, client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    past = int(time.time()) - 3600
    token = pyjwt.encode(
        {
            "sub": str(user.id),
            "type": "access",
            "fresh": False,
            "jti": "x",
            "iat": past,
            "nbf": past,
            "exp": past + 60,
        },
        app.config["SECRET_KEY"],
        algorithm="HS256",
    )
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["code"] == "token_expired"


def test_alg_none_token_is_401(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    user = make_user()
    token = pyjwt.encode(
        {"sub": str(user.id), "type": "access", "jti": "x", "exp": int(time.time()) + 60},
        key=None,
        algorithm="none",
    )
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_refresh_token_is_not_an_access_token(
    client: FlaskClient, make_user: Callable[..., Any]
) -> None:
    user = make_user()
    refresh = login(client, user.email, "correct horse battery").json["refresh_token"]
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 401


def test_bad_token_on_a_public_read_is_still_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/articles", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 401


def test_create_user_command(app: Flask, client: FlaskClient) -> None:
    result: Result = app.test_cli_runner().invoke(
        args=[
            "cms",
            "create-user",
            "--email",
            "Admin@Example.com",
            "--password",
            "s3cret-pass",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "admin admin@example.com" in result.output
    token = login(client, "admin@example.com", "s3cret-pass").json["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["role"] == "admin"
