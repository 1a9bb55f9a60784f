"""Extensions, created once, and the project's Api/Blueprint subclasses.

Everything cross-cutting lives here: problem+json errors, one transaction per request,
JSON-only request bodies, bearer auth, documented error responses and the list envelope.
"""

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
import orjson
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, request
from flask.views import MethodView
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
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
# Storage, strategy and key prefix come from the RATELIMIT_* config (memory or Redis).
limiter = Limiter(key_func=get_remote_address)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_DUMP_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite only enforces foreign keys when asked; WAL lets workers read while one writes."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def refuse_nul_characters() -> None:
    """NUL cannot be stored in PostgreSQL text and is never meaningful in content:
    refuse it anywhere in the path, the query or a JSON body, before any view runs."""
    found = [
        f"path:{name}" for name, value in (request.view_args or {}).items() if "\x00" in str(value)
    ]
    found += [name for name, value in request.args.items(multi=True) if "\x00" in value]
    if request.is_json:
        found += _nul_fields(request.get_json(silent=True), "")
    if found:
        problems.fail(
            422,
            "validation_error",
            "Text may not contain NUL characters.",
            errors={name or "_body": ["Contains a NUL character."] for name in found},
        )


def _nul_fields(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [where] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            f
            for k, v in value.items()
            for f in _nul_fields(v, f"{where}.{k}".strip(".")) + _nul_fields(k, where)
        ]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _nul_fields(v, f"{where}.{i}".strip("."))]
    return []


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
