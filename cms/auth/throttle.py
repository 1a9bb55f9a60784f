"""Password guesses, limited per account and per client address across every process.

A guess is counted before the password is checked and forgotten once it proves right:
guesses sent together cannot slip past the limit together, and right passwords never
count. The counts live where every worker process sees them: the database, or Redis
when configured. Database writes use their own short transactions, as revocations do:
a wrong guess must stay counted although its request answers with an error.
"""

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import limits
import redis
import structlog
from flask import Flask, current_app, request
from sqlalchemy import delete, func, insert, select

from cms.auth.revocation import REDIS_UNAVAILABLE, redis_client
from cms.extensions import db
from cms.models import utcnow
from cms.models.auth import LoginFailure
from cms.problems import fail

log = structlog.get_logger(__name__)

# Redis keeps a key this much longer than its newest guess counts: the app servers'
# clocks, which time the guesses, may run ahead of Redis's, which expires the key.
REDIS_KEY_SLACK = timedelta(minutes=1)


class GuessStore(Protocol):
    def count(
        self, guess: str, key: str, now: datetime, expires_at: datetime
    ) -> tuple[int, datetime]:
        """Count `guess` under `key` until `expires_at`. Say how many guesses under `key`
        count at `now`, this one included, and when the first of them stops counting."""
        ...

    def forget(self, guess: str, keys: Sequence[str]) -> None: ...


class DatabaseGuesses:
    def count(
        self, guess: str, key: str, now: datetime, expires_at: datetime
    ) -> tuple[int, datetime]:
        # Committed before counting: of two concurrent guesses, the later count sees both.
        with db.engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.expires_at <= now))
            connection.execute(
                insert(LoginFailure).values(guess=guess, key=key, expires_at=expires_at)
            )
        with db.engine.connect() as connection:
            counted, first_expiry = connection.execute(
                select(func.count(), func.min(LoginFailure.expires_at)).where(
                    LoginFailure.key == key, LoginFailure.expires_at > now
                )
            ).one()
        return counted, first_expiry

    def forget(self, guess: str, keys: Sequence[str]) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.guess == guess))


class RedisGuesses:
    """A sorted set per key: guesses scored by when they stop counting.

    When Redis cannot be reached, guesses are counted in the database instead (as
    without REDIS_URL): the limits hold in every process through an outage, and logins
    go on. What Redis had counted is not seen meanwhile, so an outage gives a guesser
    at most one fresh window's allowance. (Failing open would lift the limits whenever
    Redis is down; failing closed would stop every login.) A guess is forgotten in both
    places, as Redis may fail, or come back, between its count and its forgetting: a
    DELETE that finds nothing costs a round trip, next to the password hash's tens of ms.
    """

    def __init__(self, client: "redis.Redis", prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = DatabaseGuesses()

    def count(
        self, guess: str, key: str, now: datetime, expires_at: datetime
    ) -> tuple[int, datetime]:
        name = self.prefix + key
        pipeline = self.client.pipeline()  # MULTI ... EXEC: one atomic step
        pipeline.zremrangebyscore(name, "-inf", now.timestamp())
        pipeline.zadd(name, {guess: expires_at.timestamp()})
        pipeline.expire(name, expires_at - now + REDIS_KEY_SLACK)
        pipeline.zrange(name, 0, 0, withscores=True)
        pipeline.zcard(name)
        try:
            *_, first, counted = pipeline.execute()
        except REDIS_UNAVAILABLE as error:
            log.warning("redis_unavailable", store="guesses", error=str(error))
            return self.fallback.count(guess, key, now, expires_at)
        return counted, datetime.fromtimestamp(first[0][1], UTC)

    def forget(self, guess: str, keys: Sequence[str]) -> None:
        pipeline = self.client.pipeline()
        for key in keys:
            pipeline.zrem(self.prefix + key, guess)
        try:
            pipeline.execute()
        except REDIS_UNAVAILABLE as error:
            # Left counted: a right password costs one guess of the window, no more.
            log.warning("redis_unavailable", store="guesses", error=str(error))
        self.fallback.forget(guess, keys)


@dataclass(frozen=True)
class Throttle:
    store: GuessStore
    # What a guess counts against, and how many wrong guesses each may have per window.
    allowed: dict[str, limits.RateLimitItem]


@dataclass
class Guess:
    """One password check in progress; it counts as wrong unless forgotten."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    keys: list[str] = field(default_factory=list)

    def forget(self) -> None:
        """The password was right (or never checked): this guess does not count."""
        _throttle().store.forget(self.id, self.keys)


def start_guess(account: str) -> Guess:
    """Count a guess at `account`'s password from this request's address, or stop the
    request with 429 when either has had too many wrong guesses lately. Call
    `.forget()` on the result when the password proves right."""
    throttle = _throttle()
    now = utcnow()
    guess = Guess()
    waits = []
    for kind, value in (("account", account), ("address", request.remote_addr)):
        limit = throttle.allowed[kind]
        key = f"{kind}:{value}"
        expires_at = now + timedelta(seconds=limit.get_expiry())
        counted, first_expiry = throttle.store.count(guess.id, key, now, expires_at)
        guess.keys.append(key)
        if counted > limit.amount:
            waits.append(first_expiry - now)
    if waits:
        guess.forget()  # refused before checking: no guess was made
        retry_after = max(1, math.ceil(max(waits).total_seconds()))
        fail(
            429,
            "rate_limited",
            "Too many wrong passwords; try again later.",
            headers={"Retry-After": str(retry_after)},
        )
    return guess


def init_throttle(app: Flask) -> None:
    """Read the limits once, so a malformed one stops the start, not a login."""
    url = app.config["REDIS_URL"]
    store: GuessStore = (
        RedisGuesses(redis_client(url), app.config["REDIS_KEY_PREFIX"] + "guesses:")
        if url
        else DatabaseGuesses()
    )
    app.extensions["cms_throttle"] = Throttle(
        store,
        {
            "account": limits.parse(app.config["LOGIN_LIMIT_PER_ACCOUNT"]),
            "address": limits.parse(app.config["LOGIN_LIMIT_PER_ADDRESS"]),
        },
    )


def _throttle() -> Throttle:
    throttle: Throttle = current_app.extensions["cms_throttle"]
    return throttle
