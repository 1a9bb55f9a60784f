"""The purge hook (issue 15): the cache keys a change made stale reach the CDN's purge
URL (a job, through the SSRF rules) and `cache.purge` webhooks, within one dispatch."""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook as StandardWebhook

from cms.models import utcnow
from cms.services.dispatch import CONSUMERS, dispatch_events
from tests.conftest import edit, run_jobs
from tests.factories import ArticleFactory, TagFactory
from tests.webhook_receiver import Receiver


@pytest.fixture
def cdn(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A CDN's purge API on loopback, allow-listed as any private target must be."""
    receiver = Receiver(statuses=[200])
    for name, value in {
        "CACHE_PURGE_URL": receiver.url("/purge"),
        "CACHE_PURGE_TOKEN": "cdn-api-token",
        "FETCH_ALLOW": [f"127.0.0.1:{receiver.port}"],
    }.items():
        monkeypatch.setitem(app.config, name, value)
    yield receiver
    receiver.close()


def dispatched() -> None:
    """What the worker does after the commit: dispatch the outbox, run what it queued."""
    run_jobs(until=utcnow() + timedelta(seconds=2))
    dispatch_events()
    run_jobs()


def purged(cdn: Receiver) -> list[str]:
    return [key for request in cdn.requests for key in json.loads(request.body)["tags"]]


def test_renaming_a_tag_purges_its_keys_at_the_cdn(
    client: FlaskClient, admin: dict[str, str], cdn: Receiver
) -> None:
    tag = TagFactory(name="Open source")
    article = ArticleFactory(tags=[tag])
    shown = set(client.get(f"/api/v1/articles/{article.id}").headers["Surrogate-Key"].split())
    dispatched()
    cdn.requests.clear()

    edit(client, f"/api/v1/tags/{tag.id}", json={"name": "Open weights"}, headers=admin)
    assert cdn.requests == []  # nothing during the request: after the commit, in a job
    dispatched()

    keys = purged(cdn)
    assert {f"tag-{tag.id}", "list-tags"} <= set(keys)
    assert shown & set(keys)  # the article's page is among what goes
    request = cdn.requests[0]
    assert request.headers["Authorization"] == "Bearer cdn-api-token"
    assert request.headers["Content-Type"] == "application/json"


def test_keys_go_in_batches(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    cdn: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "CACHE_PURGE_BATCH", 2)
    # Only these articles' own events: placing them in stories would purge them again.
    monkeypatch.delitem(CONSUMERS, "stories")
    articles = ArticleFactory.create_batch(3)
    dispatched()
    assert [len(json.loads(r.body)["tags"]) for r in cdn.requests] == [2, 2]
    assert set(purged(cdn)) == {"list-articles", *(f"article-{a.id}" for a in articles)}


def test_a_private_purge_url_receives_nothing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = Receiver()
    try:
        monkeypatch.setitem(app.config, "CACHE_PURGE_URL", internal.url("/purge"))
        monkeypatch.setitem(app.config, "FETCH_ALLOW", [])
        ArticleFactory()
        dispatched()
        assert internal.requests == []
    finally:
        internal.close()


def test_cache_purge_webhooks_carry_the_keys(
    app: Flask, client: FlaskClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    try:
        monkeypatch.setitem(app.config, "FETCH_ALLOW", [f"127.0.0.1:{receiver.port}"])
        created = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url(), "event_types": ["cache.purge"]},
            headers=admin,
        )
        assert created.status_code == 201, created.json
        tag = TagFactory()
        dispatched()
        [request] = receiver.requests
        message = StandardWebhook(created.json["secret"]).verify(request.body, request.headers)
        assert message["type"] == "cache.purge"
        assert {f"tag-{tag.id}", "list-tags"} <= set(message["data"]["keys"])
    finally:
        receiver.close()
