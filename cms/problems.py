"""RFC 9457 problem details: the one error shape, produced here and nowhere else."""

import sqlite3
from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
import orjson
import structlog
from flask import Response, current_app, request
from flask_smorest import abort
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Every `code` the API sends: its status, and what it means (served at the type URI).
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request is malformed."),
    "invalid_cursor": (400, "The cursor is malformed or belongs to another sort."),
    "malformed_json": (400, "The request body is not valid JSON."),
    "unknown_parameter": (400, "A query parameter is not one this operation accepts."),
    "repeated_parameter": (400, "A query parameter that takes one value was given several."),
    "unauthorized": (401, "Authentication is needed."),
    "missing_token": (401, "No bearer token was sent."),
    "invalid_token": (401, "The token is malformed, forged, or its user is gone."),
    "token_expired": (401, "The token has expired."),
    "token_revoked": (401, "The token has been revoked."),
    "token_reused": (401, "A used refresh token came back: its whole login session is revoked."),
    "fresh_token_required": (401, "This needs a token from a fresh login."),
    "invalid_credentials": (401, "E-mail or password is wrong."),
    "forbidden": (403, "Authenticated, but not allowed to do this."),
    "bad_signature": (403, "The WebSub push is unsigned, or not signed with the secret."),
    "not_found": (404, "No such resource (or not visible to you)."),
    "method_not_allowed": (405, "The path exists, but not with this method (see Allow)."),
    "conflict": (409, "A unique value is already in use."),
    "in_use": (409, "Other content still refers to this item."),
    "job_not_failed": (409, "Only a failed job can be retried."),
    "invalid_transition": (409, "The article's status does not allow this step."),
    "unpublish_at_first": (409, "The article is to be taken down before it would go live."),
    "revision_outdated": (409, "The revision refers to what no longer exists."),
    "invalid_story_operation": (409, "The stories' members do not allow this merge, split or pin."),
    "webhook_disabled": (409, "The webhook is disabled: enable it to send to it."),
    "delivery_pending": (409, "The delivery is still being attempted: replay it once it ends."),
    "precondition_failed": (412, "The If-Match validator is stale."),
    "payload_too_large": (413, "The request body is too large."),
    "uri_too_long": (414, "The URL is longer than the server takes."),
    "unsupported_media_type": (
        415,
        "The request body is not in a media type this operation takes.",
    ),
    "unsupported_image": (415, "The file is not a JPEG, PNG, WebP, AVIF or GIF image."),
    "validation_error": (422, "The request has invalid fields; see `errors`."),
    "invalid_image": (422, "The image is truncated, corrupt, or carries markup."),
    "image_too_large": (422, "The image has more pixels than allowed (decompression bomb?)."),
    "precondition_required": (428, "This write needs an If-Match header."),
    "rate_limited": (429, "Too many requests; retry after the Retry-After delay."),
    "internal_error": (500, "An unexpected error; it has been logged."),
    "service_unavailable": (503, "A service the API needs is unavailable."),
    "not_ready": (503, "The database, Redis or the job queue cannot be reached."),
    "insufficient_storage": (507, "The media storage is full; nothing was kept."),
}
# The code used for a status when nothing more specific applies: the first listed.
DEFAULT_CODES = {status: code for code, (status, _) in reversed(PROBLEM_TYPES.items())}
TITLES = {422: "Validation failed", 500: "Internal server error"}
# What a 503 asks clients to wait: about what a database restart or failover takes.
RETRY_AFTER_SECONDS = 5

