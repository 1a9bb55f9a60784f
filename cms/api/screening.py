"""Requests no view can take, refused before any runs (authentication included), and
how JSON request bodies are read."""

import json
import math
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import request
from flask.json.provider import DefaultJSONProvider

from cms import problems
from cms.extensions import DB_INT_MAX

# Request bodies: deeper nesting is never meaningful here, and costs stack to walk.
MAX_JSON_DEPTH = 64
CONTAINS_NUL = "Contains a NUL character."
OUT_OF_RANGE = f"Out of range: at most ±{DB_INT_MAX}."


# URLs up to this many bytes are read (path and query); longer ones are refused with a
# problem, not left to the server in front: gunicorn's own 414 page is HTML (from 4094
# bytes by default, 8190 at most), so gunicorn.conf.py lifts its limit.
MAX_URL_BYTES = 8000


def screen_request() -> None:
    """Refuse what no view can take, before any runs (authentication included): a JSON
    body that does not parse or nests too deep (400), and anywhere in the path, the query
    or the body, NUL characters (PostgreSQL text cannot hold them, and they are never
    meaningful) or integers beyond the database's range (SQLite cannot even bind them)."""
    if _url_bytes() > MAX_URL_BYTES:
        problems.fail(414, "uri_too_long", f"URLs may be at most {MAX_URL_BYTES} bytes long.")
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


def _url_bytes() -> int:
    """The length of the URL as sent: servers pass it (gunicorn's RAW_URI, others'
    REQUEST_URI; some without the query); without either it is rebuilt, at more cost."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        return len(request.full_path.encode())
    query = environ.get("QUERY_STRING", "")
    return len(raw) + (len(query) + 1 if query and "?" not in raw else 0)


def _json_body() -> Any:
    """The JSON body, or None without one. Parsed here, once, so that what no parser
    takes is a 400: bytes that are not UTF-8, numbers Python will not convert (thousands
    of digits) or hold (1e999), NaN and Infinity (not JSON), nesting past the stack."""
    if not request.environ.get("CONTENT_TYPE") or not request.is_json:
        return None  # other bodies are read by their views, in their own way
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return read_json(data.decode())
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


def read_json(text: str | bytes) -> Any:
    """JSON as every request body is read (RequestJSON): no NaN or Infinity, and a
    whole number is an integer however it is written (`1.0`, `1e2`), as JSON Schema
    says, so integer fields take what a client's JSON encoder makes of an int."""
    return json.loads(text, parse_constant=_not_json, parse_float=_json_number)


def _json_number(text: str) -> float | int:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError
    if number.is_integer() and abs(number) <= 2**53:  # exact as a float, exact as an int
        return int(number)
    return number


class RequestJSON(DefaultJSONProvider):
    """Flask's JSON, reading bodies with read_json (what webargs and views get)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return read_json(s)


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
