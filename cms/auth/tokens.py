"""Issuing tokens: JWT pairs per login family, rotation on refresh, machine API tokens."""

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from cms.auth.revocation import revocations
from cms.models import ApiToken, Role, User, utcnow
from cms.services import DbSession

# Tells machine tokens from JWTs at a glance (and to secret scanners).
API_TOKEN_PREFIX = "cms_"  # noqa: S105 - a public marker, not a secret


def issue_token_pair(user: User, family: str | None = None) -> dict[str, Any]:
    """An access and a refresh token sharing one family id (one login session).

    Logout revokes the family; reusing a rotated refresh token revokes it too.
    """
    claims = {"fid": family or uuid.uuid4().hex, "gen": user.token_generation}
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(
            identity=str(user.id), additional_claims={**claims, "role": user.role.value}
        ),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
    }


def claim_refresh_token(payload: dict[str, Any]) -> bool:
    """Use a refresh token up once. On reuse, revoke its whole family and say False."""
    ttl = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    if revocations().claim(f"used:{payload['jti']}", ttl):
        return True
    revoke_family(payload["fid"])
    return False


def revoke_family(family: str) -> None:
    revocations().revoke(f"family:{family}", current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])


def is_revoked(payload: dict[str, Any], user: User | None) -> bool:
    """Checked on every request that carries a JWT."""
    if user is None or not user.is_active or payload.get("gen") != user.token_generation:
        return True
    return revocations().any_revoked([f"family:{payload.get('fid')}"])


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: DbSession,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None,
    created_by: User | None,
) -> tuple[ApiToken, str]:
    """A new machine token and its secret (returned once, never stored)."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        expires_at=expires_at,
        token_hash=_hash(secret),
        prefix=secret[: len(API_TOKEN_PREFIX) + 6],
        created_by_id=created_by.id if created_by else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def find_api_token(session: DbSession, secret: str) -> ApiToken | None:
    """The live token with this secret; expired and revoked ones are as good as unknown."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token
