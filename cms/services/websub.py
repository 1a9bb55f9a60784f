"""WebSub (W3C, formerly PubSubHubbub) as a subscriber: a feed whose document (or Link
header) names a hub and its own URL (rel=self) is subscribed to; the hub checks that we
asked (a GET with a challenge on our callback), then pushes new content, signed with
the secret we gave it (X-Hub-Signature: HMAC of the body).

The callback is public, so it is where someone would try to inject articles: it takes
a push only for a verified, unexpired subscription, only with a valid signature
(compared in constant time), and only up to WEBSUB_MAX_BYTES. Requests to hubs go
through fetching's SSRF rules like every other outgoing request.
"""

import hashlib
import hmac
import html
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode, urljoin, urlsplit

from cms.models import Feed, SubscriptionState, WebSubSubscription
from cms.services import DbSession
from cms.services.fetching import FetchError, FetchPolicy, post

# Signatures hubs send: sha1 is what WebSub's first version used and still common.
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
            "sha512": hashlib.sha512}  # fmt: skip
_LINK_TAG = re.compile(rb"<(?:[\w-]+:)?link\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FIRST_ITEM = re.compile(rb"<(?:[\w-]+:)?(?:item|entry)[\s/>]")
_LINK_HEADER = re.compile(r"<([^>]*)>\s*((?:;\s*[\w*-]+\s*=\s*(?:\"[^\"]*\"|[^;,]*))*)")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))""", re.IGNORECASE)
MAX_CHALLENGE = 255
MAX_LEASE = timedelta(days=30)


def discover(headers: Mapping[str, str], body: bytes, base_url: str) -> tuple[str, str] | None:
    """(hub URL, topic URL) a fetched feed advertises: Link headers first (as WebSub
    says), else the feed's own <link rel="hub"> / <link rel="self"> (before its first
    item: links inside items are the items')."""
    found = _from_link_header(headers.get("link", "")) or {}
    if not {"hub", "self"} <= found.keys():
        head = body[: m.start()] if (m := _FIRST_ITEM.search(body)) else body
        found = {**_from_document(head), **found}
    hub, topic = (urljoin(base_url, found.get(rel, "")) for rel in ("hub", "self"))
    if "hub" not in found or "self" not in found:
        return None
    if any(
        urlsplit(url).scheme not in ("http", "https") or len(url) > 2048 for url in (hub, topic)
    ):
        return None
    return hub, topic


def _from_link_header(value: str) -> dict[str, str]:
    links: dict[str, str] = {}
    for target, params in _LINK_HEADER.findall(value):
        for rel in _rels(params):
            links.setdefault(rel, target.strip())
    return links


def _from_document(head: bytes) -> dict[str, str]:
    links: dict[str, str] = {}
    for tag in _LINK_TAG.findall(head):
        attributes = {
            name.decode("ascii", "replace").lower(): (double or single).decode("utf-8", "replace")
            for name, double, single in _ATTRIBUTE.findall(tag)
        }
        if "href" in attributes:
            for rel in attributes.get("rel", "").lower().split():
                links.setdefault(rel, html.unescape(attributes["href"]).strip())
    return links


def _rels(params: str) -> list[str]:
    match = _REL.search(params)
    return (match.group(1) or match.group(2)).lower().split() if match else []


def note_hub(session: DbSession, feed: Feed, hub: str, topic: str) -> None:
    """Record the hub a fetch of `feed` found: a new subscription to request (by the
    websub.subscribe task), or, when the hub or topic changed, one to request again."""
    subscription = session.get(WebSubSubscription, feed.id)
    if subscription is None:
        session.add(
            WebSubSubscription(
                feed_id=feed.id,
                hub_url=hub,
                topic_url=topic,
                secret=secrets.token_urlsafe(32),
                state=SubscriptionState.NEW,
            )
        )
    elif (subscription.hub_url, subscription.topic_url) != (hub, topic):
        subscription.hub_url, subscription.topic_url = hub, topic
        subscription.state = SubscriptionState.NEW
        subscription.expires_at = None


def request_subscription(
    subscription: WebSubSubscription, callback: str, lease: timedelta, policy: FetchPolicy
) -> None:
    """POST the subscription request to the hub (FetchError when it is refused or
    cannot be sent). The hub may check our intent before it answers: the caller has
    committed the subscription as REQUESTED first."""
    form = {
        "hub.mode": "subscribe",
        "hub.topic": subscription.topic_url,
        "hub.callback": callback,
        "hub.lease_seconds": str(int(lease.total_seconds())),
        "hub.secret": subscription.secret,
    }
    answer = post(
        subscription.hub_url,
        policy,
        body=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if not 200 <= answer.status < 300:
        raise FetchError("http_status", f"The hub answered HTTP {answer.status}.", answer.status)


def confirm_intent(
    subscription: WebSubSubscription | None,
    mode: str,
    topic: str,
    lease_seconds: int | None,
    now: datetime,
    window: timedelta,
) -> bool:
    """A hub's GET to the callback: True (echo the challenge) only when we asked for
    this: a subscription to this topic requested within `window`. A denial is
    recorded (and acknowledged: True)."""
    if subscription is None or topic != subscription.topic_url:
        return False
    if mode == "denied":
        subscription.state = SubscriptionState.DENIED
        subscription.expires_at = None
        return True
    asked = subscription.requested_at is not None and subscription.requested_at + window >= now
    if mode != "subscribe" or not asked or subscription.state is SubscriptionState.DENIED:
        return False
    lease = timedelta(seconds=lease_seconds) if lease_seconds else window
    subscription.state = SubscriptionState.VERIFIED
    subscription.verified_at = now
    subscription.expires_at = now + min(lease, MAX_LEASE)
    subscription.last_error = None
    return True


def accepts_push(subscription: WebSubSubscription | None, now: datetime) -> bool:
    return (
        subscription is not None
        and subscription.state is SubscriptionState.VERIFIED
        and subscription.expires_at is not None
        and subscription.expires_at > now
    )


def signed_by(secret: str, body: bytes, header: str | None) -> bool:
    """Whether X-Hub-Signature ("sha256=<hex>", or sha1/sha384/sha512) is the body's
    HMAC with `secret`, compared in constant time."""
    method, _, signature = (header or "").strip().partition("=")
    digest = _DIGESTS.get(method.lower())
    if digest is None or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())
