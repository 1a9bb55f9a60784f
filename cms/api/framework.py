"""The project's Api and Blueprint subclasses: every cross-cutting convention of the HTTP
layer, in one place. Problem+json errors, one transaction per request, JSON-only request
bodies, bearer auth, and an OpenAPI document that says what each operation does."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
import orjson
from flask import Request, Response, request
from flask.views import MethodView
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter

from cms import problems
from cms.api.openapi import ContractPlugin, read_schema, write_schema
from cms.api.operation_docs import (
    OPTIONAL_AUTH,
    PROBLEMS_KEY,
    document_operation,
    link_created_resources,
)
from cms.api.screening import read_json
from cms.auth.permissions import requires
from cms.caching import LRU
from cms.extensions import db
from cms.models import Role

F = TypeVar("F", bound=Callable[..., Any])

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_DUMP_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize straight to JSON with orjson (the fast read path bypasses marshmallow)."""
    response = Response(
        orjson.dumps(payload, option=JSON_DUMP_OPTIONS), status=status, mimetype="application/json"
    )
    response.headers.update(headers or {})
    return response


def _rolled_back(handler: Callable[[Any], Response]) -> Callable[[Any], Response]:
    """Errors raised by the database end its transaction before they are answered."""

    @functools.wraps(handler)
    def wrapper(error: Any) -> Response:
        db.session.rollback()
        return handler(error)

    return wrapper


class ChoiceConverter(AnyConverter):
    """A path segment that is one of fixed words, documented as a string with a
    pattern: the spec's enums are named components, and a path parameter's schema
    is written before any component could be named for it."""

    choices: tuple[str, ...] = ()

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, *self.choices)
        self.spec_schema = {"type": "string", "pattern": f"^({'|'.join(self.choices)})$"}


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = problems.ProblemSchema

    def __init__(self, app: Any = None) -> None:
        options = {"marshmallow_plugin": ContractPlugin(), "security": OPTIONAL_AUTH}
        super().__init__(app, spec_kwargs=options)
        self.spec.components.schema("Problem", schema=problems.ProblemSchema)
        self.register_converter(ChoiceConverter, lambda converter: converter.spec_schema)

    def _init_spec(self, **kwargs: Any) -> None:
        super()._init_spec(**kwargs)
        # Links span operations of several paths: added to the whole document, served
        # and written (`flask openapi write`) alike.
        build = self.spec.to_dict
        self.spec.to_dict = lambda: link_created_resources(build())

    def _register_responses(self) -> None:
        """None: each operation documents its own problems (cms.api.operation_docs)."""

    def _register_pagination_header(self) -> None:
        """None: lists page in their body (`meta`, `links`), not in a header."""

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, problems.from_http_exception)
        self._app.register_error_handler(
            IntegrityError, _rolled_back(problems.from_integrity_error)
        )
        self._app.register_error_handler(StaleDataError, _rolled_back(problems.from_stale_data))
        self._app.register_error_handler(DBAPIError, _rolled_back(problems.from_database_error))


def _transactional(view: F) -> F:
    """Commit a write request's one transaction when the view succeeded; else roll back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        if request.method in WRITE_METHODS:
            db.session.commit()
        return result

    return wrapper  # type: ignore[return-value]


def _require_json_body(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            problems.fail(415, detail="Send the request body as application/json.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _refuse_repeated_scalars(schema: ma.Schema, view: F) -> F:
    """A parameter given twice that takes one value is a 400: webargs would keep the
    first and drop the rest without a word. Lists take repeats (and commas)."""
    repeatable = {
        field.data_key or name
        for name, field in schema.fields.items()
        if isinstance(field, ma.fields.List)
    }

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        repeated = sorted(
            name
            for name in request.args
            if name not in repeatable and len(request.args.getlist(name)) > 1
        )
        if repeated:
            problems.fail(
                400,
                "repeated_parameter",
                f"Give each of these parameters once: {', '.join(repeated)}.",
                errors={name: ["Takes one value."] for name in repeated},
            )
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class RequestParser(FlaskParser):
    """webargs reading JSON bodies as every view does (cms.api.screening.read_json),
    and remembering what each query string parsed to: hot reads (a home page asked
    for again and again) send the same one, and parsing it field by field cost more
    than the list query. A query's arguments depend on nothing but its text."""

    def _raw_load_json(self, req: Request) -> Any:
        return read_json(req.get_data(cache=True)) if is_json_request(req) else missing

    def parse(self, argmap: Any, req: Request | None = None, **kwargs: Any) -> Any:
        if kwargs.get("location") != "query" or kwargs.get("validate") is not None:
            return super().parse(argmap, req, **kwargs)
        query = (req or request).environ.get("QUERY_STRING", "")
        key = (id(argmap), query)
        parsed: dict[str, Any] | None = _parsed_queries.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, **kwargs)
            _parsed_queries.put(key, parsed)
        # A copy per request: a view may add to its arguments, or to a list among them.
        return {k: list(v) if isinstance(v, list) else v for k, v in parsed.items()}


# Parsed query arguments, by (schema, query string). The schemas live as long as the
# process (Blueprint.arguments instantiates each once), so their ids stay theirs.
_parsed_queries = LRU(size=1024)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest Blueprint with the project's conventions built in."""

    ARGUMENTS_PARSER = RequestParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(document_operation)

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Any = None, **options: Any
    ) -> None:
        if isinstance(view_func, type) and issubclass(view_func, MethodView):
            view_func.decorators = [*view_func.decorators, _transactional]
        elif view_func is not None:
            view_func = _transactional(view_func)
        super().add_url_rule(rule, endpoint, view_func, **options)

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable[[F], F]:
        if isinstance(schema, type):
            # webargs would instantiate a class on every request (deep-copying its fields).
            schema = schema()
        if location == "query":
            kwargs.setdefault("unknown", ma.RAISE)  # webargs would drop them silently
        if location == "json":
            schema = write_schema(schema)
        documented: Callable[[F], F] = super().arguments(schema, location=location, **kwargs)

        def decorator(func: F) -> F:
            # Outermost, so that what no parser should see is refused first.
            if location == "query":
                return _refuse_repeated_scalars(schema, documented(func))
            if location == "json":
                return _require_json_body(documented(func))
            return documented(func)

        return decorator

    def response(self, status_code: int, schema: Any = None, **kwargs: Any) -> Callable[[F], F]:
        if schema is not None:
            schema = read_schema(schema)
        return super().response(status_code, schema, **kwargs)  # type: ignore[no-any-return]

    def errors(self, *problems_given: int | str) -> Callable[[F], F]:
        """Document the problems an operation can give beyond those its shape implies
        (cms.api.operation_docs adds those): statuses, for their general codes, or
        specific codes (`"in_use"`, `"invalid_image"`)."""

        def decorator(func: F) -> F:
            doc = func.__dict__.setdefault("_apidoc", {})
            doc.setdefault(PROBLEMS_KEY, []).extend(problems_given)
            return func

        return decorator

    def requires(self, role: Role, *, own: bool = False) -> Callable[[F], F]:
        """Require a bearer token of at least `role` (see cms.auth.permissions), and
        document it: the role goes in the security requirement and `x-required-role`."""

        def decorator(func: F) -> F:
            # Its 401 and 403 are documented from the security requirement.
            return self.doc(  # type: ignore[no-any-return]
                security=[{"bearerAuth": [role.value]}],
                **{"x-required-role": role.value, "x-own-objects-only": own},
            )(requires(role, own=own)(func))

        return decorator
