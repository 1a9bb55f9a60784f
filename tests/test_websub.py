"""WebSub end to end: a feed naming a hub (tests/websub_hub.py, on loopback) is
subscribed to; the hub verifies against the app served on a real loopback port; its
signed pushes are in the API at once, with no poll; anything else stores nothing."""

import hmac
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from cms.extensions import db
from cms.jobs import run_queued
from cms.models import Article, Feed, Job, SubscriptionState, WebSubSubscription, utcnow
from cms.services.polling import poll_feeds
from cms.services.websub import discover, signed_by
from cms.services.websub_jobs import subscribe_and_renew
from tests.conftest import run_jobs
from tests.feed_server import FeedServer
from tests.websub_hub import Hub

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Pushed News</title><id>urn:pushed</id>
<link rel="hub" href="{hub}"/><link rel="self" href="{topic}"/>
<updated>2026-12-01T10:00:00Z</updated>{entries}</feed>"""


def entry(n: int) -> str:
    return (
        f"<entry><title>Pushed {n}</title><id>urn:pushed:{n}</id>"
        f'<link rel="alternate" href="https://pushed.example.com/{n}"/>'
        f"<updated>2026-12-01T10:00:00Z</updated><summary>Item {n}.</summary></entry>"
    )


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app on a loopback port (hubs call it), as PUBLIC_BASE_URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.port}"
    yield app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = ""
    server.shutdown()


@pytest.fixture
def hub(app: Flask, server: FeedServer) -> Iterator[Hub]:
    """A hub the app may reach (allow-listed next to the feed server)."""
    hub = Hub()
    app.config["FETCH_ALLOW"] = [f"127.0.0.1:{server.port}", f"127.0.0.1:{hub.port}"]
    yield hub
    hub.close()


@pytest.fixture
def subscribed(live: str, hub: Hub, server: FeedServer) -> Callable[[], tuple[int, str]]:
    """A feed naming the hub, polled once and subscribed: (its id, its topic)."""

    def make() -> tuple[int, str]:
        topic = server.url("/atom")
        server.serve("/atom", ATOM.format(hub=hub.url, topic=topic, entries=entry(1)))
        feed = Feed(url=topic)
        db.session.add(feed)
        db.session.commit()
        poll_feeds()
        subscribe_and_renew()
        return feed.id, topic

    return make


def titles() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(db.select(Article.title)))


def test_a_pushed_item_is_in_the_api_on_the_workers_next_turn(
    client: FlaskClient, hub: Hub, subscribed: Callable[[], tuple[int, str]]
) -> None:
    """The push queues its ingest due at once: a worker picks it up on its next turn
    (within JOB_POLL_SECONDS on a SQLite queue, at once on Redis), not at the feed's next
    poll. Asserted with the queue's clock, not the wall's: the run takes only what is
    due by the moment the push was answered."""
    feed_id, topic = subscribed()
    assert hub.subscriptions[topic].verified
    assert hub.requests[0]["hub.callback"].endswith(f"/api/v1/websub/{feed_id}")
    subscription = db.session.get(WebSubSubscription, feed_id)
    assert subscription is not None
    assert subscription.state is SubscriptionState.VERIFIED

    pushed = ATOM.format(hub=hub.url, topic=topic, entries=entry(2) + entry(1)).encode()
    assert hub.publish(topic, pushed) == 202
    run_jobs(until=utcnow())  # the worker, now: no poll, and nothing due later runs

    assert titles() == ["Pushed 1", "Pushed 2"]
    assert hub.publish(topic, pushed, signature="sha1") == 202  # the older signature too
    run_jobs()
    assert titles() == ["Pushed 1", "Pushed 2"]  # and nothing twice


@pytest.mark.parametrize("signature", [None, "forged"])
def test_an_unsigned_or_forged_push_stores_nothing(
    hub: Hub,
    subscribed: Callable[[], tuple[int, str]],
    row_counts: Callable[[], dict[str, int]],
    signature: str | None,
) -> None:
    _, topic = subscribed()
    before = row_counts()

    status = hub.publish(
        topic, ATOM.format(hub=hub.url, topic=topic, entries=entry(9)).encode(), signature=signature
    )

    assert status == 403
    assert run_queued() == 0
    assert row_counts() == before


def test_pushes_need_a_verified_unexpired_subscription(
    client: FlaskClient, hub: Hub, subscribed: Callable[[], tuple[int, str]]
) -> None:
    _feed_id, topic = subscribed()
    pushed = ATOM.format(hub=hub.url, topic=topic, entries=entry(3)).encode()
    assert client.post("/api/v1/websub/999999", data=pushed).status_code == 404
    with time_machine.travel(utcnow() + timedelta(days=11)):  # the 10-day lease is over
        assert hub.publish(topic, pushed) == 404
        run_jobs()
    assert titles() == ["Pushed 1"]
    assert db.session.scalars(db.select(Job).where(Job.name == "websub.ingest")).all() == []


def test_verification_answers_only_what_was_asked(
    client: FlaskClient, subscribed: Callable[[], tuple[int, str]]
) -> None:
    feed_id, topic = subscribed()
    url = f"/api/v1/websub/{feed_id}"
    asked = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "abc"}
    assert client.get(url, query_string={**asked, "hub.topic": "https://other/"}).status_code == 404
    assert client.get(url, query_string={**asked, "hub.mode": "unsubscribe"}).status_code == 404
    assert client.get("/api/v1/websub/999999", query_string=asked).status_code == 404
    incomplete = client.get(url, query_string={"hub.mode": "subscribe", "hub.topic": topic})
    assert incomplete.status_code == 404  # no challenge: not a verification we asked for
    with time_machine.travel(utcnow() + timedelta(hours=2)):  # long after our request
        assert client.get(url, query_string=asked).status_code == 404
    confirmed = client.get(url, query_string=asked)  # a hub verifying again, in time
    assert (confirmed.status_code, confirmed.text) == (200, "abc")
    assert confirmed.headers["Cache-Control"] == "no-store"


def test_leases_are_renewed_before_they_lapse(
    hub: Hub, subscribed: Callable[[], tuple[int, str]]
) -> None:
    feed_id, _topic = subscribed()
    with time_machine.travel(utcnow() + timedelta(days=8)):
        subscribe_and_renew()
    assert len(hub.requests) == 1  # not yet
    with time_machine.travel(utcnow() + timedelta(days=9, hours=1)):
        subscribe_and_renew()
        assert len(hub.requests) == 2
        db.session.rollback()
        renewed = db.session.get(WebSubSubscription, feed_id)
        assert renewed is not None
        assert renewed.expires_at is not None
        assert renewed.expires_at > utcnow() + timedelta(days=9)


def test_a_hub_at_a_private_address_is_never_asked(
    app: Flask, live: str, server: FeedServer
) -> None:
    private = Hub()  # on loopback, but not allow-listed
    app.config["FETCH_ALLOW"] = [f"127.0.0.1:{server.port}"]
    try:
        topic = server.url("/atom")
        server.serve("/atom", ATOM.format(hub=private.url, topic=topic, entries=entry(1)))
        db.session.add(Feed(url=topic))
        db.session.commit()
        poll_feeds()
        subscribe_and_renew()
        assert private.requests == []
        [subscription] = db.session.scalars(db.select(WebSubSubscription))
        assert subscription.state is SubscriptionState.FAILED
        assert "private, loopback" in (subscription.last_error or "")
    finally:
        private.close()


def test_hubs_are_found_in_link_headers_and_feed_heads() -> None:
    body = ATOM.format(hub="/hub", topic="https://n.example/feed", entries="").encode()
    assert discover({}, body, "https://n.example/feed") == (
        "https://n.example/hub",
        "https://n.example/feed",
    )
    header = '<https://hub.example/>; rel="hub", <https://n.example/self>; rel=self'
    assert discover({"link": header}, b"", "https://n.example/") == (
        "https://hub.example/",
        "https://n.example/self",
    )
    in_item = b'<rss><channel><item><atom:link rel="hub" href="https://h/"/></item></channel></rss>'
    assert discover({}, in_item, "https://n.example/") is None
    assert (
        discover({}, body.replace(b'rel="self"', b'rel="alternate"'), "https://n.example/") is None
    )


def test_signatures_are_checked() -> None:
    digest = "sha256=" + hmac.new(b"s", b"body", "sha256").hexdigest()
    assert signed_by("s", b"body", digest)
    assert not signed_by("s", b"body!", digest)
    assert not signed_by("s", b"body", digest.replace("sha256", "md5"))
    assert not signed_by("s", b"body", None)
    assert not signed_by("s", b"body", "sha256=")
