"""Sending webhook deliveries: signed to the Standard Webhooks specification, one HTTP
attempt per job run, retried with exponential backoff and jitter, and logged.

A failed attempt is not a failed job: the job records it and asks for the next one
itself, with delays taken from the configuration at that moment (the job decorator's
retries have a fixed delay, and would run the attempt's bookkeeping again). An attempt
holds no database transaction while the receiver answers, and never runs in a request.
"""

import base64
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from random import uniform
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import update
from standardwebhooks import Webhook as StandardWebhook

from cms.extensions import db
from cms.jobs import enqueue, job
from cms.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, utcnow
from cms.services import DbSession
from cms.services.fetching import FetchError, FetchPolicy, post
from cms.services.html import xml_text

PING = "webhook.ping"
EXCERPT_BYTES = 1024
USER_AGENT = "news-cms/0.1 (+webhooks)"


class WebhooksNotConfiguredError(RuntimeError):
    """No WEBHOOK_ENCRYPTION_KEY: secrets can be neither kept nor used."""


def _cipher() -> MultiFernet:
    keys = current_app.config["WEBHOOK_ENCRYPTION_KEYS"]
    if not keys:
        raise WebhooksNotConfiguredError("Set WEBHOOK_ENCRYPTION_KEY to use webhooks.")
    return MultiFernet([Fernet(key) for key in keys])


def new_secret() -> tuple[str, str]:
    """A fresh signing secret (`whsec_` + base64 of 32 random bytes) and its encryption."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secret, _cipher().encrypt(secret.encode()).decode()


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    cipher = _cipher()
    encrypted = [webhook.secret_encrypted]
    until = webhook.previous_secret_until
    if webhook.previous_secret_encrypted and until is not None and now < until:
        encrypted.append(webhook.previous_secret_encrypted)
    try:
        return [cipher.decrypt(token.encode()).decode() for token in encrypted]
    except InvalidToken:
        message = "WEBHOOK_ENCRYPTION_KEY does not open this secret."
        raise WebhooksNotConfiguredError(message) from None


def signature_headers(
    message_id: str, payload: str, signing: list[str], now: datetime
) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (one `v1,...` per secret,
    space-separated: a receiver holding either secret verifies the delivery)."""
    signatures = [StandardWebhook(secret).sign(message_id, now, payload) for secret in signing]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def queue_delivery(session: DbSession, delivery: WebhookDelivery) -> None:
    """Start a run of attempts (a new delivery, or a replay), sent after the commit."""
    delivery.status = DeliveryStatus.PENDING
    delivery.tries = 0
    delivery.next_attempt_at = utcnow()
    session.flush()
    enqueue(session, deliver, delivery.id, 1)


def retry_delay(config: dict[str, Any], tries: int) -> float:
    """Seconds before the attempt after `tries` failed ones: doubling from
    WEBHOOK_RETRY_SECONDS up to WEBHOOK_RETRY_MAX_SECONDS, plus up to half again at
    random, so receivers coming back are not hit by every sender at once (and each
    delay still exceeds the one before it)."""
    base = config["WEBHOOK_RETRY_SECONDS"] * 2 ** (tries - 1)
    return float(min(base, config["WEBHOOK_RETRY_MAX_SECONDS"]) * uniform(1, 1.5))  # noqa: S311 - jitter


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    excerpt: str | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@job("webhooks.deliver")
def deliver(delivery_id: int, attempt: int) -> dict[str, Any] | None:
    """Attempt `attempt` of the current run of a delivery."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or not _current(delivery, attempt):
        return None  # done, or replaced by a replay: a stale push
    webhook = db.session.get_one(Webhook, delivery.webhook_id)
    if not webhook.enabled and delivery.event_type != PING:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        db.session.commit()
        return {"status": "webhook_disabled"}
    now = utcnow()
    url, body = webhook.url, delivery.payload.encode()
    try:
        headers = signature_headers(
            delivery.message_id, delivery.payload, signing_secrets(webhook, now), now
        )
    except WebhooksNotConfiguredError as error:
        outcome = Outcome(None, None, str(error), 0)
    else:
        db.session.rollback()  # no transaction is held while the receiver answers
        outcome = _attempt(url, body, headers)
    _record(delivery_id, attempt, now, outcome)
    return {"status_code": outcome.status_code, "error": outcome.error}


def _current(delivery: WebhookDelivery, attempt: int) -> bool:
    return delivery.status is DeliveryStatus.PENDING and delivery.tries == attempt - 1


def _attempt(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    config = current_app.config
    policy = replace(
        FetchPolicy.from_config(config), timeout=config["WEBHOOK_TIMEOUT"], user_agent=USER_AGENT
    )
    started = time.monotonic()
    try:
        answer = post(url, policy, body=body, headers=headers, excerpt_bytes=EXCERPT_BYTES)
    except FetchError as refused:
        return Outcome(None, None, xml_text(refused.message[:500]), _ms_since(started))
    # Shown to admins, stored in a text column: no NUL (PostgreSQL refuses it, and the
    # attempt would go unlogged and uncounted) and no other control characters.
    excerpt = xml_text(answer.body.decode("utf-8", "replace"))
    error = None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    return Outcome(answer.status, excerpt, error, _ms_since(started))


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(delivery_id: int, attempt: int, at: datetime, outcome: Outcome) -> None:
    """Log the attempt; then success, the next attempt, or failure for good."""
    config = current_app.config
    delivery = db.session.get_one(WebhookDelivery, delivery_id)
    if not _current(delivery, attempt):  # a replay began meanwhile: it has its own log
        return
    webhook = db.session.get_one(Webhook, delivery.webhook_id)
    delivery.attempts += 1
    delivery.tries = attempt
    delivery.log.append(
        WebhookAttempt(
            number=delivery.attempts,
            attempted_at=at,
            duration_ms=outcome.duration_ms,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    if outcome.succeeded:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
        _count_failures(webhook.id, reset=True)
        db.session.commit()
        return
    failures = _count_failures(webhook.id)
    if outcome.status_code == 410:
        _disable(webhook, "The receiver answered 410 Gone.")
    elif failures >= config["WEBHOOK_DISABLE_AFTER"]:
        _disable(webhook, f"{failures} failed attempts in a row.")
    if not webhook.enabled or attempt >= config["WEBHOOK_ATTEMPTS"]:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=retry_delay(config, attempt))
        enqueue(db.session, deliver, delivery.id, attempt + 1, eta=delivery.next_attempt_at)
    db.session.commit()


def _count_failures(webhook_id: int, *, reset: bool = False) -> int:
    """One more failure in a row (or none, after a success), counted in one statement:
    attempts of several deliveries to one webhook run at once, and a versioned write
    would make all but one of them fail (and send again) on a stale version."""
    counter = Webhook.consecutive_failures
    statement = (
        update(Webhook)
        .where(Webhook.id == webhook_id)
        .values(consecutive_failures=0 if reset else counter + 1)
        .returning(counter)
        .execution_options(synchronize_session=False)
    )
    return int(db.session.execute(statement).scalar_one())


def _disable(webhook: Webhook, reason: str) -> None:
    if webhook.enabled:
        webhook.enabled, webhook.disabled_reason = False, reason
