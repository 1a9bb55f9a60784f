"""Plumbing shared by every resource: list arguments, the list envelope, references."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeAlias
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import Select, func, select
from werkzeug.routing import IntegerConverter, Map, ValidationError

from cms.api.openapi import DATETIME, AnyOf, HttpUrl, ResponseSchema, read_schema
from cms.extensions import DB_INT_MAX
from cms.models import CONTENT_TYPES
from cms.services import DbSession

MAX_PAGE_SIZE = 100
# A day's margin inside datetime's years 1-9999, so that no later shift to another zone
# (a PostgreSQL session's, a reader's) can overflow.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)

AnySelect: TypeAlias = Select[*tuple[Any, ...]]


class QueryInteger(ma.fields.Integer):
    """An integer in a query string, written as the spec's `integer` means: ASCII
    digits with an optional minus. (int() alone also takes spaces, `_` and other
    scripts' digits: `page_size=%098` would pass as 8.)"""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not _INTEGER.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


_INTEGER = re.compile(r"-?[0-9]+")


class PageArgs(ma.Schema):
    """Offset paging. Unknown query parameters are refused (400)."""

    page = QueryInteger(
        load_default=1,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
        metadata={"description": "1-based"},
    )
    page_size = QueryInteger(load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


class MetaSchema(ResponseSchema):
    page = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null when paging by cursor"}
    )
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, allow_none=True)
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Opaque keyset cursor for the next page"}
    )


class LinksSchema(ResponseSchema):
    self = ma.fields.String(required=True)
    next = ma.fields.String(allow_none=True)
    prev = ma.fields.String(allow_none=True)


_envelopes: dict[tuple[type[ma.Schema], ...], type[ma.Schema]] = {}


def envelope(*item_schemas: type[ma.Schema]) -> type[ma.Schema]:
    """The list response schema `{data: [item], meta, links}`, named after the first
    item schema; with several, each item is one of them."""
    if item_schemas not in _envelopes:
        items = [read_schema(schema) for schema in item_schemas]
        item: ma.fields.Field[Any] = (
            ma.fields.Nested(items[0]) if len(items) == 1 else AnyOf(*items)
        )
        name = item_schemas[0].__name__.removesuffix("Schema") + "ListSchema"
        _envelopes[item_schemas] = ResponseSchema.from_dict(
            {
                "data": ma.fields.List(item),
                "meta": ma.fields.Nested(MetaSchema),
                "links": ma.fields.Nested(LinksSchema),
            },
            name=name,
        )
    return _envelopes[item_schemas]


def list_envelope(
    data: list[Any],
    *,
    page: int | None,
    page_size: int,
    total: int | None,
    more: bool,
    next_cursor: str | None = None,
) -> dict[str, Any]:
    """`{data, meta, links}`. `page` is None when paging by cursor (no prev link then)."""
    next_link: str | None = None
    if page is not None and more:  # paging by number: keep doing so
        next_link = _url_with(page=page + 1)
    elif next_cursor is not None:
        next_link = _url_with(cursor=next_cursor)
    return {
        "data": data,
        "meta": {"page": page, "page_size": page_size, "total": total, "next_cursor": next_cursor},
        "links": {
            "self": _url_with(),
            "next": next_link,
            "prev": _url_with(page=page - 1) if page is not None and page > 1 else None,
        },
    }


def page_envelope(data: list[Any], *, page: int, page_size: int, total: int) -> dict[str, Any]:
    return list_envelope(
        data, page=page, page_size=page_size, total=total, more=page * page_size < total
    )


def _url_with(**changes: str | int | None) -> str:
    """This request's URL with some query parameters replaced (None drops one)."""
    params = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    params.extend((k, str(v)) for k, v in changes.items() if v is not None)
    url = public_url(request.script_root + request.path)
    return f"{url}?{urlencode(params)}" if params else url


