"""Machine API tokens (admins only): created with a role, shown once, revocable."""

from typing import Any

from flask import url_for
from flask.views import MethodView
from sqlalchemy import select

from cms.api.common import PageArgs, envelope, page_envelope, paginate_scalars
from cms.api.framework import Blueprint
from cms.api.tokens.schemas import ApiTokenSchema, CreatedApiTokenSchema
from cms.auth.permissions import require_principal
from cms.auth.tokens import create_api_token
from cms.caching import not_modified, object_etag, require_if_match, validators
from cms.extensions import db
from cms.models import ApiToken, Role, User, utcnow
from cms.problems import fail

blp = Blueprint(
    "tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens for machines (admin)"
)


def _token_or_404(token_id: int) -> ApiToken:
    """A revoked token is deleted as far as the API goes (its row stays for the record)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        fail(404, detail=f"No API token with id {token_id}.")
    return token


@blp.route("")
class ApiTokens(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, envelope(ApiTokenSchema))
    @blp.doc(operationId="listApiTokens")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List live API tokens (without their secrets; revoked ones are gone)"""
        query = select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id.desc())
        items, total = paginate_scalars(
            db.session, query, page=args["page"], page_size=args["page_size"]
        )
        return page_envelope(items, page=args["page"], page_size=args["page_size"], total=total)

    @blp.requires(Role.ADMIN)
    @blp.arguments(ApiTokenSchema)
    @blp.response(201, CreatedApiTokenSchema)
    @blp.doc(operationId="createApiToken")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an API token; the response is the only place its secret appears"""
        principal = require_principal()
        creator = db.session.get(User, principal.user_id) if principal.user_id else None
        token, secret = create_api_token(db.session, created_by=creator, **data)
        location = url_for("tokens.ApiTokenById", token_id=token.id)
        created = {name: getattr(token, name) for name in ApiTokenSchema().fields}
        return {**created, "token": secret}, 201, {"Location": location, **validators(token)}


@blp.route("/<int:token_id>")
class ApiTokenById(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(200, ApiTokenSchema)
    @blp.errors(404)
    @blp.doc(operationId="getApiToken")
    def get(self, token_id: int) -> Any:
        """Get an API token (without its secret)"""
        token = _token_or_404(token_id)
        return not_modified(object_etag(token), token.updated_at) or (token, 200, validators(token))

    @blp.requires(Role.ADMIN)
    @blp.response(204)
    @blp.errors(404)
    @blp.doc(operationId="revokeApiToken")
    def delete(self, token_id: int) -> None:
        """Revoke an API token: it stops working at once and is gone from the API"""
        token = _token_or_404(token_id)
        require_if_match(object_etag(token))
        token.revoked_at = utcnow()
