"""Where revoked token ids and families are kept: the database, or Redis when configured.

Writes go through their own short transaction, not the request's: a revocation must
stick even when the request that caused it answers with an error (reuse detection).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

import redis
import structlog
from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from cms.extensions import db
from cms.models import RevokedToken, utcnow
from cms.problems import fail_unavailable

log = structlog.get_logger(__name__)

# What a Redis that is down, starting, failed over (a read-only replica) or full says.
REDIS_UNAVAILABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.OutOfMemoryError,
)


def redis_client(url: str) -> "redis.Redis":
    """A client that gives up within a second or so: a Redis that is down must not hold
    requests (timeouts given in the URL's query string win)."""
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


class RevocationStore(Protocol):
    def revoke(self, key: str, ttl: timedelta) -> None: ...

    def claim(self, key: str, ttl: timedelta) -> bool:
        """Mark `key` once; False if it was already marked (e.g. a refresh token reused)."""
        ...

    def any_revoked(self, keys: Sequence[str]) -> bool: ...


class DatabaseRevocations:
    def revoke(self, key: str, ttl: timedelta) -> None:
        self.claim(key, ttl)

    def claim(self, key: str, ttl: timedelta) -> bool:
        now = utcnow()
        with db.engine.begin() as connection:
            connection.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
        try:
            with db.engine.begin() as connection:
                connection.execute(insert(RevokedToken).values(key=key, expires_at=now + ttl))
        except IntegrityError:
            return False
        return True

    def any_revoked(self, keys: Sequence[str]) -> bool:
        query = select(func.count()).where(
            RevokedToken.key.in_(keys), RevokedToken.expires_at > utcnow()
        )
        return bool(db.session.scalar(query))


class RedisRevocations:
    """Fails closed. Without Redis no one can tell whether a token was revoked (its login
    logged out, or a rotated refresh token come back), so whatever carries a JWT (the
    check on every request, refresh, logout) gets 503 with Retry-After until Redis is
    back. The database is no fallback: the revocations kept in Redis are not in it, and
    logged-out or stolen tokens would work again. Anonymous requests and API tokens
    (checked in the database) go on as usual; so do logins (cms.auth.throttle)."""

    def __init__(self, client: "redis.Redis", prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def revoke(self, key: str, ttl: timedelta) -> None:
        with _reachable():
            self.client.set(self.prefix + key, 1, ex=ttl)

    def claim(self, key: str, ttl: timedelta) -> bool:
        with _reachable():
            return bool(self.client.set(self.prefix + key, 1, ex=ttl, nx=True))

    def any_revoked(self, keys: Sequence[str]) -> bool:
        with _reachable():
            return bool(self.client.exists(*(self.prefix + key for key in keys)))


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except REDIS_UNAVAILABLE as error:
        log.error("redis_unavailable", store="revocations", error=str(error))
        fail_unavailable()


def init_revocations(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    store: RevocationStore = (
        RedisRevocations(redis_client(url), app.config["REDIS_KEY_PREFIX"] + "revoked:")
        if url
        else DatabaseRevocations()
    )
    app.extensions["cms_revocations"] = store


def revocations() -> RevocationStore:
    store: RevocationStore = current_app.extensions["cms_revocations"]
    return store
