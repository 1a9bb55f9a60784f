"""Plumbing shared by every resource: list arguments, the list envelope, references."""

import math
from typing import Any, TypeAlias
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from sqlalchemy import Select, func, select

from cms.services import DbSession

MAX_PAGE_SIZE = 100

AnySelect: TypeAlias = Select[*tuple[Any, ...]]


class PageArgs(ma.Schema):
    """Offset paging. Unknown query parameters are refused (400)."""

    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1), metadata={"description": "1-based"}
    )
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class MetaSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, allow_none=True)
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Opaque keyset cursor for the next page"}
    )


class LinksSchema(ma.Schema):
    self = ma.fields.String(required=True)
    next = ma.fields.String(allow_none=True)
    prev = ma.fields.String(allow_none=True)


_envelopes: dict[type[ma.Schema], type[ma.Schema]] = {}


def envelope(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The list response schema `{data: [item], meta, links}` for an item schema."""
    if item_schema not in _envelopes:
        name = item_schema.__name__.removesuffix("Schema") + "ListSchema"
        _envelopes[item_schema] = ma.Schema.from_dict(
            {
                "data": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "meta": ma.fields.Nested(MetaSchema, required=True),
                "links": ma.fields.Nested(LinksSchema, required=True),
            },
            name=name,
        )
    return _envelopes[item_schema]


def page_envelope(data: list[Any], *, page: int, page_size: int, total: int) -> dict[str, Any]:
    last_page = max(1, math.ceil(total / page_size))
    return {
        "data": data,
        "meta": {"page": page, "page_size": page_size, "total": total, "next_cursor": None},
        "links": {
            "self": _page_url(page),
            "next": _page_url(page + 1) if page < last_page else None,
            "prev": _page_url(min(page - 1, last_page)) if page > 1 else None,
        },
    }


def _page_url(page: int) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    params.append(("page", str(page)))
    return f"{request.base_url}?{urlencode(params)}"


def count(session: DbSession, query: AnySelect) -> int:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


def paginate_scalars(
    session: DbSession, query: AnySelect, *, page: int, page_size: int
) -> tuple[list[Any], int]:
    """One page of ORM objects and the total count of the query."""
    items = list(session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
    return items, count(session, query)


def current_user_id() -> int | None:
    """The authenticated user's id, or None for anonymous requests.

    A token that is present but bad still fails with 401: optional is not lenient.
    """
    verify_jwt_in_request(optional=True)
    identity = get_jwt_identity()
    return int(identity) if identity is not None else None


class Reference(ma.Schema):
    """Compact reference to a related item, enough to render a link."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


def slug_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=200),
            ma.validate.Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Use lower-case letters, digits and hyphens."
            ),
        ],
        metadata={"description": "Generated when omitted"},
        **kwargs,
    )


class Timestamps(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)
