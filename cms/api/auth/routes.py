"""Login, token refresh (rotating), logout, password change and the current caller."""

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import get_jwt, jwt_required

from cms.api.auth.schemas import LoginSchema, MeSchema, PasswordChangeSchema, TokenSchema
from cms.api.framework import Blueprint
from cms.auth.permissions import authenticates_itself, require_principal
from cms.auth.throttle import start_guess
from cms.auth.tokens import claim_refresh_token, issue_token_pair, revoke_family
from cms.extensions import db
from cms.models import ApiToken, Change, Role, User, record_events
from cms.problems import fail
from cms.services.users import authenticate, change_password, normalize_email

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")


@blp.route("/login")
class Login(MethodView):
    @authenticates_itself
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.errors("invalid_credentials", "rate_limited")
    @blp.doc(operationId="login", security=[])
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Exchange e-mail and password for tokens

        Unknown e-mail and wrong password give the same answer in the same time.
        Wrong passwords are limited per account and per address (429 with Retry-After).
        """
        guess = start_guess(normalize_email(credentials["email"]))
        user = authenticate(db.session, **credentials)
        if user is None:
            fail(401, "invalid_credentials", "E-mail or password is wrong.")
        guess.forget()
        record_events(db.session, [Change("user", user.id, "logged_in")], actor=f"user:{user.id}")
        return issue_token_pair(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @authenticates_itself
    @jwt_required(refresh=True)
    @blp.response(200, TokenSchema)
    @blp.errors("token_reused")
    @blp.doc(operationId="refreshTokens", security=[{"bearerAuth": []}])
    def post(self) -> dict[str, Any]:
        """Trade a refresh token for a new pair

        Send the refresh token as the bearer token. Each refresh token works once:
        presenting a used one again revokes its whole login session (401 token_reused).
        """
        payload = get_jwt()
        if not claim_refresh_token(payload):
            fail(401, "token_reused", "This refresh token was used already; log in again.")
        user = db.session.get(User, int(payload["sub"]))
        assert user is not None  # the token loaders checked it
        return issue_token_pair(user, family=payload["fid"])


@blp.route("/logout")
class Logout(MethodView):
    @blp.requires(Role.CONTRIBUTOR)
    @blp.response(204)
    @blp.errors("bad_request")
    @blp.doc(operationId="logout")
    def post(self) -> None:
        """Revoke this login's access and refresh tokens"""
        user_id = require_principal().user_id
        if user_id is None:
            fail(400, "bad_request", "API tokens are revoked by an admin, not logged out.")
        revoke_family(get_jwt()["fid"])
        record_events(db.session, [Change("user", user_id, "logged_out")])


@blp.route("/password")
class Password(MethodView):
    @blp.requires(Role.CONTRIBUTOR)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @blp.errors("bad_request", "rate_limited")
    @blp.doc(operationId="changePassword")
    def post(self, data: dict[str, Any]) -> None:
        """Change your password; every token of yours stops working

        Wrong current passwords count with wrong logins, against the same limits (429).
        """
        principal = require_principal()
        user = db.session.get(User, principal.user_id) if principal.user_id else None
        if user is None:
            fail(400, "bad_request", "API tokens have no password.")
        guess = start_guess(user.email)
        if not change_password(user, data["current_password"], data["new_password"]):
            fail(
                422,
                "validation_error",
                "The current password is wrong.",
                errors={"current_password": ["Wrong password."]},
            )
        guess.forget()


@blp.route("/me")
class Me(MethodView):
    @blp.requires(Role.CONTRIBUTOR)
    @blp.response(200, MeSchema)
    @blp.doc(operationId="getCurrentUser")
    def get(self) -> dict[str, Any]:
        """The caller: a user, or a machine token"""
        principal = require_principal()
        if principal.user_id is not None:
            user = db.session.get(User, principal.user_id)
            assert user is not None
            return {
                "id": user.id,
                "email": user.email,
                "display_name": user.display_name,
                "role": user.role,
                "kind": "user",
            }
        token = db.session.get(ApiToken, principal.token_id)
        assert token is not None
        return {
            "id": None,
            "email": None,
            "display_name": token.name,
            "role": token.role,
            "kind": "api_token",
        }