def public_url(path: str) -> str:
    """An absolute URL under PUBLIC_BASE_URL, else the root-relative path. Never from the
    Host header: public responses are cached, and a forged Host would poison them."""
    return str(current_app.config["PUBLIC_BASE_URL"]) + path


def count(session: DbSession, query: AnySelect) -> int:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


def paginate_scalars(
    session: DbSession, query: AnySelect, *, page: int, page_size: int
) -> tuple[list[Any], int]:
    """One page of ORM objects and the total count of the query."""
    items = list(session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
    return items, count(session, query)


class Reference(ResponseSchema):
    """Compact reference to a related item, enough to render a link."""

    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()


class PublicationReference(Reference):
    """A publication, compact: the venue an article or feed comes from."""


class ListParam(ma.fields.List):  # type: ignore[type-arg]
    """A query parameter of several values: repeated (`tag=a&tag=b`, how generated
    clients send arrays, and how the spec documents it) or comma-separated (`tag=a,b`).
    Both mean the same, so neither loses values."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        given = value if isinstance(value, list) else [value]
        parts = [part.strip() for item in given for part in str(item).split(",")]
        return super()._deserialize(parts, attr, data, **kwargs)  # an empty part is refused


def one_of(values: Iterable[str], *, enum_name: str, **kwargs: Any) -> ma.fields.String:
    """A string of a fixed set: in the spec, the named enum component `enum_name`."""
    metadata = {"enum_name": enum_name, **kwargs.pop("metadata", {})}
    return ma.fields.String(validate=ma.validate.OneOf(tuple(values)), metadata=metadata, **kwargs)


def http_url(**kwargs: Any) -> HttpUrl:
    """An http(s) URL of at most 2048 characters (the spec gives its pattern)."""
    return HttpUrl(**kwargs)


class JsonBoolean(ma.fields.Boolean):
    """A boolean of a JSON body: true or false, not 0, 1 or "yes" (the spec's type).
    (A truthy set cannot say it: 0 == False, so `0 in {False}`.)"""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def json_boolean(**kwargs: Any) -> JsonBoolean:
    return JsonBoolean(**kwargs)


class JsonNumber(ma.fields.Float):
    """A number of a JSON body: not "62" in quotes, nor true (the spec's type)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


def content_type_field(**kwargs: Any) -> ma.fields.String:
    return one_of(CONTENT_TYPES, enum_name="ContentType", **kwargs)


# What every slug is (python-slugify's output, `-2` for the next free one): filters
# take the same, so a comma can never be part of one (cms.api.common.ListParam).
SLUG = [
    ma.validate.Length(min=1, max=200),
    ma.validate.Regexp(
        r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Use lower-case letters, digits and hyphens."
    ),
]


def slug_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=SLUG,
        metadata={"description": "Generated when omitted"},
        **kwargs,
    )


class Timestamps(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` within the database's INTEGER range: a larger id names no row, so the
    URL matches no route (404) instead of overflowing the driver."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(DB_INT_MAX)):  # and int() raises past 4300 digits
            raise ValidationError
        return int(super().to_python(value))


def as_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC. ValueError when naive, or when outside EARLIEST..LATEST:
    0001-01-01T00:00:00+14:00 is fine as written, but in UTC it would be year 0."""
    if moment.utcoffset() is None:
        raise ValueError("naive datetime: give a zone, e.g. Z or +02:00")
    if not EARLIEST <= moment <= LATEST:  # compared as instants: no conversion overflows
        raise ValueError(f"outside {EARLIEST.isoformat()} .. {LATEST.isoformat()}")
    return moment.astimezone(UTC)


class AwareUTCDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 datetime with a zone (naive ones are refused), loaded in UTC: the one
    datetime field of every query and body, so that no edge value overflows later."""

    default_error_messages = {  # marshmallow merges these with the parents'
        "out_of_range": "Out of range: years 0002 to 9998."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and not re.match(DATETIME, value):  # as the spec says
            raise self.make_error("out_of_range")
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return as_utc(moment)
        except ValueError as error:
            raise self.make_error("out_of_range") from error
