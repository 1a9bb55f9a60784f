"""HTTP caching and lost-update protection: ETags, 304s, Cache-Control, If-Match.

Validators are computed without rendering bodies: an article's from its id, version
and updated_at; a list's from the request URL, the caller's visibility scope and the
content generation, a number every content-changing transaction bumps. Other GETs get
an ETag hashed from their body (they are small and rarely hot).
"""

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_app_context, request
from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from cms.cache_tags import write_cache_tags
from cms.extensions import db
from cms.generation import NOTIFY, watcher_for
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    ContentState,
    Image,
    Page,
    Publication,
    SearchDocument,
    Story,
    StoryMember,
    Tag,
    utcnow,
)
from cms.problems import fail, problem_response
from cms.raw_reads import raw_fetchone
from cms.services import DbSession

T = TypeVar("T")

CONTENT_MODELS = (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    Image,
    Page,
    Publication,
    SearchDocument,
    Story,
    StoryMember,
    Tag,
)


def strong_etag(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def object_etag(obj: Any) -> str:
    """The validator of one stored object: changes whenever the object does."""
    return versioned_etag(obj.__tablename__, obj.id, getattr(obj, "version", ""), obj.updated_at)


def validators(obj: Any) -> dict[str, str]:
    """ETag and Last-Modified headers of one stored object."""
    return {"ETag": f'"{object_etag(obj)}"', "Last-Modified": http_date(obj.updated_at)}


def versioned_etag(table: str, id_: int, version: Any, updated_at: datetime) -> str:
    return strong_etag(table, id_, version, updated_at.isoformat())


def list_etag(scope: str, *parts: Any) -> str:
    """A list's validator: its URL, who is asking, the content generation, and what
    else its content depends on (the clock's place on the content timeline)."""
    environ = request.environ  # the URL as sent (rebuilding it costs more than the rest)
    url = f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
    return strong_etag(url, scope, content_generation(), *parts)


def fresh_until(when: datetime | None) -> None:
    """Public caches may keep this response no longer than until `when` (None: no limit
    beyond the configured max-age), because what it shows changes then. Kept exact:
    an answer repeated later (cms.revalidation) counts its max-age down to it."""
    if when is not None:
        g.fresh_until = min(when, g.get("fresh_until", when))


def seconds_left(until: datetime | None, now: datetime) -> int | None:
    """Whole seconds from `now` to `until` (rounded up; None for no limit)."""
    if until is None:
        return None
    return max(0, math.ceil((until - now).total_seconds()))


def public_cache_control(config: Any, fresh_for: int | None) -> str:
    return (
        f"public, max-age={_at_most(config['CACHE_MAX_AGE'], fresh_for)}, "
        f"s-maxage={_at_most(config['CACHE_S_MAXAGE'], fresh_for)}"
    )


_GENERATION = "SELECT generation FROM content_state WHERE id = 1"


def content_generation() -> int:
    """Once per request (a list needs it for its ETag and for its total): as pushed to
    this process (cms.generation), else read."""
    generation: int | None = g.get("content_generation")
    if generation is None:
        generation = current_generation(current_app, db.engine)
        g.content_generation = generation
    return generation


def current_generation(app: Flask, engine: Engine) -> int:
    """The content generation as pushed to this process (cms.generation), else read."""
    watcher = app.extensions.get("generation_watcher")
    generation = watcher.current() if watcher is not None else None
    if generation is None:
        row = raw_fetchone(_GENERATION, engine=engine)
        generation = int(row[0]) if row else 0
    return generation


class LRU:
    """A small per-process least-recently-used map. Keys must name a version of what
    they cache (a generation, an updated_at), so an entry can never be stale: a change
    makes it unreachable and it ages out. Bounded by entries, and with `max_bytes` by
    the bytes its entries were put with (an entry larger than that is not kept, and
    evicts nothing). Safe across threads (gthread workers, the job consumer)."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.sizes: dict[Hashable, int] = {}
        self.bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any, nbytes: int = 0) -> None:
        with self._lock:
            self._forget(key)
            if self.max_bytes is not None and nbytes > self.max_bytes:
                return
            self.entries[key] = value
            self.sizes[key] = nbytes
            self.bytes += nbytes
            while len(self.entries) > self.size or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                oldest = next(iter(self.entries))
                self._forget(oldest)

    def _forget(self, key: Hashable) -> None:
        if key in self.entries:
            del self.entries[key]
            self.bytes -= self.sizes.pop(key)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.sizes.clear()
            self.bytes = 0


_totals = LRU(size=4096)
CACHES = [_totals]  # every process-wide cache, for clear_caches()


def clear_caches() -> None:
    """Forget everything cached in this process (after out-of-band database changes)."""
    for cache in CACHES:
        cache.clear()


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or its remembered value for this key and content generation."""
    versioned = (content_generation(), key)
    value: T | None = _totals.get(versioned)
    if value is None:
        value = compute()
        _totals.put(versioned, value)
    return value


def mark_content_changed(session: DbSession) -> None:
    """For changes made with Core statements, which the ORM events below cannot see."""
    session.info["content_changed"] = True


@event.listens_for(Session, "before_flush")
def _note_content_changes(session: Session, *_: Any) -> None:
    if any(
        isinstance(obj, CONTENT_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        mark_content_changed(session)


@event.listens_for(Session, "before_commit")
def _bump_generation(session: Session) -> None:
    _note_content_changes(session)
    if session.info.pop("content_changed", False):
        bumped = session.execute(
            update(ContentState)
            .where(ContentState.id == 1)
            .values(generation=ContentState.generation + 1)
            .returning(ContentState.generation)
        ).scalar()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(NOTIFY, {"generation": str(bumped)})
        session.info["bumped_generation"] = bumped


@event.listens_for(Session, "after_commit")
def _count_own_commit(session: Session) -> None:
    """This process sees its own writes at once, without waiting for the notice."""
    bumped = session.info.pop("bumped_generation", None)
    watcher = current_app.extensions.get("generation_watcher") if has_app_context() else None
    if bumped is not None and watcher is not None:
        watcher.saw(bumped)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop("content_changed", None)
    session.info.pop("bumped_generation", None)


def not_modified(etag: str, last_modified: datetime | None = None) -> Response | None:
    """A 304 when the client's copy is current, else None (then send with `conditional`)."""
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        return conditional(Response(status=304), etag, last_modified)
    return None


def conditional(response: Response, etag: str, last_modified: datetime | None = None) -> Response:
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def require_if_match(current_etag: str) -> None:
    """Writes must prove they saw the current version: 428 without If-Match, 412 stale."""
    if "If-Match" not in request.headers:  # sent but empty or garbled: stale (412)
        fail(
            428,
            "precondition_required",
            "Send If-Match with the ETag you read, so no one's edit is overwritten.",
        )
    if not (request.if_match.star_tag or request.if_match.contains(current_etag)):
        fail(
            412,
            "precondition_failed",
            "The resource changed since you read it; fetch it again and retry.",
        )


def _finish_get(response: Response) -> Response:
    """Every successful GET: an ETag (hashed from the body unless the view set a cheaper
    one), the matching 304, and Cache-Control for CDNs or for the caller alone. Headers
    are written as strings: this runs on every read, 304s included, and Werkzeug's
    Cache-Control object re-parses and re-writes the header on each assignment."""
    if request.method not in ("GET", "HEAD") or response.status_code not in (200, 304):
        return response
    headers = response.headers
    own_caching = "Cache-Control" in headers  # no-store probes and previews, immutable media
    hashed = not own_caching and response.status_code == 200 and "ETag" not in headers
    if hashed:
        etag = hashlib.sha1(response.get_data(), usedforsecurity=False).hexdigest()
        headers["ETag"] = f'"{etag}"'
    if "If-Match" in request.headers and not _if_match_holds(response):
        return problem_response(
            412, "precondition_failed", "If-Match names no current version of this resource."
        )
    if own_caching:
        return response
    if hashed and "If-None-Match" in request.headers and request.if_none_match.contains_weak(etag):
        response = conditional(Response(status=304), etag)
        headers = response.headers
    if "HTTP_AUTHORIZATION" in request.environ:
        headers["Cache-Control"] = "private, no-cache"
    else:
        if response.status_code == 200:
            write_cache_tags(headers)
        fresh_for = seconds_left(g.get("fresh_until"), utcnow())
        headers["Cache-Control"] = public_cache_control(current_app.config, fresh_for)
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Authorization" if vary else "Authorization"
    return response


def _if_match_holds(response: Response) -> bool:
    """If-Match on a read (RFC 9110, 13.1.1): `*` holds for any current representation,
    a tag only by strong comparison. (Werkzeug's make_conditional answered 412 to `*`,
    with the body.)"""
    etag, weak = response.get_etag()
    if request.if_match.star_tag:
        return True
    return etag is not None and not weak and request.if_match.is_strong(etag)


def _at_most(seconds: int, limit: int | None) -> int:
    return seconds if limit is None else min(seconds, limit)


def init_caching(app: Flask) -> None:
    app.after_request(_finish_get)
    if app.config["PUSH_GENERATION"]:
        app.extensions["generation_watcher"] = watcher_for(app.config["SQLALCHEMY_DATABASE_URI"])