# Database errors that say the database cannot be reached or cannot serve right now,
# not that a statement is wrong. PostgreSQL SQLSTATE classes: 08 connection exception,
# 53 insufficient resources (disk full, out of memory, too many connections), 57P0x
# shutdown and start-up, 58 system (I/O) error; 25006 is a write sent to a read-only
# standby (after a failover). SQLite: busy past busy_timeout (another writer), out of
# memory, file read-only or unopenable, I/O error, disk full, WAL lock protocol.
UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03", "58", "25006")
UNAVAILABLE_SQLITE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object."""

    RESPONSE_ONLY = True  # never sent by clients (cms.api.openapi)

    type = ma.fields.String(
        required=True, metadata={"description": "URI naming the kind of problem"}
    )
    title = ma.fields.String(
        required=True, metadata={"description": "Short human summary of the kind"}
    )
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong this time"})
    code = ma.fields.String(
        required=True,
        metadata={"description": "Stable machine-readable error word (see x-problem-codes)"},
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={
            "description": "Field to its messages. Nested fields are dotted paths: "
            "`authors.0`, `path:slug`, `_body` for the body as a whole"
        },
    )


def fail(
    status: int,
    code: str | None = None,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> NoReturn:
    """Stop the request with a problem response (through flask-smorest's abort)."""
    abort(status, code=code, message=detail, errors=errors, headers=headers)
    raise AssertionError("unreachable")  # abort always raises


def problem_response(
    status: int,
    code: str | None = None,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    code = code or DEFAULT_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    if code not in PROBLEM_TYPES:
        raise ValueError(f"undocumented problem code {code!r}: add it to PROBLEM_TYPES")
    body: dict[str, Any] = {
        # Not from the Host header: problem responses can be cached publicly (404s).
        "type": f"{current_app.config['PUBLIC_BASE_URL']}/problems/{code.replace('_', '-')}",
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "code": code,
    }
    if errors:
        body["errors"] = flat_errors(errors)
    payload = orjson.dumps(body)
    response = Response(payload, status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flat_errors(errors: dict[Any, Any], prefix: str = "") -> dict[str, list[str]]:
    """Field errors as one level, `{"path": ["message", ...]}`: marshmallow nests them
    per list item and nested field (`{"authors": {0: [...]}}` becomes `authors.0`), and
    a typed client needs one shape."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flat_errors(value, path))
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, dict):
                    flat.update(flat_errors(item, path))
                else:
                    flat.setdefault(path, []).append(str(item))
        else:
            flat.setdefault(path, []).append(str(value))
    return flat


class InsufficientStorage(HTTPException):
    """507 (`insufficient_storage`): werkzeug, and so `fail`, knows no exception for it."""

    code = 507
    description = PROBLEM_TYPES["insufficient_storage"][1]


def fail_unavailable() -> NoReturn:
    """Stop the request with 503 and Retry-After: a service it needs cannot be reached.
    (Which one is for the log: a 5xx tells clients nothing of the internals.)"""
    fail(503, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _webargs_problem(status: int, messages: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Turn webargs' {location: errors} into (code, detail, field errors)."""
    errors: dict[str, Any] = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            errors.update(location_errors)
        else:  # e.g. ["Invalid JSON body."] for the body as a whole
            errors.setdefault("_body", []).extend(location_errors)
    if status == 400 and "_body" in errors:
        return "malformed_json", "The request body is not valid JSON.", errors
    if "query" in messages and all(
        msgs == ["Unknown field."] for msgs in messages["query"].values()
    ):
        names = ", ".join(sorted(messages["query"]))
        return "unknown_parameter", f"Unknown query parameter(s): {names}.", errors
    return DEFAULT_CODES.get(status, "bad_request"), "The request has invalid fields.", errors


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data: dict[str, Any] = getattr(error, "data", None) or {}
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled_exception", exc_info=original, path=request.path)
        # Never leak internals: the client gets a generic, stable message.
        return problem_response(status, headers=headers)
    if "messages" in data:  # raised by webargs while parsing the request
        code, detail, errors = _webargs_problem(status, data["messages"])
        if code == "unknown_parameter":
            status = 400
        return problem_response(status, code, detail, errors=errors, headers=headers)
    return problem_response(
        status,
        data.get("code"),
        data.get("message") or error.description,
        errors=data.get("errors"),
        headers=headers,
    )


def from_stale_data(_error: Exception) -> Response:
    """Two writers raced past If-Match: the version check in the UPDATE caught the later."""
    return problem_response(
        412, "precondition_failed", "Someone else changed this meanwhile; fetch it again and retry."
    )


def from_integrity_error(error: IntegrityError) -> Response:
    """A database constraint said no: unique values in use (409), or rows still in use."""
    message = str(error.orig).lower()
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == "23503" or "foreign key" in message:
        return problem_response(
            409, "in_use", "Other content still refers to this item; detach it first."
        )
    field = _unique_field(error)
    errors = {field: ["This value is already in use."]} if field else None
    return problem_response(409, "conflict", "A unique value is already in use.", errors=errors)


def from_database_error(error: DBAPIError) -> Response:
    """The database is unreachable or cannot serve now: 503 with Retry-After (the
    request's transaction was rolled back: nothing of it is kept). Any other database
    error is a bug: raised again, it takes the path of every unexpected error (a logged
    500 internal_error; in tests, the traceback)."""
    if not database_unavailable(error):
        raise error
    log.error("database_unavailable", error=str(error.orig), path=request.path)
    return problem_response(
        503, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def database_unavailable(error: DBAPIError) -> bool:
    if error.connection_invalidated:  # SQLAlchemy saw the connection drop
        return True
    original = error.orig
    if isinstance(original, sqlite3.Error):
        # Extended result codes (SQLITE_IOERR_WRITE, ...) carry the primary in the low byte.
        return getattr(original, "sqlite_errorcode", 0) & 0xFF in UNAVAILABLE_SQLITE_CODES
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:
        # psycopg's own OperationalError (no server answer: refused, timed out, lost).
        return isinstance(error, OperationalError)
    return str(sqlstate).startswith(UNAVAILABLE_SQLSTATES)


def _unique_field(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)  # PostgreSQL: uq_<table>_<column>
    table = getattr(diag, "table_name", None)
    if constraint and table and constraint.startswith(f"uq_{table}_"):
        return str(constraint[len(f"uq_{table}_") :])
    message = str(error.orig)  # SQLite: "UNIQUE constraint failed: <table>.<column>"
    if "UNIQUE constraint failed: " in message:
        return message.split("UNIQUE constraint failed: ", 1)[1].split(",")[0].split(".")[-1]
    return None


def describe(status: int) -> str:
    """The spec's description of a problem response with this status."""
    codes = [
        f"`{code}`" for code, (code_status, _) in PROBLEM_TYPES.items() if code_status == status
    ]
    return f"{HTTPStatus(status).phrase}. Problem codes: {', '.join(codes)}."


def problem_type_page(code: str) -> Response:
    """What a problem `type` URI dereferences to: the code's meaning, as JSON."""
    code = code.replace("-", "_")
    if code not in PROBLEM_TYPES:
        return problem_response(404, detail="No such problem type.")
    status, meaning = PROBLEM_TYPES[code]
    body = {
        "code": code,
        "status": status,
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "description": meaning,
    }
    return Response(orjson.dumps(body), mimetype="application/json")
