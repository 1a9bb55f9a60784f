"""The principal behind a request: a user (JWT) or a machine (API token), or nobody."""

from dataclasses import dataclass

from flask import g, request
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from cms.auth.tokens import API_TOKEN_PREFIX, find_api_token
from cms.extensions import db
from cms.models import Role
from cms.problems import fail

RANKS = {Role.CONTRIBUTOR: 1, Role.AUTHOR: 2, Role.EDITOR: 3, Role.ADMIN: 4}


@dataclass(frozen=True)
class Principal:
    role: Role
    user_id: int | None = None  # None for machines: they own no articles
    token_id: int | None = None  # the API token, for machines

    def at_least(self, role: Role) -> bool:
        return RANKS[self.role] >= RANKS[role]

    @property
    def scope(self) -> str:
        """What the principal may see depends on this (and on nothing else)."""
        return f"{self.role.value}:{self.user_id}:{self.token_id}"


def current_principal() -> Principal | None:
    """Resolve the request's credentials once; a bad credential is a 401, not anonymity."""
    if "principal" not in g:
        g.principal = _resolve()
    principal: Principal | None = g.principal
    return principal


def _resolve() -> Principal | None:
    header = request.environ.get("HTTP_AUTHORIZATION")
    if header is None:  # JWTs are read from this header only (JWT_TOKEN_LOCATION)
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.startswith(API_TOKEN_PREFIX):
        token = find_api_token(db.session, credentials)
        if token is None:
            fail(401, "invalid_token", "Unknown, expired or revoked API token.")
        return Principal(role=token.role, token_id=token.id)
    verify_jwt_in_request(optional=True)
    user = get_current_user()
    return None if user is None else Principal(role=user.role, user_id=user.id)
