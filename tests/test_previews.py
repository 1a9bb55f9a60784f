"""Issue 14: a preview link opens one unpublished article to whoever holds it, and
nothing else; it expires and can be revoked."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from cms.models import ArticleStatus, Role, utcnow
from tests.conftest import QueryCounter, edit, remove
from tests.factories import ArticleFactory


def issue(client: FlaskClient, headers: dict[str, str], article_id: int, **body: Any) -> Any:
    created = client.post(f"/api/v1/articles/{article_id}/previews", json=body, headers=headers)
    assert created.status_code == 201, created.json
    return created


def test_a_preview_opens_its_article_and_nothing_else(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    draft = ArticleFactory(status=ArticleStatus.DRAFT, title="Draft A")
    other = ArticleFactory(status=ArticleStatus.DRAFT, title="Draft B")
    created = issue(client, admin, draft.id)
    link, secret = created.headers["Location"], created.json["token"]

    read = client.get(link)
    assert read.status_code == 200
    assert (read.json["id"], read.json["status"]) == (draft.id, "draft")
    assert read.headers["Cache-Control"] == "no-store"  # no CDN keeps a draft
    assert "ETag" not in read.headers
    # The secret is no credential: not for B, not for a list, not for A's own URL.
    as_bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/articles/{other.id}", headers=as_bearer).status_code == 401
    assert client.get("/api/v1/articles", headers=as_bearer).status_code == 401
    assert client.get(f"/api/v1/articles/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/articles/preview/{secret}x").status_code == 404


def test_a_preview_expires_and_can_be_revoked(client: FlaskClient, admin: dict[str, str]) -> None:
    draft = ArticleFactory(status=ArticleStatus.DRAFT)
    with time_machine.travel(utcnow(), tick=False) as clock:
        short = issue(client, admin, draft.id, expires_in=60).headers["Location"]
        revoked = issue(client, admin, draft.id)
        clock.shift(timedelta(seconds=59))
        assert client.get(short).status_code == 200
        clock.shift(timedelta(seconds=1))
        assert client.get(short).status_code == 404

        url = f"/api/v1/articles/{draft.id}/previews/{revoked.json['id']}"
        assert client.delete(url, headers=admin).status_code == 428
        revoke = client.delete(url, headers={**admin, "If-Match": revoked.headers["ETag"]})
        assert revoke.status_code == 204
        assert client.get(revoked.headers["Location"]).status_code == 404
        assert client.delete(url, headers={**admin, "If-Match": "*"}).status_code == 404


def test_a_trashed_article_has_no_preview(client: FlaskClient, admin: dict[str, str]) -> None:
    draft = ArticleFactory(status=ArticleStatus.DRAFT)
    link = issue(client, admin, draft.id).headers["Location"]
    assert remove(client, f"/api/v1/articles/{draft.id}", headers=admin).status_code == 204
    assert client.get(link).status_code == 404
    refused = client.post(f"/api/v1/articles/{draft.id}/previews", json={}, headers=admin)
    assert refused.status_code == 404


def test_previews_are_issued_by_editors_for_a_week_at_most(
    client: FlaskClient, login: Any, admin: dict[str, str]
) -> None:
    _, author = login(Role.AUTHOR)
    own = client.post("/api/v1/articles", json={"title": "Mine"}, headers=author).json
    refused = client.post(f"/api/v1/articles/{own['id']}/previews", json={}, headers=author)
    assert refused.status_code == 403
    too_long = client.post(
        f"/api/v1/articles/{own['id']}/previews", json={"expires_in": 8 * 86400}, headers=admin
    )
    assert too_long.status_code == 422
    assert "expires_in" in too_long.json["errors"]


def test_a_preview_of_a_revision_shows_it_and_keeps_nothing(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    tag = client.post("/api/v1/tags", json={"name": "Old tag"}, headers=admin).json
    draft = client.post(
        "/api/v1/articles",
        json={"title": "First draft", "body_markdown": "One", "tag_ids": [tag["id"]]},
        headers=admin,
    ).json
    url = f"/api/v1/articles/{draft['id']}"
    assert (
        edit(client, url, json={"title": "Second", "tag_ids": []}, headers=admin).status_code == 200
    )
    current = client.get(url, headers=admin)
    revisions = client.get(f"{url}/revisions", headers=admin).json["data"]

    created = issue(client, admin, draft["id"], revision=1)
    assert created.json["revision"] == 1
    shown = client.get(created.headers["Location"]).json
    assert (shown["title"], [t["id"] for t in shown["tags"]]) == ("First draft", [tag["id"]])
    assert shown["status"] == "draft"
    # Read twice, and nothing of it stayed: the article, its ETag and revisions as before.
    assert client.get(created.headers["Location"]).json["title"] == "First draft"
    after = client.get(url, headers=admin)
    assert (after.json["title"], after.headers["ETag"]) == ("Second", current.headers["ETag"])
    assert client.get(f"{url}/revisions", headers=admin).json["data"] == revisions
    now = issue(client, admin, draft["id"]).headers["Location"]
    assert client.get(now).json["title"] == "Second"

    missing = client.post(f"{url}/previews", json={"revision": 99}, headers=admin)
    assert missing.status_code == 404
    # A revision that names a tag deleted since cannot be shown as it was.
    assert remove(client, f"/api/v1/tags/{tag['id']}", headers=admin).status_code == 204
    assert client.get(created.headers["Location"]).status_code == 404


def test_a_revision_whose_slug_is_taken_since_is_not_shown_nor_told(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    first = client.post("/api/v1/articles", json={"title": "Alpha"}, headers=admin).json
    url = f"/api/v1/articles/{first['id']}"
    assert edit(client, url, json={"slug": "alpha-renamed"}, headers=admin).status_code == 200
    client.post("/api/v1/articles", json={"title": "Alpha"}, headers=admin)  # takes "alpha"
    link = issue(client, admin, first["id"], revision=1).headers["Location"]
    shown = client.get(link)
    # A 409 naming the slug would tell an outsider that some (maybe draft) article has it.
    assert (shown.status_code, shown.json["code"]) == (404, "not_found")
    assert client.get(url, headers=admin).json["slug"] == "alpha-renamed"


def test_a_revision_preview_opened_again_writes_nothing_until_content_changes(
    client: FlaskClient, admin: dict[str, str], count_queries: QueryCounter
) -> None:
    """Restoring takes the write path (SQLite's one write lock): a link opened again
    and again must not take it each time."""
    draft = client.post("/api/v1/articles", json={"title": "One"}, headers=admin).json
    url = f"/api/v1/articles/{draft['id']}"
    assert edit(client, url, json={"title": "Two"}, headers=admin).status_code == 200
    link = issue(client, admin, draft["id"], revision=1).headers["Location"]

    def writes_of_a_view() -> tuple[str, int]:
        count_queries.statements.clear()
        title = client.get(link).json["title"]
        writes = [s for s in count_queries.statements if s.startswith(("INSERT", "UPDATE"))]
        return title, len(writes)

    assert writes_of_a_view()[0] == "One"
    assert writes_of_a_view() == ("One", 0)
    assert edit(client, url, json={"excerpt": "Changed"}, headers=admin).status_code == 200
    title, writes = writes_of_a_view()  # content changed: shown anew, as it is now
    assert (title, writes > 0) == ("One", True)
