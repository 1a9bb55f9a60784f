"""Webhooks (issue 15): Standard Webhooks deliveries to real receivers on loopback,
verified by the official `standardwebhooks` package; retries with the clock moved, not
slept; SSRF rules on every attempt; rotation; filters; admin only."""

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from cms.config import ConfigurationError, webhook_keys
from cms.extensions import db
from cms.models import ContentEvent, Role, Webhook, WebhookDelivery, utcnow
from cms.services.dispatch import dispatch_events
from cms.services.webhooks import announce
from tests.conftest import edit, remove, run_jobs
from tests.factories import CategoryFactory
from tests.webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def _settings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WEBHOOK_ATTEMPTS": 3,
        "WEBHOOK_RETRY_SECONDS": 10,
        "WEBHOOK_DISABLE_AFTER": 10,
        "WEBHOOK_TIMEOUT": 2,
        "WEBHOOK_SECRET_OVERLAP_SECONDS": 600,  # within the admin's access token's life
        "FETCH_ALLOW": [],
    }.items():
        monkeypatch.setitem(app.config, name, value)


@pytest.fixture
def receiver(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver the app may post to: the same allow-list feed fetching uses."""
    receiver = Receiver()
    monkeypatch.setitem(app.config, "FETCH_ALLOW", [f"127.0.0.1:{receiver.port}"])
    yield receiver
    receiver.close()


@pytest.fixture
def internal() -> Iterator[Receiver]:
    """A service inside the network, never allow-listed."""
    receiver = Receiver()
    yield receiver
    receiver.close()


def subscribe(client: FlaskClient, admin: dict[str, str], url: str, **fields: Any) -> Any:
    created = client.post("/api/v1/webhooks", json={"url": url, **fields}, headers=admin)
    assert created.status_code == 201, created.json
    return created.json


def dispatched() -> None:
    """The outbox dispatch and the attempts it queues, as a worker runs them. (The
    periodic run, not only the nudge: one process nudges once a second at most.)"""
    run_jobs(until=utcnow() + timedelta(seconds=2))
    dispatch_events()
    run_jobs()


def log(client: FlaskClient, admin: dict[str, str], webhook_id: int) -> list[dict[str, Any]]:
    listed = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin)
    assert listed.status_code == 200, listed.json
    return list(listed.json["data"])


def verified(secret: str, request: Any) -> Any:
    return StandardWebhook(secret).verify(request.body, request.headers)


def next_attempt_due(app: Flask) -> datetime:
    with app.app_context():
        due = db.session.scalars(
            WebhookDelivery.__table__.select().with_only_columns(WebhookDelivery.next_attempt_at)
        ).first()
        db.session.rollback()
    assert due is not None
    return due


def test_deliveries_are_verified_by_the_standard_webhooks_package(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    assert hook["secret"].startswith("whsec_")
    article = client.post("/api/v1/articles", json={"title": "Hooked"}, headers=admin).json
    dispatched()
    url = f"/api/v1/articles/{article['id']}"
    assert edit(client, url, json={"excerpt": "New"}, headers=admin).status_code == 200
    dispatched()

    messages = [verified(hook["secret"], request) for request in receiver.requests]
    assert [m["type"] for m in messages] == ["article.created", "article.updated"]
    assert messages[1]["data"] == {
        "resource": "article",
        "id": article["id"],
        "version": 2,
        "changed": ["excerpt"],
        "actor": messages[1]["data"]["actor"],
        "url": url,
    }
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    entries = log(client, admin, hook["id"])
    assert [(e["status"], e["attempts"]) for e in entries] == [("succeeded", 1)] * 2
    assert entries[0]["log"][0]["status_code"] == 204
    tampered = receiver.requests[0]
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(hook["secret"]).verify(tampered.body + b" ", tampered.headers)


def test_an_articles_lifecycle_steps_have_their_own_event_types(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    article = client.post("/api/v1/articles", json={"title": "Steps"}, headers=admin).json
    url = f"/api/v1/articles/{article['id']}"
    dispatched()
    for step in (
        lambda: client.post(f"{url}/publish", headers=admin),
        lambda: client.post(f"{url}/archive", headers=admin),
        lambda: remove(client, url, headers=admin),
        lambda: client.post(f"{url}/restore", headers=admin),
    ):
        assert step().status_code in (200, 204)
        dispatched()
    types = [verified(hook["secret"], r)["type"] for r in receiver.requests]
    assert types == [
        "article.created",
        "article.published",
        "article.unpublished",
        "article.trashed",
        "article.restored",
    ]


def test_a_receiver_failing_twice_then_succeeding_logs_three_attempts_with_growing_delays(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 200]
    hook = subscribe(client, admin, receiver.url())
    assert client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin).status_code == 202
    run_jobs()
    for _ in range(2):  # the clock moves to each retry: nothing sleeps
        with time_machine.travel(next_attempt_due(app), tick=False):
            run_jobs()

    [delivery] = log(client, admin, hook["id"])
    attempts = delivery["log"]
    assert (delivery["status"], delivery["event_type"]) == ("succeeded", "webhook.ping")
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    at = [datetime.fromisoformat(a["attempted_at"]) for a in attempts]
    first_delay, second_delay = at[1] - at[0], at[2] - at[1]
    assert timedelta(seconds=10) <= first_delay < second_delay <= timedelta(seconds=30)
    assert attempts[0]["error"] == "HTTP 500"
    assert attempts[0]["response_excerpt"] == "ok"
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message


def test_a_hanging_receiver_does_not_slow_an_editors_patch(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url())
    article = client.post("/api/v1/articles", json={"title": "Slow"}, headers=admin).json
    dispatched()
    receiver.hang = threading.Event()  # from now on, it never answers
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    url = f"/api/v1/articles/{article['id']}"
    before = len(receiver.requests)

    assert edit(client, url, json={"title": "Slower"}, headers=admin).status_code == 200
    assert len(receiver.requests) == before  # the request sent nothing: a worker does
    dispatched()  # the worker's attempt gives up at its deadline
    assert len(receiver.requests) == before + 1
    with app.app_context():
        [failed] = db.session.query(WebhookDelivery).filter_by(event_type="article.updated")
        assert "in time" in failed.log[0].error


def test_a_redirect_to_a_private_address_is_refused_and_never_reached(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver, internal: Receiver
) -> None:
    receiver.statuses, receiver.location = [307], internal.url()
    hook = subscribe(client, admin, receiver.url())
    client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin)
    run_jobs()
    [attempt] = log(client, admin, hook["id"])[0]["log"]
    assert (attempt["status_code"], attempt["succeeded"]) == (307, False)
    assert internal.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1:{internal}", "169.254.169.254", "[::1]", "10.0.0.8"])
def test_private_targets_are_refused_at_creation(
    client: FlaskClient, admin: dict[str, str], internal: Receiver, host: str
) -> None:
    url = f"http://{host.format(internal=internal.port)}/hook"
    refused = client.post("/api/v1/webhooks", json={"url": url}, headers=admin)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert refused.json["errors"]["url"]  # [::1] is not even taken as a URL by the pattern
    assert internal.requests == []


def test_every_attempt_checks_the_target_again(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    app.config["FETCH_ALLOW"] = []  # no longer allowed: refused before connecting
    client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin)
    run_jobs()
    [attempt] = log(client, admin, hook["id"])[0]["log"]
    assert attempt["status_code"] is None
    assert "private" in attempt["error"]
    assert receiver.requests == []


def test_410_gone_disables_at_once(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    receiver.statuses = [410]
    hook = subscribe(client, admin, receiver.url())
    client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin)
    run_jobs()
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json
    assert (got["enabled"], got["disabled_reason"]) == (False, "The receiver answered 410 Gone.")
    [delivery] = log(client, admin, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)


def test_a_run_of_failures_disables_and_enabling_counts_anew(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    app.config.update(WEBHOOK_ATTEMPTS=5, WEBHOOK_DISABLE_AFTER=2)
    receiver.statuses = [500]
    hook = subscribe(client, admin, receiver.url())
    url = f"/api/v1/webhooks/{hook['id']}"
    client.post(f"{url}/ping", headers=admin)
    run_jobs()
    with time_machine.travel(next_attempt_due(app), tick=False):
        run_jobs()
    got = client.get(url, headers=admin).json
    assert (got["enabled"], got["consecutive_failures"]) == (False, 2)
    assert got["disabled_reason"] == "2 failed attempts in a row."
    assert log(client, admin, hook["id"])[0]["status"] == "failed"  # no third attempt

    client.post("/api/v1/tags", json={"name": "Unheard"}, headers=admin)
    dispatched()
    assert len(receiver.requests) == 2  # a disabled webhook is sent nothing
    enabled = edit(client, url, json={"enabled": True}, headers=admin).json
    assert (enabled["enabled"], enabled["consecutive_failures"]) == (True, 0)
    assert enabled["disabled_reason"] is None


def test_a_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    url = f"/api/v1/webhooks/{hook['id']}"
    rotated = client.post(f"{url}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    old, new = hook["secret"], rotated.json["secret"]
    assert old != new

    client.post(f"{url}/ping", headers=admin)
    run_jobs()
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verified(old, during) == verified(new, during)

    with time_machine.travel(utcnow() + timedelta(seconds=601), tick=False):
        assert client.post(f"{url}/ping", headers=admin).status_code == 202
        run_jobs()
        after = receiver.requests[-1]
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert verified(new, after)["type"] == "webhook.ping"
        with pytest.raises(WebhookVerificationError):
            verified(old, after)


def test_secrets_never_leave_but_once_and_are_kept_encrypted(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    url = f"/api/v1/webhooks/{hook['id']}"
    client.post(f"{url}/ping", headers=admin)
    run_jobs()
    for path in ("/api/v1/webhooks", url, f"{url}/deliveries"):
        answer = client.get(path, headers=admin)
        assert answer.status_code == 200
        assert "secret" not in answer.text
        assert hook["secret"] not in answer.text
    changed = edit(client, url, json={"description": "Ours"}, headers=admin)
    assert changed.status_code == 200
    assert "secret" not in changed.json
    with app.app_context():
        stored = db.session.get_one(Webhook, hook["id"])
        assert hook["secret"] not in stored.secret_encrypted
    refused = client.post("/api/v1/webhooks", json={"url": receiver.url(), "secret": "x"})
    assert refused.status_code == 401


@pytest.mark.parametrize("role", [Role.EDITOR, Role.AUTHOR, None])
def test_only_admins_reach_any_webhook_operation(
    app: Flask, client: FlaskClient, admin: dict[str, str], login: Any, role: Role | None
) -> None:
    headers = login(role)[1] if role else {}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("webhooks.")]
    assert len(rules) == 8  # the collection's GET and POST are two
    for rule in rules:
        path = rule.rule.replace("<int:item_id>", "1").replace("<int:delivery_id>", "1")
        for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method, json={}, headers={**headers, "If-Match": "*"})
            assert answer.status_code == (403 if role else 401), (method, path)


def test_event_type_and_category_filters(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    news, sport = CategoryFactory(), CategoryFactory()
    dispatched()  # their own events go before anyone subscribes
    tags_only = subscribe(client, admin, receiver.url("/tags"), event_types=["tag.created"])
    in_news = subscribe(client, admin, receiver.url("/news"), category_ids=[news.id])
    client.post("/api/v1/tags", json={"name": "Elections"}, headers=admin)
    for title, category in (("In news", news), ("In sport", sport)):
        client.post(
            "/api/v1/articles", json={"title": title, "category_id": category.id}, headers=admin
        )
    dispatched()

    def heard(path: str, secret: str) -> list[tuple[str, str | None]]:
        messages = [verified(secret, r) for r in receiver.requests if r.path == path]
        return sorted((m["type"], m["data"].get("id") and m["data"]["resource"]) for m in messages)

    assert heard("/tags", tags_only["secret"]) == [("tag.created", "tag")]
    assert heard("/news", in_news["secret"]) == [
        ("article.created", "article"),  # the one in news only
        ("tag.created", "tag"),  # not an article event: categories do not apply
    ]


def test_announced_events_reach_the_webhooks_that_want_them(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    purges = subscribe(client, admin, receiver.url("/purge"), event_types=["cache.purge"])
    subscribe(client, admin, receiver.url("/tags"), event_types=["tag.created"])
    announce(db.session, "cache.purge", {"keys": ["article-42", "list-articles"]})
    db.session.commit()
    run_jobs()
    [request] = receiver.requests
    assert request.path == "/purge"
    message = verified(purges["secret"], request)
    assert (message["type"], message["data"]) == (
        "cache.purge",
        {"keys": ["article-42", "list-articles"]},
    )


def test_an_event_dispatched_twice_is_delivered_once(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url())
    client.post("/api/v1/tags", json={"name": "Once"}, headers=admin)
    dispatched()
    with app.app_context():
        db.session.query(ContentEvent).update({"dispatched_at": None})  # as after a crash
        db.session.commit()
        dispatch_events()
    dispatched()
    assert len(receiver.requests) == 1


def test_replay_of_one_delivery_and_of_a_time_range(
    app: Flask, client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    app.config["WEBHOOK_ATTEMPTS"] = 1
    receiver.statuses = [500, 500, 200]
    hook = subscribe(client, admin, receiver.url())
    url = f"/api/v1/webhooks/{hook['id']}"
    start = utcnow()
    client.post(f"{url}/ping", headers=admin)
    run_jobs()
    [failed] = log(client, admin, hook["id"])
    assert failed["status"] == "failed"

    replayed = client.post(f"{url}/deliveries/{failed['id']}/replay", headers=admin)
    assert (replayed.status_code, replayed.json["status"]) == (202, "pending")
    again = client.post(f"{url}/deliveries/{failed['id']}/replay", headers=admin)
    assert (again.status_code, again.json["code"]) == (409, "delivery_pending")  # one run
    run_jobs()
    ranged = client.post(f"{url}/replay", json={"since": start.isoformat()}, headers=admin)
    assert (ranged.status_code, ranged.json) == (202, {"replayed": 1})
    run_jobs()
    [delivery] = log(client, admin, hook["id"])
    assert [a["status_code"] for a in delivery["log"]] == [500, 500, 200]
    assert delivery["status"] == "succeeded"
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hook"},
        {"url": "https://example.com/" + "a" * 2048},
        {"url": "https://example.com/hook", "event_types": ["article.exploded"]},
        {"url": "https://example.com/hook", "category_ids": [2_000_000_000]},
        {"url": "https://example.com/hook", "category_ids": list(range(1, 200))},
        {"url": "https://example.com/hook", "enabled": "yes"},
    ],
)
def test_bad_input_is_a_422_problem(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    refused = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert refused.status_code == 422, refused.json
    assert refused.mimetype == "application/problem+json"
    assert refused.json["errors"]


def test_a_replay_range_must_end_after_it_starts(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    refused = client.post(
        f"/api/v1/webhooks/{hook['id']}/replay",
        json={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert refused.status_code == 422
    assert "until" in refused.json["errors"]
    assert json.loads(refused.text)["code"] == "validation_error"


def test_the_encryption_key_is_checked_and_production_needs_one(
    app: Flask, client: FlaskClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="not a Fernet key"):
        webhook_keys("not-a-key", secret_key="s" * 32, development=False)
    assert webhook_keys(None, secret_key="s" * 32, development=False) == []
    derived = webhook_keys(None, secret_key="s" * 32, development=True)
    assert derived == webhook_keys(None, secret_key="s" * 32, development=True)  # stable
    monkeypatch.setitem(app.config, "WEBHOOK_ENCRYPTION_KEYS", [])  # production, unset
    refused = client.post(
        "/api/v1/webhooks", json={"url": "https://93.184.215.14/hook"}, headers=admin
    )
    assert refused.status_code == 503
    assert refused.json["code"] == "service_unavailable"


def test_a_changed_url_passes_the_same_rules(
    client: FlaskClient, admin: dict[str, str], receiver: Receiver, internal: Receiver
) -> None:
    hook = subscribe(client, admin, receiver.url())
    url = f"/api/v1/webhooks/{hook['id']}"
    refused = edit(client, url, json={"url": internal.url()}, headers=admin)
    assert refused.status_code == 422
    assert "private" in refused.json["errors"]["url"][0]
    assert client.get(url, headers=admin).json["url"] == receiver.url()


def test_only_known_events_are_announced(app: Flask) -> None:
    with pytest.raises(ValueError, match="not one of"):
        announce(db.session, "article.updated", {})


def test_a_binary_answer_is_logged_and_counted(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A NUL in the answer (any binary or gzip body): PostgreSQL refuses it in a text
    column, so the attempt went unlogged, uncounted and was sent again (found by review)."""
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 1)
    receiver.statuses = [500]
    receiver.answer = b"\x00\x01binary"
    hook = subscribe(client, admin, receiver.url())
    client.post(f"/api/v1/webhooks/{hook['id']}/ping", headers=admin)
    run_jobs(until=utcnow() + timedelta(hours=1))
    assert len(receiver.requests) == 1
    [delivery] = log(client, admin, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "\x00" not in delivery["log"][0]["response_excerpt"]
    webhook = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).json
    assert (webhook["enabled"], webhook["consecutive_failures"]) == (False, 1)
