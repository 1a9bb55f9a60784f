"""Anonymous revalidations answered before Flask: the hottest request a CDN makes.

When an article list or an article answers an anonymous If-None-Match with a 304, it
notes what that answer rested on (`remember_revalidation`): the content generation it
was computed at, and the instant the public state next changes on its own (a scheduled
publish or takedown). Until either moves, the same URL with the same validator gets the
same 304, so this WSGI layer answers it without entering Flask: no routing, hooks,
context or database. Every content write moves the generation, pushed to each process
on PostgreSQL and read per hit on SQLite (a local file), so a write through any process
ends these answers as it ends the app's own.

Only what the app answered itself is repeated, per URL, Origin and Accept (the headers
its answers vary on besides Authorization, which is never anonymous). Cache-Control's
max-age is counted down to the stored instant on each answer.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, g, request
from werkzeug.http import parse_etags

from cms.caching import CACHES, LRU, current_generation, public_cache_control, seconds_left
from cms.extensions import db
from cms.models import utcnow

_NOTE = "cms.revalidation"
_KEPT_OUT = frozenset({"cache-control", "date", "content-length"})
# Bounded by bytes too: a key holds a URL of up to 8 KB (longer ones are refused).
ANSWER_BYTES = 2 * 2**20
_ENTRY_OVERHEAD = 400  # the tuples, the dataclass, the LRU's bookkeeping

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Revalidated:
    generation: int
    etag: str
    until: datetime | None  # the public state's next change (None: only a write)
    headers: tuple[tuple[str, str], ...] = ()


def remember_revalidation(etag: str) -> None:
    """Called by a view answering an anonymous GET with a 304 computed from the content
    generation (read before anything else) and the clock (bounded by `fresh_until`)."""
    generation = g.get("content_generation")
    if generation is not None:  # read later than the data, it would vouch for too much
        request.environ[_NOTE] = Revalidated(generation, etag, g.get("fresh_until"))


class Revalidation:
    """WSGI middleware around the Flask app (`app.wsgi_app`)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp, entries: int) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.answers = LRU(size=entries, max_bytes=ANSWER_BYTES)
        CACHES.append(self.answers)  # clear_caches() forgets them too
        self._engine: Any = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_IF_NONE_MATCH" not in environ
            or "HTTP_AUTHORIZATION" in environ
            or "HTTP_IF_MATCH" in environ  # the app's to weigh (a 412 may come first)
        ):
            return self.wsgi_app(environ, start_response)
        key = (
            environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"),
            environ.get("HTTP_ORIGIN"),
            environ.get("HTTP_ACCEPT"),
        )
        known: Revalidated | None = self.answers.get(key)
        if known is not None and self._still_holds(known, environ["HTTP_IF_NONE_MATCH"]):
            now = utcnow()
            cache_control = public_cache_control(self.app.config, seconds_left(known.until, now))
            start_response("304 NOT MODIFIED", [*known.headers, ("Cache-Control", cache_control)])
            return []

        def noting(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            noted: Revalidated | None = environ.get(_NOTE)
            if noted is not None and status.startswith("304"):
                kept = tuple((k, v) for k, v in headers if k.lower() not in _KEPT_OUT)
                answer = Revalidated(noted.generation, noted.etag, noted.until, kept)
                size = sum(len(part or "") for part in key) + sum(len(k) + len(v) for k, v in kept)
                self.answers.put(key, answer, size + _ENTRY_OVERHEAD)
            return start_response(status, headers, *exc_info)

        return self.wsgi_app(environ, noting)

    def _still_holds(self, known: Revalidated, if_none_match: str) -> bool:
        if known.until is not None and utcnow() >= known.until:
            return False
        if if_none_match != f'"{known.etag}"':
            sent = parse_etags(if_none_match)
            if sent.star_tag or not sent.contains_weak(known.etag):  # `*`: the app decides
                return False
        return current_generation(self.app, self._database()) == known.generation

    def _database(self) -> Any:
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine


def init_revalidation(app: Flask) -> None:
    entries = app.config["REVALIDATION_ENTRIES"]
    if entries:
        app.wsgi_app = Revalidation(app, app.wsgi_app, entries)  # type: ignore[method-assign]
