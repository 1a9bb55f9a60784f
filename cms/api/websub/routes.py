"""The WebSub callback hubs call: a GET to verify that we asked for a subscription, and
POSTs carrying new content, signed. Public (hubs hold no token), and closed to anything
but a verified, unexpired subscription with a valid signature."""

from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView

from cms.api.common import QueryInteger, one_of
from cms.api.framework import Blueprint
from cms.auth.permissions import authenticates_itself
from cms.extensions import DB_INT_MAX, db
from cms.models import WebSubSubscription, utcnow
from cms.problems import fail
from cms.services.websub import MAX_CHALLENGE, accepts_push, confirm_intent, signed_by
from cms.services.websub_jobs import VERIFY_WINDOW, queue_push

blp = Blueprint(
    "websub",
    __name__,
    url_prefix="/api/v1/websub",
    description="WebSub callbacks (public: the hubs of subscribed feeds call them)",
)
NOT_SUBSCRIBED = "No verified, unexpired WebSub subscription of this feed."


class IntentArgs(ma.Schema):
    mode = one_of(
        ["subscribe", "unsubscribe", "denied"],
        enum_name="WebSubMode",
        data_key="hub.mode",
        load_default=None,
        metadata={"description": "Required"},
    )
    topic = ma.fields.String(
        data_key="hub.topic",
        load_default=None,
        validate=ma.validate.Length(max=2048),
        metadata={"description": "Required"},
    )
    challenge = ma.fields.String(
        data_key="hub.challenge",
        load_default=None,
        validate=ma.validate.Length(min=1, max=MAX_CHALLENGE),
        metadata={"description": "Echoed back when the subscription is confirmed"},
    )
    lease_seconds = QueryInteger(
        data_key="hub.lease_seconds",
        load_default=None,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
    )
    reason = ma.fields.String(
        data_key="hub.reason", load_default=None, validate=ma.validate.Length(max=500)
    )


@blp.route("/<int:feed_id>")
class WebSubCallback(MethodView):
    @blp.arguments(IntentArgs, location="query")
    @blp.response(
        200, schema={"type": "string"}, content_type="text/plain", description="The challenge"
    )
    @blp.errors(404)
    @blp.doc(operationId="verifyWebSubIntent", security=[])
    def get(self, args: dict[str, Any], feed_id: int) -> Response:
        """Verify a subscription (the hub's call)

        The hub checks that we asked to subscribe this feed (its rel=self URL as
        `hub.topic`): answered with `hub.challenge` only when a request for this topic
        was sent within the last hour; anything else is a 404. `hub.mode=denied`
        records the hub's refusal.
        """
        # A call without what a hub always sends is no verification we asked for: a
        # 404 like any other (the schema leaves them optional, so that a request wrong
        # in one parameter hears of that one alone: tests/test_unauthenticated_500s.py).
        needed = [args["mode"], args["topic"]]
        if args["mode"] == "subscribe":
            needed.append(args["challenge"])
        if not all(needed):
            fail(404, detail="Not a verification of a subscription we asked for.")
        subscription = db.session.get(WebSubSubscription, feed_id)
        confirmed = confirm_intent(
            subscription,
            args["mode"],
            args["topic"],
            args["lease_seconds"],
            now=utcnow(),
            window=VERIFY_WINDOW,
        )
        if not confirmed:
            fail(404, detail="No subscription to that topic is waiting for verification.")
        if subscription is not None and args["reason"]:
            subscription.last_error = f"The hub denied the subscription: {args['reason']}"
        db.session.commit()  # a GET: the framework commits writes only
        body = args["challenge"] if args["mode"] == "subscribe" else ""
        # Not for caches: the answer confirms one hub's request, once.
        return Response(
            body, content_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    @authenticates_itself  # the signature is the credential
    @blp.response(202, description="Accepted: the new items are stored by a job at once")
    @blp.errors(403, "bad_signature", 404, 413)
    @blp.doc(
        operationId="receiveWebSubPush",
        security=[],
        parameters=[
            {
                "in": "header",
                "name": "X-Hub-Signature",
                "required": True,
                "schema": {"type": "string", "example": "sha256=5d41402abc4b2a76b9719d911017c592"},
                "description": "HMAC of the body with the subscription's secret: "
                "sha256 (preferred), sha1, sha384 or sha512",
            }
        ],
        requestBody={
            "required": True,
            "description": "The topic's document (Atom or RSS, any XML media type)",
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        },
    )
    def post(self, feed_id: int) -> None:
        """Receive new content (the hub's push)

        The body is the feed document with the new items, signed with the secret this
        subscription gave the hub. Taken only for a verified, unexpired subscription
        (else 404), with a valid signature (else 403 bad_signature: nothing is stored),
        up to WEBSUB_MAX_BYTES (else 413); the items are in the API as soon as a worker
        has run the ingest job.
        """
        subscription = db.session.get(WebSubSubscription, feed_id)
        if not accepts_push(subscription, utcnow()):
            fail(404, detail=NOT_SUBSCRIBED)
        assert subscription is not None
        body = _capped_body(current_app.config["WEBSUB_MAX_BYTES"])
        if not signed_by(subscription.secret, body, request.headers.get("X-Hub-Signature")):
            fail(403, "bad_signature", "The push is not signed with this subscription's secret.")
        queue_push(feed_id, body, request.headers.get("Content-Type"))


def _capped_body(cap: int) -> bytes:
    if (request.content_length or 0) > cap:
        fail(413, detail=f"A push is at most {cap} bytes.")
    body = request.stream.read(cap + 1)
    if len(body) > cap:
        fail(413, detail=f"A push is at most {cap} bytes.")
    return body
