"""Login and the current user. Refresh, logout and API tokens arrive with the auth issue."""

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import create_access_token, create_refresh_token, current_user

from cms.api.auth.schemas import LoginSchema, MeSchema, TokenSchema
from cms.extensions import Blueprint, db
from cms.models import User
from cms.problems import fail
from cms.services.users import authenticate

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.errors(401, 415)
    @blp.doc(operationId="login")
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Exchange e-mail and password for tokens"""
        user = authenticate(db.session, **credentials)
        if user is None:
            fail(401, "invalid_credentials", "E-mail or password is wrong.")
        expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
        return {
            "access_token": create_access_token(
                identity=str(user.id), additional_claims={"role": user.role.value}
            ),
            "refresh_token": create_refresh_token(identity=str(user.id)),
            "token_type": "Bearer",
            "expires_in": int(expires.total_seconds()),
        }


@blp.route("/me")
class Me(MethodView):
    @blp.login_required
    @blp.response(200, MeSchema)
    @blp.doc(operationId="getCurrentUser")
    def get(self) -> User:
        """The user the token belongs to"""
        user: User = current_user
        return user
