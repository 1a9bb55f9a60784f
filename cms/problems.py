"""RFC 9457 problem details: the one error shape, produced here and nowhere else."""

from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
import orjson
import structlog
from flask import Response, current_app, request
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Every `code` the API sends: its status, and what it means (served at the type URI).
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request is malformed."),
    "invalid_cursor": (400, "The cursor is malformed or belongs to another sort."),
    "malformed_json": (400, "The request body is not valid JSON."),
    "unknown_parameter": (400, "A query parameter is not one this operation accepts."),
    "unauthorized": (401, "Authentication is needed."),
    "missing_token": (401, "No bearer token was sent."),
    "invalid_token": (401, "The token is malformed, forged, or its user is gone."),
    "token_expired": (401, "The token has expired."),
    "token_revoked": (401, "The token has been revoked."),
    "token_reused": (401, "A used refresh token came back: its whole login session is revoked."),
    "fresh_token_required": (401, "This needs a token from a fresh login."),
    "invalid_credentials": (401, "E-mail or password is wrong."),
    "forbidden": (403, "Authenticated, but not allowed to do this."),
    "not_found": (404, "No such resource (or not visible to you)."),
    "method_not_allowed": (405, "The path exists, but not with this method (see Allow)."),
    "conflict": (409, "A unique value is already in use."),
    "in_use": (409, "Other content still refers to this item."),
    "precondition_failed": (412, "The If-Match validator is stale."),
    "payload_too_large": (413, "The request body is too large."),
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
}
# The code used for a status when nothing more specific applies: the first listed.
DEFAULT_CODES = {status: code for code, (status, _) in reversed(PROBLEM_TYPES.items())}
TITLES = {422: "Validation failed", 500: "Internal server error"}


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem details object."""

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short human summary of the kind"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable error word"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Field name to list of messages (validation problems)"},
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
        body["errors"] = errors
    # Errors of list items are keyed by index ({"sort": {0: [...]}}): allow int keys.
    payload = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    response = Response(payload, status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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
    from cms.extensions import db  # local: extensions imports this module

    db.session.rollback()
    return problem_response(
        412, "precondition_failed", "Someone else changed this meanwhile; fetch it again and retry."
    )


def from_integrity_error(error: IntegrityError) -> Response:
    """A database constraint said no: unique values in use (409), or rows still in use."""
    from cms.extensions import db  # local: extensions imports this module

    db.session.rollback()
    message = str(error.orig).lower()
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == "23503" or "foreign key" in message:
        return problem_response(
            409, "in_use", "Other content still refers to this item; detach it first."
        )
    field = _unique_field(error)
    errors = {field: ["This value is already in use."]} if field else None
    return problem_response(409, "conflict", "A unique value is already in use.", errors=errors)


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
