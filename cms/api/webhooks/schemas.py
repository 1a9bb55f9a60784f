import marshmallow as ma

from cms.api.common import AwareUTCDateTime, PageArgs, Timestamps, http_url, json_boolean, one_of
from cms.api.openapi import ResponseSchema
from cms.extensions import DB_INT_MAX
from cms.models import DeliveryStatus
from cms.services.webhooks import EVENT_TYPES

MAX_CATEGORIES = 100


class WebhookSchema(Timestamps):
    """A receiver of signed event deliveries (Standard Webhooks). Its secret is only
    ever in the answers of create and rotate-secret."""

    url = http_url(
        required=True,
        metadata={
            "example": "https://hooks.example.com/cms",
            "description": "Must be a public address (FETCH_ALLOW admits private ones)",
        },
    )
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    event_types = ma.fields.List(
        one_of(EVENT_TYPES, enum_name="WebhookEventType"),
        load_default=list,
        validate=ma.validate.Length(max=len(EVENT_TYPES)),
        metadata={"description": "The events to send (empty: all)"},
    )
    category_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=DB_INT_MAX)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_CATEGORIES),
        metadata={"description": "Article events only for articles in these (empty: any)"},
    )
    enabled = json_boolean(
        load_default=True,
        metadata={"description": "Enabling a disabled webhook starts its failure count anew"},
    )
    consecutive_failures = ma.fields.Integer(dump_only=True)
    disabled_reason = ma.fields.String(dump_only=True, allow_none=True)


class WebhookWithSecretSchema(WebhookSchema):
    secret = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "The signing secret (`whsec_` + base64): shown once, store it now",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )


class WebhookAttemptSchema(ResponseSchema):
    number = ma.fields.Integer(metadata={"description": "1 for the first, replays included"})
    attempted_at = ma.fields.AwareDateTime()
    duration_ms = ma.fields.Integer()
    succeeded = ma.fields.Boolean()
    status_code = ma.fields.Integer(allow_none=True)
    response_excerpt = ma.fields.String(
        allow_none=True, metadata={"description": "The first 1 KB of the answer"}
    )
    error = ma.fields.String(allow_none=True)


class WebhookDeliverySchema(ResponseSchema):
    """One event sent to one webhook, with its attempts."""

    id = ma.fields.Integer()
    webhook_id = ma.fields.Integer()
    event_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The content event (null: announced, ping)"}
    )
    message_id = ma.fields.String(metadata={"description": "Sent as the webhook-id header"})
    event_type = ma.fields.String()
    status = ma.fields.Enum(DeliveryStatus, by_value=True)
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    payload = ma.fields.String(metadata={"description": "The JSON body, as sent"})
    log = ma.fields.List(ma.fields.Nested(WebhookAttemptSchema))


class DeliveryListArgs(PageArgs):
    status = ma.fields.Enum(DeliveryStatus, by_value=True, metadata={"description": "Only these"})


class ReplayArgs(ma.Schema):
    since = AwareUTCDateTime(required=True)
    until = AwareUTCDateTime(
        load_default=None, allow_none=True, metadata={"description": "Default: now"}
    )
    only_failed = json_boolean(
        load_default=True, metadata={"description": "false: succeeded deliveries too"}
    )


class ReplayResultSchema(ResponseSchema):
    replayed = ma.fields.Integer(
        metadata={"description": "Deliveries queued again (at most 1000 a call, oldest first)"}
    )
