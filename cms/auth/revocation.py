"""Where revoked token ids and families are kept: the database, or Redis when configured.

Writes go through their own short transaction, not the request's: a revocation must
stick even when the request that caused it answers with an error (reuse detection).
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import redis
from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from cms.extensions import db
from cms.models import RevokedToken, utcnow


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
    def __init__(self, client: "redis.Redis", prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def revoke(self, key: str, ttl: timedelta) -> None:
        self.client.set(self.prefix + key, 1, ex=ttl)

    def claim(self, key: str, ttl: timedelta) -> bool:
        return bool(self.client.set(self.prefix + key, 1, ex=ttl, nx=True))

    def any_revoked(self, keys: Sequence[str]) -> bool:
        return bool(self.client.exists(*(self.prefix + key for key in keys)))


def init_revocations(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    store: RevocationStore = (
        RedisRevocations(redis.Redis.from_url(url), app.config["REDIS_KEY_PREFIX"] + "revoked:")
        if url
        else DatabaseRevocations()
    )
    app.extensions["cms_revocations"] = store


def revocations() -> RevocationStore:
    store: RevocationStore = current_app.extensions["cms_revocations"]
    return store
