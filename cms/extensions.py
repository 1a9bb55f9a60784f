"""Extensions, created once, and the project's Api/Blueprint subclasses.

Everything cross-cutting lives here: problem+json errors, one transaction per request,
JSON-only request bodies, bearer auth, documented error responses and the list envelope.
"""

import functools
import json
import math
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, NoReturn, TypeVar

import flask_smorest
import marshmallow as ma
import orjson
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, request
from flask.views import MethodView
from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from cms import problems
from cms.models import Base, Role

F = TypeVar("F", bound=Callable[..., Any])

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_DUMP_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
# Request bodies: deeper nesting is never meaningful here, and costs stack to walk.
MAX_JSON_DEPTH = 64
# The range of the database's INTEGER columns (PostgreSQL's int4, the narrowest id and
# count type): a larger number names no row and fits no column.
DB_INT_MAX = 2**31 - 1
CONTAINS_NUL = "Contains a NUL character."
OUT_OF_RANGE = f"Out of range: at most ±{DB_INT_MAX}."


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite only enforces foreign keys when asked; WAL lets workers read while one writes."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def screen_request() -> None:
    """Refuse what no view can take, before any runs (authentication included): a JSON
    body that does not parse or nests too deep (400), and anywhere in the path, the query
    or the body, NUL characters (PostgreSQL text cannot hold them, and they are never
    meaningful) or integers beyond the database's range (SQLite cannot even bind them)."""
    errors = {
        f"path:{name}": [CONTAINS_NUL]
        for name, value in (request.view_args or {}).items()
        if "\x00" in str(value)
    }
    errors |= {
        name: [CONTAINS_NUL] for name, value in request.args.items(multi=True) if "\x00" in value
    }
    errors |= _unstorable_values(_json_body())
    if errors:
        problems.fail(
            422,
            "validation_error",
            f"No field takes NUL characters, nor integers beyond ±{DB_INT_MAX}.",
            errors=errors,
        )


def _json_body() -> Any:
    """The JSON body, or None without one. Parsed here, once, so that what no parser
    takes is a 400: bytes that are not UTF-8, numbers Python will not convert (thousands
    of digits) or hold (1e999), NaN and Infinity (not JSON), nesting past the stack."""
    if not request.is_json:  # other bodies are read by their views, in their own way
        return None
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return json.loads(data.decode(), parse_constant=_not_json, parse_float=_finite_float)
    except RecursionError:
        _too_deep()
    except ValueError as error:
        problems.fail(
            400,
            "malformed_json",
            "The request body is not valid JSON.",
            errors={"_body": [_unreadable(error)]},
        )


def _unreadable(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}."
    if isinstance(error, UnicodeDecodeError):
        return "Not UTF-8."
    return "A number out of range, or NaN or Infinity (not JSON)."


def _not_json(_constant: str) -> NoReturn:
    raise ValueError


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError
    return number


def _too_deep() -> NoReturn:
    problems.fail(
        400, "malformed_json", f"JSON bodies may nest at most {MAX_JSON_DEPTH} levels deep."
    )


def _unstorable_values(body: Any) -> dict[str, list[str]]:
    """Field path (or _body) -> message, for NUL characters and out-of-range integers.
    Iterative, so nesting costs no stack; beyond MAX_JSON_DEPTH levels it is refused.
    Only containers are queued, and a value's path is spelled out only for an error."""
    errors: dict[str, list[str]] = {}
    # (container, its path, its level); the body itself is the one value of a root.
    pending: list[tuple[Any, str, int]] = [({"": body}, "", -1)]
    while pending:
        container, where, level = pending.pop()
        if level >= MAX_JSON_DEPTH:
            _too_deep()
        if isinstance(container, dict):
            if "\x00" in "".join(container):
                errors[where or "_body"] = [CONTAINS_NUL]
            items: Iterable[tuple[str | int, Any]] = container.items()
        else:
            items = enumerate(container)
        for key, value in items:
            if isinstance(value, dict | list):
                pending.append((value, _field_path(where, key), level + 1))
            elif isinstance(value, str):
                if "\x00" in value:
                    errors[_field_path(where, key) or "_body"] = [CONTAINS_NUL]
            elif isinstance(value, int) and not -DB_INT_MAX <= value <= DB_INT_MAX:
                errors[_field_path(where, key) or "_body"] = [OUT_OF_RANGE]
    return errors


def _field_path(where: str, key: str | int) -> str:
    return f"{where}.{key}" if where else str(key)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize straight to JSON with orjson (the fast read path bypasses marshmallow)."""
    response = Response(
        orjson.dumps(payload, option=JSON_DUMP_OPTIONS), status=status, mimetype="application/json"
    )
    response.headers.update(headers or {})
    return response


def schema_name(schema: Any) -> str:
    """Component names for the spec: "Tag" for TagSchema, "TagPatch" for its partial form."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"{name}Patch" if getattr(schema, "partial", False) else name


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = problems.ProblemSchema

    def __init__(self, app: Any = None) -> None:
        plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
        super().__init__(app, spec_kwargs={"marshmallow_plugin": plugin})

    def _register_responses(self) -> None:
        """Every error response component is problem+json, described by its codes."""
        for status in HTTPStatus:
            if status < 400:
                continue
            response = {"description": problems.describe(status), "schema": problems.ProblemSchema}
            prepare_response(response, self.spec, problems.PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": problems.ProblemSchema}
        prepare_response(response, self.spec, problems.PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, problems.from_http_exception)
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm.exc import StaleDataError

        self._app.register_error_handler(IntegrityError, problems.from_integrity_error)
        self._app.register_error_handler(StaleDataError, problems.from_stale_data)


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


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest Blueprint with the project's conventions built in."""

    def add_url_rule(
        self, rule: str, endpoint: str | None = None, view_func: Any = None, **options: Any
    ) -> None:
        if isinstance(view_func, type) and issubclass(view_func, MethodView):
            view_func.decorators = [*view_func.decorators, _transactional]
        elif view_func is not None:
            view_func = _transactional(view_func)
        super().add_url_rule(rule, endpoint, view_func, **options)

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable[[F], F]:
        if location == "query":
            kwargs.setdefault("unknown", ma.RAISE)  # webargs would drop them silently
        if isinstance(schema, type):
            # webargs would instantiate a class on every request (deep-copying its fields).
            schema = schema()
        documented = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return documented  # type: ignore[no-any-return]

        def decorator(func: F) -> F:
            # Outermost, so a form or text body is refused before webargs parses it.
            return _require_json_body(documented(func))  # type: ignore[no-any-return]

        return decorator

    def errors(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem responses an operation can give, beyond 422."""

        def decorator(func: F) -> F:
            for status in statuses:
                func = self.alt_response(status, response=HTTPStatus(status).name)(func)
            return func

        return decorator

    def requires(self, role: "Role", *, own: bool = False) -> Callable[[F], F]:
        """Require a bearer token of at least `role` (see cms.auth.permissions), and
        document it: the role goes in the security requirement and `x-required-role`."""
        from cms.auth.permissions import requires  # cms.auth needs db from this module

        def decorator(func: F) -> F:
            func = requires(role, own=own)(func)
            func = self.doc(
                security=[{"bearerAuth": [role.value]}],
                **{"x-required-role": role.value, "x-own-objects-only": own},
            )(func)
            return self.errors(401, 403)(func)

        return decorator
