"""RFC 9457 problem details: the one error shape, produced here and nowhere else."""

from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
import orjson
import structlog
from flask import Response, request
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The stable machine word for each status when nothing more specific applies.
DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
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
    code = code or DEFAULT_CODES.get(status, "error")
    body: dict[str, Any] = {
        "type": f"{request.host_url}problems/{code.replace('_', '-')}",
        "title": TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
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
    return DEFAULT_CODES.get(status, "error"), "The request has invalid fields.", errors


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data: dict[str, Any] = getattr(error, "data", None) or {}
    headers = {
        name: value for name, value in error.get_headers() if name.lower() != "content-type"
    }
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


DESCRIPTIONS = {
    400: "Malformed request, or unknown query parameters.",
    401: "Missing, malformed, expired or revoked bearer token.",
    403: "Authenticated, but not allowed to do this.",
    404: "No such resource (or not visible to you).",
    409: "Conflicts with existing content (a unique value in use, or still referenced).",
    412: "The If-Match validator is stale.",
    413: "The request body is too large.",
    415: "The request body must be application/json.",
    422: "The request has invalid fields.",
    428: "This write needs an If-Match header.",
    429: "Too many requests; retry after the Retry-After delay.",
}


def describe(status: int) -> str:
    return DESCRIPTIONS.get(status) or HTTPStatus(status).phrase


def problem_type_page(code: str) -> Response:
    """What a problem `type` URI dereferences to: the code's meaning, as JSON."""
    by_code = {c.replace("_", "-"): s for s, c in DEFAULT_CODES.items()}
    status = by_code.get(code)
    if status is None:
        return problem_response(404, detail="No such problem type.")
    body = {"code": code.replace("-", "_"), "status": status,
            "title": TITLES.get(status) or HTTPStatus(status).phrase,
            "description": describe(status)}
    return Response(orjson.dumps(body), mimetype="application/json")
