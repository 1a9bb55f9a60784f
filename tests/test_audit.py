"""Issue 14: the audit log says who did what to which resource, when, and with which
credential; admins filter it; it is fed by the outbox and kept AUDIT_KEEP_DAYS."""

from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from cms.auth.tokens import create_api_token
from cms.extensions import db
from cms.models import ContentEvent, Role, utcnow
from cms.services.audit import prune_audit
from cms.services.dispatch import dispatch_events
from tests.conftest import FAST_PASSWORD, edit, run_jobs


def dispatched() -> None:
    """Run the jobs, the outbox dispatch nudged a second after the commit included."""
    run_jobs(until=utcnow() + timedelta(seconds=2))


def entries(client: FlaskClient, admin: dict[str, str], **filters: Any) -> list[dict[str, Any]]:
    listed = client.get("/api/v1/audit", query_string=filters, headers=admin)
    assert listed.status_code == 200, listed.json
    return list(listed.json["data"])


def test_who_did_what_with_which_credential(
    client: FlaskClient, admin: dict[str, str], login: Any
) -> None:
    editor, as_editor = login(Role.EDITOR)
    token, secret = create_api_token(
        db.session, name="ingest bot", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    as_bot = {"Authorization": f"Bearer {secret}"}
    article = client.post("/api/v1/articles", json={"title": "Audited"}, headers=as_editor).json
    url = f"/api/v1/articles/{article['id']}"
    assert edit(client, url, json={"excerpt": "Changed"}, headers=as_bot).status_code == 200
    client.post("/api/v1/tags", json={"name": "Elsewhere"}, headers=as_editor)
    dispatched()

    trail = entries(client, admin, resource="article", resource_id=article["id"])
    assert [(e["type"], e["actor"]) for e in trail] == [
        ("article.updated", f"token:{token.id}"),
        ("article.created", f"user:{editor.id}"),
    ]
    assert trail[0]["changed"] == ["excerpt"]
    by_bot = entries(client, admin, actor=f"token:{token.id}")
    assert [e["resource_id"] for e in by_bot] == [article["id"]]
    assert {e["resource"] for e in entries(client, admin)} == {"article", "tag", "user", "token"}


def test_a_second_delivery_adds_nothing(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    client.post("/api/v1/tags", json={"name": "Once"}, headers=admin)
    dispatched()
    with app.app_context():
        db.session.query(ContentEvent).update({"dispatched_at": None})  # as after a crash
        db.session.commit()
        dispatch_events()
    db.session.rollback()
    assert len(entries(client, admin, type="tag.created")) == 1


def test_the_log_is_for_admins_and_forgets_after_its_keep_days(
    app: Flask, client: FlaskClient, admin: dict[str, str], login: Any
) -> None:
    _, as_editor = login(Role.EDITOR)
    assert client.get("/api/v1/audit", headers=as_editor).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    client.post("/api/v1/tags", json={"name": "Old"}, headers=admin)
    dispatched()
    assert "tag.created" in [e["type"] for e in entries(client, admin)]
    with time_machine.travel(utcnow() + timedelta(days=app.config["AUDIT_KEEP_DAYS"] + 1)):
        prune_audit()
    db.session.rollback()
    assert entries(client, admin) == []


def test_accounts_are_audited_logins_included(
    client: FlaskClient, admin: dict[str, str], login: Any
) -> None:
    editor, as_editor = login(Role.EDITOR)
    made = client.post("/api/v1/tokens", json={"name": "bot", "role": "editor"}, headers=admin).json
    as_bot = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/articles?status=draft", headers=as_bot).status_code == 200
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": FAST_PASSWORD, "new_password": "a brand new password"},
        headers=as_editor,
    )
    assert changed.status_code == 204
    dispatched()

    of_editor = entries(client, admin, resource="user", resource_id=editor.id)
    assert [(e["type"], e["actor"]) for e in of_editor][:2] == [
        ("user.updated", f"user:{editor.id}"),
        ("user.logged_in", f"user:{editor.id}"),
    ]
    assert "password_hash" in of_editor[0]["changed"]
    tokens = entries(client, admin, resource="token", resource_id=made["id"])
    # Using a token moves its last_used_at: bookkeeping, not an entry.
    assert [e["type"] for e in tokens] == ["token.created"]
