"""flask-jwt-extended wiring: who a token belongs to, and 401s in problem+json."""

from typing import Any

from flask import Response
from flask_jwt_extended import JWTManager

from cms.auth.tokens import is_revoked
from cms.extensions import db
from cms.models import User
from cms.problems import problem_response


def _unauthorized(code: str, detail: str) -> Response:
    return problem_response(401, code, detail, headers={"WWW-Authenticate": "Bearer"})


def init_jwt(jwt: JWTManager) -> None:
    @jwt.user_lookup_loader
    def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        user = db.session.get(User, int(payload["sub"]))
        return user if user is not None and user.is_active else None

    @jwt.token_in_blocklist_loader
    def _revoked_token(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # The user row is loaded here first and then served from the session's identity
        # map to the user lookup above: one query, not two.
        return is_revoked(payload, db.session.get(User, int(payload["sub"])))

    @jwt.user_lookup_error_loader
    def _user_gone(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return _unauthorized("invalid_token", "The token's user no longer exists or is inactive.")

    @jwt.unauthorized_loader
    def _missing(_reason: str) -> Response:
        return _unauthorized("missing_token", "Send an Authorization: Bearer <token> header.")

    @jwt.invalid_token_loader
    def _invalid(_reason: str) -> Response:
        return _unauthorized("invalid_token", "The token is malformed or its signature is wrong.")

    @jwt.expired_token_loader
    def _expired(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return _unauthorized("token_expired", "The token has expired.")

    @jwt.revoked_token_loader
    def _revoked(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return _unauthorized("token_revoked", "The token has been revoked.")

    @jwt.needs_fresh_token_loader
    def _stale(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return _unauthorized("fresh_token_required", "Log in again to do this.")

    @jwt.token_verification_failed_loader
    def _rejected(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return _unauthorized("invalid_token", "The token was rejected.")
