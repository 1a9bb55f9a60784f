"""The audit log (admins): who did what to which resource, when, and with which
credential (`user:<id>` is a login's JWT, `token:<id>` an API token)."""

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from cms.api.common import (
    AwareUTCDateTime,
    PageArgs,
    QueryInteger,
    envelope,
    page_envelope,
    paginate_scalars,
)
from cms.api.framework import Blueprint
from cms.api.openapi import ResponseSchema
from cms.extensions import db
from cms.models import Role
from cms.models.audit import AuditEntry

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log (admin)")


class AuditEntrySchema(ResponseSchema):
    id = ma.fields.Integer()
    occurred_at = ma.fields.AwareDateTime()
    actor = ma.fields.String(
        allow_none=True,
        metadata={"description": "user:<id> (a login), token:<id> (an API token); null: system"},
    )
    type = ma.fields.String(
        metadata={"example": "article.updated", "description": "<resource>.<what happened>"}
    )
    resource = ma.fields.String(
        metadata={"example": "article", "description": "A content resource, user, token or preview"}
    )
    resource_id = ma.fields.Integer()
    version = ma.fields.Integer(allow_none=True)
    changed = ma.fields.List(ma.fields.String())


class AuditQueryArgs(PageArgs):
    actor = ma.fields.String(validate=ma.validate.Length(max=60))
    type = ma.fields.String(validate=ma.validate.Length(max=60))
    resource = ma.fields.String(validate=ma.validate.Length(max=40))
    resource_id = QueryInteger(validate=ma.validate.Range(min=1, max=2**31 - 1))
    since = AwareUTCDateTime(metadata={"description": "At or after"})
    until = AwareUTCDateTime(metadata={"description": "Before"})


@blp.route("")
class AuditLog(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(AuditQueryArgs, location="query")
    @blp.response(200, envelope(AuditEntrySchema))
    @blp.doc(operationId="listAuditEntries")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List audit entries, newest first

        Every change to content (articles, authors, tags, categories, publications,
        images, pages, feeds) and to accounts (`user`, `token`, `preview`), and each
        login and logout (`user.logged_in`, `user.logged_out`). A change lists the
        fields it changed, never their values.
        """
        query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        for name in ("actor", "type", "resource", "resource_id"):
            if name in args:
                query = query.where(getattr(AuditEntry, name) == args[name])
        if "since" in args:
            query = query.where(AuditEntry.occurred_at >= args["since"])
        if "until" in args:
            query = query.where(AuditEntry.occurred_at < args["until"])
        items, total = paginate_scalars(
            db.session, query, page=args["page"], page_size=args["page_size"]
        )
        return page_envelope(items, page=args["page"], page_size=args["page_size"], total=total)
