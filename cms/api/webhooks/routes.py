"""Webhooks (admins only): subscriptions, their delivery log, replays, a test ping and
secret rotation. Deliveries are sent by workers, never by a request."""

from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from flask import url_for
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms.api.common import envelope, page_envelope, paginate_scalars
from cms.api.crud import Resource, register_crud
from cms.api.framework import Blueprint
from cms.api.webhooks.schemas import (
    DeliveryListArgs,
    ReplayArgs,
    ReplayResultSchema,
    WebhookDeliverySchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)
from cms.caching import validators
from cms.extensions import db
from cms.models import DeliveryStatus, Role, Webhook, WebhookDelivery, utcnow
from cms.problems import fail
from cms.services.webhook_delivery import WebhooksNotConfiguredError, queue_delivery
from cms.services.webhooks import change_webhook, create_webhook, ping, replay, rotate_secret

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Signed event deliveries to other systems, per Standard Webhooks (admin)",
)
T = TypeVar("T")
log = structlog.get_logger(__name__)

register_crud(
    blp,
    Resource(
        Webhook,
        WebhookSchema,
        "webhook",
        "webhooks",
        slug_from=None,
        creatable=False,
        apply=change_webhook,
        errors_on_write=(),
        create_role=Role.ADMIN,
        change_role=Role.ADMIN,
        read_role=Role.ADMIN,
        on_change=None,
    ),
)


def _webhook_or_404(item_id: int) -> Webhook:
    webhook = db.session.get(Webhook, item_id)
    if webhook is None:
        fail(404, detail=f"No webhook with id {item_id}.")
    return webhook


def _with_secret(make: Callable[[], T]) -> T:
    """A 503 without WEBHOOK_ENCRYPTION_KEY: the reason is for the operator's log (a
    5xx tells clients nothing of the internals)."""
    try:
        return make()
    except WebhooksNotConfiguredError as error:
        log.error("webhooks_not_configured", reason=str(error))
        fail(503)


def _answer(webhook: Webhook, secret: str) -> dict[str, Any]:
    db.session.flush()
    db.session.refresh(webhook)  # the version and timestamps as stored
    shown = {name: getattr(webhook, name) for name in WebhookSchema().dump_fields}
    return {**shown, "secret": secret}


@blp.route("")
class WebhookCreation(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(WebhookSchema)
    @blp.response(201, WebhookWithSecretSchema)
    @blp.errors(503)
    @blp.doc(operationId="createWebhook")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create a webhook; the answer is the only place its secret appears

        The URL must be a public address (as for feeds: FETCH_ALLOW admits private
        ones), checked again before every delivery attempt.
        """
        webhook, secret = _with_secret(lambda: create_webhook(db.session, data))
        location = url_for("webhooks.WebhookById", item_id=webhook.id)
        return _answer(webhook, secret), 201, {"Location": location, **validators(webhook)}


@blp.route("/<int:item_id>/rotate-secret")
class WebhookSecretRotation(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(200, WebhookWithSecretSchema)
    @blp.errors(404, 503)
    @blp.doc(operationId="rotateWebhookSecret")
    def post(self, item_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Give a webhook a new secret (shown once); the old one keeps signing beside it
        for WEBHOOK_SECRET_OVERLAP_SECONDS (a day), so the receiver can switch"""
        webhook = _webhook_or_404(item_id)
        secret = _with_secret(lambda: rotate_secret(webhook))
        return _answer(webhook, secret), 200, validators(webhook)


@blp.route("/<int:item_id>/ping")
class WebhookPing(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(202, WebhookDeliverySchema)
    @blp.errors(404)
    @blp.doc(operationId="pingWebhook")
    def post(self, item_id: int) -> WebhookDelivery:
        """Send a `webhook.ping` event (queued; also to a disabled webhook); its outcome
        is in the delivery log"""
        return ping(db.session, _webhook_or_404(item_id))


@blp.route("/<int:item_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, envelope(WebhookDeliverySchema))
    @blp.errors(404)
    @blp.doc(operationId="listWebhookDeliveries")
    def get(self, args: dict[str, Any], item_id: int) -> dict[str, Any]:
        """The delivery log of a webhook, newest first, each with its attempts"""
        webhook = _webhook_or_404(item_id)
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .options(selectinload(WebhookDelivery.log))
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        )
        if "status" in args:
            query = query.where(WebhookDelivery.status == args["status"])
        page, size = args["page"], args["page_size"]
        items, total = paginate_scalars(db.session, query, page=page, page_size=size)
        return page_envelope(items, page=page, page_size=size, total=total)


def _enabled(webhook: Webhook) -> Webhook:
    if not webhook.enabled:
        fail(409, "webhook_disabled", f"Webhook {webhook.id} is disabled: enable it first.")
    return webhook


@blp.route("/<int:item_id>/deliveries/<int:delivery_id>/replay")
class WebhookDeliveryReplay(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(202, WebhookDeliverySchema)
    @blp.errors(404, "webhook_disabled", "delivery_pending")
    @blp.doc(operationId="replayWebhookDelivery")
    def post(self, item_id: int, delivery_id: int) -> WebhookDelivery:
        """Send a delivery again (same body and webhook-id), with a new run of attempts"""
        webhook = _enabled(_webhook_or_404(item_id))
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.webhook_id != webhook.id:
            fail(404, detail=f"Webhook {item_id} has no delivery {delivery_id}.")
        if delivery.status is DeliveryStatus.PENDING:  # two runs would both send
            fail(409, "delivery_pending", "The delivery is still being attempted.")
        queue_delivery(db.session, delivery)
        return delivery


@blp.route("/<int:item_id>/replay")
class WebhookReplay(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(ReplayArgs)
    @blp.response(202, ReplayResultSchema)
    @blp.errors(404, "webhook_disabled")
    @blp.doc(operationId="replayWebhookDeliveries")
    def post(self, args: dict[str, Any], item_id: int) -> dict[str, int]:
        """Send again the finished deliveries created in [since, until): failed ones, or
        all with `only_failed: false` (at most 1000 a call, oldest first)"""
        webhook = _enabled(_webhook_or_404(item_id))
        until = args["until"] or utcnow()
        if until <= args["since"]:
            fail(422, detail="until must be after since.", errors={"until": ["Not after since."]})
        return {"replayed": replay(db.session, webhook, args["since"], until, args["only_failed"])}
