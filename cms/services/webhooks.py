"""Webhook subscriptions, and the events they are sent: content events from the outbox
(a consumer), and events other code announces (`announce`, e.g. "cache.purge")."""

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from flask import current_app
from sqlalchemy import select

from cms.extensions import db
from cms.models import (
    Article,
    Category,
    ContentEvent,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from cms.models.outbox import ARTICLE_ACTIONS, CONTENT_RESOURCES
from cms.services import DbSession
from cms.services.dispatch import consumer
from cms.services.errors import InvalidContentError
from cms.services.fetching import FetchError, FetchPolicy, check_target
from cms.services.references import resolve_many
from cms.services.webhook_delivery import PING, new_secret, queue_delivery

# The collection path of each content resource, for the link a payload carries.
PATHS = {
    "article": "articles",
    "author": "authors",
    "tag": "tags",
    "category": "categories",
    "publication": "publications",
    "image": "images",
    "page": "pages",
    "feed": "feeds",
}
assert set(PATHS) == set(CONTENT_RESOURCES.values())
_PLAIN = ("created", "updated", "deleted")
ANNOUNCED = ("cache.purge",)
# The outbox names an article's lifecycle steps itself (article.published, ...).
EVENT_TYPES = (
    *(f"{resource}.{action}" for resource in PATHS for action in ("created", "updated", "deleted")),
    *(f"article.{action}" for action in ARTICLE_ACTIONS if action not in _PLAIN),
    *ANNOUNCED,
    PING,
)
MAX_REPLAY = 1000  # deliveries one replay call queues (oldest first)


def check_url(url: str) -> None:
    """A target must pass the fetch rules (FETCH_ALLOW admits private addresses); every
    attempt checks again, since a name can resolve elsewhere later. A name that does not
    resolve yet is let through: it may be set up after the webhook."""
    try:
        check_target(url, FetchPolicy.from_config(current_app.config))
    except FetchError as error:
        if error.code != "dns_failed":
            raise InvalidContentError({"url": [error.message]}) from None


def _check_categories(session: DbSession, ids: list[int]) -> None:
    errors: dict[str, list[str]] = {}
    resolve_many(session, Category, ids, "category_ids", errors)
    if errors:
        raise InvalidContentError(errors)


def create_webhook(session: DbSession, data: dict[str, Any]) -> tuple[Webhook, str]:
    """A new webhook and its secret (the only time the secret is seen)."""
    check_url(data["url"])
    _check_categories(session, data.get("category_ids", []))
    secret, encrypted = new_secret()
    webhook = Webhook(**data, secret_encrypted=encrypted, consecutive_failures=0)
    session.add(webhook)
    session.flush()
    return webhook, secret


def change_webhook(session: DbSession, webhook: Webhook, data: dict[str, Any]) -> None:
    if "url" in data:
        check_url(data["url"])
    if "category_ids" in data:
        _check_categories(session, data["category_ids"])
    if data.get("enabled") and not webhook.enabled:  # enabled again: a fresh count
        webhook.consecutive_failures, webhook.disabled_reason = 0, None
    for name, value in data.items():
        setattr(webhook, name, value)


def rotate_secret(webhook: Webhook) -> str:
    """A new secret; the current one keeps signing (beside it) for the overlap window,
    so receivers can switch without losing a delivery."""
    secret, encrypted = new_secret()
    overlap = timedelta(seconds=current_app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"])
    webhook.previous_secret_encrypted = webhook.secret_encrypted
    webhook.previous_secret_until = utcnow() + overlap
    webhook.secret_encrypted = encrypted
    return secret


def _message(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    stamp = at.isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": stamp, "data": data}, default=str)


def _queue(
    session: DbSession, webhook: Webhook, event_type: str, payload: str, event_id: int | None
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        event_id=event_id,
        message_id=f"msg_{uuid4().hex}",
        event_type=event_type,
        payload=payload,
        status=DeliveryStatus.PENDING,
        attempts=0,
        tries=0,
        created_at=utcnow(),
    )
    session.add(delivery)
    queue_delivery(session, delivery)
    return delivery


def _wants(webhook: Webhook, event_type: str, article: bool, category: int | None) -> bool:
    """Its event types (empty: all); its categories, for events of an article still
    there (one no longer there has no category to tell: its event is sent)."""
    if webhook.event_types and event_type not in webhook.event_types:
        return False
    if not webhook.category_ids or not article:
        return True
    return category in webhook.category_ids


def announce(session: DbSession, event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Send an event that is no content change (e.g. "cache.purge" with the keys to
    purge) to every enabled webhook that chose it by name, after the session commits.
    (A webhook taking all content events has not asked for these: one per write.)"""
    if event_type not in ANNOUNCED:
        raise ValueError(f"{event_type!r} is not one of {ANNOUNCED}")
    payload = _message(event_type, utcnow(), data)
    webhooks = session.scalars(select(Webhook).where(Webhook.enabled).order_by(Webhook.id))
    return [
        _queue(session, webhook, event_type, payload, None)
        for webhook in webhooks
        if event_type in (webhook.event_types or ())
    ]


def ping(session: DbSession, webhook: Webhook) -> WebhookDelivery:
    """A test delivery, sent even to a disabled webhook (to check it before enabling)."""
    payload = _message(PING, utcnow(), {"webhook_id": webhook.id})
    return _queue(session, webhook, PING, payload, None)


def replay(
    session: DbSession, webhook: Webhook, since: datetime, until: datetime, only_failed: bool
) -> int:
    """Send again the finished deliveries created in [since, until): the same body and
    webhook-id (receivers deduplicate on it), a new run of attempts."""
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == webhook.id,
            WebhookDelivery.created_at >= since,
            WebhookDelivery.created_at < until,
            WebhookDelivery.status != DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        .limit(MAX_REPLAY)
    )
    if only_failed:
        query = query.where(WebhookDelivery.status == DeliveryStatus.FAILED)
    deliveries = session.scalars(query).all()
    for delivery in deliveries:
        queue_delivery(session, delivery)
    return len(deliveries)


def _categories(events: Sequence[ContentEvent]) -> dict[int, int | None]:
    """The current category of each article these events are about (those still there)."""
    ids = {e.resource_id for e in events if e.resource == "article"}
    if not ids:
        return {}
    query = select(Article.id, Article.category_id).where(Article.id.in_(ids))
    return {row.id: row.category_id for row in db.session.execute(query)}


@consumer("webhooks")
def deliver_events(events: Sequence[ContentEvent]) -> None:
    """A delivery per (webhook, content event), made once however often the outbox
    hands the event over (a unique pair; the ones already made are skipped)."""
    content = [e for e in events if e.resource in PATHS]
    webhooks = db.session.scalars(select(Webhook).where(Webhook.enabled)).all()
    if not content or not webhooks:
        return
    made = {
        (row.webhook_id, row.event_id)
        for row in db.session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.event_id).where(
                WebhookDelivery.event_id.in_([e.id for e in content])
            )
        )
    }
    categories = _categories(content)
    base = current_app.config["PUBLIC_BASE_URL"]
    for event in content:
        event_type = event.type
        article = event.resource == "article" and event.resource_id in categories
        category = categories.get(event.resource_id) if article else None
        wanting = [
            w
            for w in webhooks
            if (w.id, event.id) not in made and _wants(w, event_type, article, category)
        ]
        if not wanting:
            continue
        data = {
            "resource": event.resource,
            "id": event.resource_id,
            "version": event.version,
            "changed": event.changed,
            "actor": event.actor,
            "url": None
            if event.type.endswith(".deleted")
            else f"{base}/api/v1/{PATHS[event.resource]}/{event.resource_id}",
        }
        payload = _message(event_type, event.occurred_at, data)
        for webhook in wanting:
            _queue(db.session, webhook, event_type, payload, event.id)
