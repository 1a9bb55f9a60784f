"""CRUD plumbing shared by the simpler resources (everything but articles and auth).

A resource declares its model, schema and how to apply written data; this module turns
that into a collection view and an item view with the usual contract.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from sqlalchemy import select

from cms.api.common import (
    AnySelect,
    PageArgs,
    envelope,
    one_of,
    page_envelope,
    paginate_scalars,
)
from cms.api.framework import Blueprint
from cms.cache_tags import show
from cms.caching import (
    fresh_until,
    not_modified,
    object_etag,
    require_if_match,
    strong_etag,
    validators,
)
from cms.extensions import db
from cms.models import Base, Role
from cms.problems import fail
from cms.services import DbSession
from cms.services.articles import touch_articles_using
from cms.services.identifiers import unique_slug
from cms.services.purging import list_key, resource_key
from cms.services.visibility import epoch, next_change


def set_fields(session: DbSession, obj: Any, data: dict[str, Any]) -> None:
    for name, value in data.items():
        setattr(obj, name, value)


@dataclass(frozen=True)
class Resource:
    model: type[Base]
    schema: type[ma.Schema]
    singular: str  # "tag": used in summaries, operation ids and messages
    plural: str
    slug_from: str | None = "name"  # the field a missing slug is generated from
    apply: Callable[[DbSession, Any, dict[str, Any]], None] = set_fields
    order_by: tuple[Any, ...] = ()
    query: Callable[[], AnySelect] | None = None
    errors_on_write: tuple[int | str, ...] = (409,)  # beyond what every write can give
    create_role: Role = Role.EDITOR
    change_role: Role = Role.EDITOR  # to change and to delete
    read_role: Role | None = None  # None: anyone may read
    deletable: bool = True
    creatable: bool = True  # False: the resource registers its own POST on the collection
    # It shows articles as public now: its validators and max-age follow the content
    # timeline (a scheduled article appears at its time, in pages too).
    follows_timeline: bool = False
    # Called before an item changes or goes; what it returns runs after the flush.
    on_change: Callable[[DbSession, Any], Callable[[], None]] | None = touch_articles_using
    # The cache keys of what an item shows besides itself (a page: the articles it cites).
    shows: Callable[[Any], list[str]] = lambda _item: []
    # Orders the list may be asked for (`sort=<name>`) besides order_by, by name.
    sorts: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


def _nothing() -> None:
    pass


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def register_crud(blp: Blueprint, res: Resource) -> None:
    Name = res.singular.title().replace(" ", "")  # noqa: N806 - a class-name fragment
    Names = res.plural.title().replace(" ", "")  # noqa: N806
    item_endpoint = f"{Name}ById"

    def base_query() -> AnySelect:
        return res.query() if res.query else select(res.model)

    def get_or_404(item_id: int) -> Any:
        query = base_query().where(res.model.id == item_id)  # type: ignore[attr-defined]
        obj = db.session.scalars(query).first()
        if obj is None:
            fail(404, detail=f"No {res.singular} with id {item_id}.")
        return obj

    def changing(obj: Any) -> Callable[[], None]:
        """Before a create, change or delete: what to run once it is flushed."""
        return res.on_change(db.session, obj) if res.on_change else _nothing

    def save(obj: Any, data: dict[str, Any], *, new: bool) -> Any:
        if not new:
            # Checked against the version just read, which the UPDATE's WHERE repeats:
            # a writer that got in between makes it match nothing (a 412).
            require_if_match(item_etag(obj))
        changed = changing(obj)
        if new and res.slug_from and "slug" not in data:
            slug_column = res.model.slug  # type: ignore[attr-defined]
            data = {**data, "slug": unique_slug(db.session, slug_column, data[res.slug_from])}
        res.apply(db.session, obj, data)
        if new:
            db.session.add(obj)
        db.session.flush()
        changed()
        # Answer with what is stored now: views of relations (a page's published
        # citations) and the new version are read again.
        db.session.expire(obj)
        return obj

    def item_etag(obj: Any) -> str:
        """Its version; for what shows articles, also the clock's place on the timeline."""
        if res.follows_timeline:
            return strong_etag(object_etag(obj), epoch(db.session))
        return object_etag(obj)

    def item_headers(obj: Any) -> dict[str, str]:
        return {**validators(obj), "ETag": f'"{item_etag(obj)}"'}

    def readers(func: Any) -> Any:
        return blp.requires(res.read_role)(func) if res.read_role else func

    list_args: type[ma.Schema] = PageArgs
    if res.sorts:
        sort = one_of(
            list(res.sorts),
            enum_name=f"{Name}Sort",
            load_default=None,
            metadata={"description": f"Order of the list (default: by {res.singular} id)"},
        )
        list_args = type(f"{Names}ListArgs", (PageArgs,), {"sort": sort})

    class Collection(MethodView):
        @readers
        @blp.arguments(list_args, location="query")
        @blp.response(200, envelope(res.schema))
        @blp.doc(summary=f"List {res.plural}", operationId=f"list{Names}")
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            if res.follows_timeline:  # the body (so its hashed ETag) changes then
                fresh_until(next_change(db.session))
            order = res.sorts.get(args.get("sort") or "", res.order_by)
            query = base_query().order_by(*order, res.model.id)  # type: ignore[attr-defined]
            items, total = paginate_scalars(
                db.session, query, page=args["page"], page_size=args["page_size"]
            )
            show([list_key(res.singular), *(key for item in items for key in res.shows(item))])
            return page_envelope(items, page=args["page"], page_size=args["page_size"], total=total)

        if res.creatable:

            @blp.requires(res.create_role)
            @blp.arguments(res.schema)
            @blp.response(201, res.schema)
            @blp.errors(*res.errors_on_write)
            @blp.doc(summary=f"Create {_a(res.singular)}", operationId=f"create{Name}")
            def post(self, data: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
                obj = save(res.model(), data, new=True)
                location = url_for(f"{blp.name}.{item_endpoint}", item_id=obj.id)
                return obj, 201, {"Location": location, **item_headers(obj)}

    class Item(MethodView):
        @readers
        @blp.response(200, res.schema)
        @blp.errors(404)
        @blp.doc(summary=f"Get {_a(res.singular)} by id", operationId=f"get{Name}")
        def get(self, item_id: int) -> Any:
            obj = get_or_404(item_id)
            show([resource_key(res.singular, obj.id), *res.shows(obj)])
            if res.follows_timeline:
                fresh_until(next_change(db.session))
            return not_modified(item_etag(obj), obj.updated_at) or (obj, 200, item_headers(obj))

        @blp.requires(res.change_role)
        @blp.arguments(res.schema(partial=True))
        @blp.response(200, res.schema)
        @blp.errors(404, *res.errors_on_write)
        @blp.doc(summary=f"Change some fields of {_a(res.singular)}", operationId=f"update{Name}")
        def patch(self, data: dict[str, Any], item_id: int) -> Any:
            obj = save(get_or_404(item_id), data, new=False)
            return obj, 200, item_headers(obj)

        if res.deletable:

            @blp.requires(res.change_role)
            @blp.response(204)
            @blp.errors(404, "in_use")
            @blp.doc(
                summary=f"Delete {_a(res.singular)}",
                description="409 `in_use` while other content still refers to it.",
                operationId=f"delete{Name}",
            )
            def delete(self, item_id: int) -> None:
                obj = get_or_404(item_id)
                require_if_match(item_etag(obj))  # the DELETE's WHERE repeats the version
                changed = changing(obj)
                db.session.delete(obj)
                db.session.flush()  # surface "still referenced" here, as a 409
                changed()

    Collection.__name__ = Names
    Item.__name__ = item_endpoint
    blp.route("")(Collection)
    blp.route("/<int:item_id>")(Item)
