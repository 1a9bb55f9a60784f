"""Issue 14: the status model as explicit steps, each with its permission rule:
draft -> in_review -> scheduled | published -> archived."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from cms.models import Role, utcnow
from tests.conftest import edit


def step(
    client: FlaskClient, headers: dict[str, str], article_id: int, name: str, **body: Any
) -> Any:
    return client.post(f"/api/v1/articles/{article_id}/{name}", json=body or None, headers=headers)


def test_a_contributor_submits_and_an_editor_publishes_then_archives(
    client: FlaskClient, admin: dict[str, str], login: Any
) -> None:
    _, contributor = login(Role.CONTRIBUTOR)
    draft = client.post("/api/v1/articles", json={"title": "Mine"}, headers=contributor).json
    url = f"/api/v1/articles/{draft['id']}"

    submitted = step(client, contributor, draft["id"], "submit")
    assert (submitted.status_code, submitted.json["status"]) == (200, "in_review")
    # In review, it is the editors' to change; the contributor can take it back.
    assert edit(client, url, json={"title": "Sneaky"}, headers=contributor).status_code == 403
    assert step(client, contributor, draft["id"], "publish").status_code == 403
    assert step(client, contributor, draft["id"], "withdraw").json["status"] == "draft"
    assert step(client, contributor, draft["id"], "submit").json["status"] == "in_review"

    published = step(client, admin, draft["id"], "publish")
    assert (published.status_code, published.json["status"]) == (200, "published")
    assert published.json["published_at"] is not None
    assert client.get(url).status_code == 200

    refused = step(client, admin, draft["id"], "submit")
    assert (refused.status_code, refused.json["code"]) == (409, "invalid_transition")
    assert step(client, admin, draft["id"], "archive").json["status"] == "archived"
    assert client.get(url).status_code == 404


def test_a_scheduled_step_goes_live_to_the_second(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    draft = client.post("/api/v1/articles", json={"title": "Later"}, headers=admin).json
    url = f"/api/v1/articles/{draft['id']}"
    backdated = client.post("/api/v1/articles", json={"title": "Backdated"}, headers=admin).json
    past = "2026-01-05T10:00:00+00:00"
    live = step(client, admin, backdated["id"], "schedule", published_at=past).json
    assert (live["status"], live["published_at"]) == ("published", "2026-01-05T10:00:00Z")
    with time_machine.travel(utcnow(), tick=False) as clock:
        when = (utcnow() + timedelta(seconds=45)).isoformat()
        scheduled = step(client, admin, draft["id"], "schedule", published_at=when)
        assert (scheduled.status_code, scheduled.json["status"]) == (200, "scheduled")
        clock.shift(timedelta(seconds=44))
        assert client.get(url).status_code == 404
        clock.shift(timedelta(seconds=1))
        assert client.get(url).status_code == 200


def test_below_editor_only_ones_own(client: FlaskClient, admin: dict[str, str], login: Any) -> None:
    _, author = login(Role.AUTHOR)
    theirs = client.post("/api/v1/articles", json={"title": "Theirs"}, headers=admin).json
    assert step(client, author, theirs["id"], "publish").status_code == 404  # a draft: unseen
    mine = client.post("/api/v1/articles", json={"title": "Mine"}, headers=author).json
    assert step(client, author, mine["id"], "publish").json["status"] == "published"


def test_no_step_puts_an_article_live_past_its_takedown(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        takedown = utcnow() + timedelta(minutes=5)
        draft = client.post(
            "/api/v1/articles",
            json={"title": "Embargoed", "unpublish_at": takedown.isoformat()},
            headers=admin,
        ).json
        late = (takedown + timedelta(minutes=1)).isoformat()
        refused = step(client, admin, draft["id"], "schedule", published_at=late)
        assert (refused.status_code, refused.json["code"]) == (409, "unpublish_at_first")
        clock.shift(timedelta(minutes=6))
        refused = step(client, admin, draft["id"], "publish")
        assert (refused.status_code, refused.json["code"]) == (409, "unpublish_at_first")
        assert client.get(f"/api/v1/articles/{draft['id']}", headers=admin).json["status"] == (
            "draft"
        )
        cleared = edit(
            client, f"/api/v1/articles/{draft['id']}", json={"unpublish_at": None}, headers=admin
        )
        assert cleared.status_code == 200
        assert step(client, admin, draft["id"], "publish").json["status"] == "published"


def test_a_taken_down_article_is_not_published_again_by_a_step(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    """Dated in the past, an article goes live now: its takedown must still be ahead."""
    now = utcnow()
    draft = client.post(
        "/api/v1/articles",
        json={
            "title": "Taken down",
            "published_at": (now - timedelta(days=2)).isoformat(),
            "unpublish_at": (now - timedelta(days=1)).isoformat(),
        },
        headers=admin,
    ).json
    refused = step(client, admin, draft["id"], "publish")
    assert (refused.status_code, refused.json["code"]) == (409, "unpublish_at_first")
    backdated = (now - timedelta(days=3)).isoformat()
    refused = step(client, admin, draft["id"], "schedule", published_at=backdated)
    assert (refused.status_code, refused.json["code"]) == (409, "unpublish_at_first")
