"""Issue 14: every change to an article stores a revision; editors list, show, diff
and restore them; imports and ingest make them too; old ones are pruned."""

from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from cms.auth.tokens import create_api_token
from cms.extensions import db
from cms.models import ArticleStatus, Role, utcnow
from cms.services.article_batch import NewArticle, create_articles
from cms.services.revisions import prune_revisions
from tests.conftest import edit
from tests.factories import AuthorFactory, TagFactory


def numbers(client: FlaskClient, headers: dict[str, str], article_id: int) -> list[int]:
    listed = client.get(f"/api/v1/articles/{article_id}/revisions", headers=headers)
    assert listed.status_code == 200, listed.json
    return [item["number"] for item in listed.json["data"]]


def test_each_change_is_a_revision_a_diff_shows_exactly_what_changed_and_restore_brings_it_back(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    ann, bob = AuthorFactory(), AuthorFactory()
    policy, law = TagFactory(), TagFactory()
    created = client.post(
        "/api/v1/articles",
        json={
            "title": "First",
            "body_html": "<p>one</p>\n<p>two</p>",
            "author_ids": [ann.id],
            "tag_ids": [policy.id],
        },
        headers=admin,
    ).json
    url = f"/api/v1/articles/{created['id']}"
    changes = {"title": "Second", "tag_ids": [law.id], "author_ids": [bob.id, ann.id]}
    assert edit(client, url, json=changes, headers=admin).status_code == 200
    body = {"body_html": "<p>one</p>\n<p>three</p>"}
    assert edit(client, url, json=body, headers=admin).status_code == 200

    assert numbers(client, admin, created["id"]) == [3, 2, 1]
    first = client.get(f"{url}/revisions/1", headers=admin).json
    assert (first["values"]["title"], first["values"]["tag_ids"]) == ("First", [policy.id])
    assert first["actor"].startswith("user:")

    one_two = client.get(f"{url}/revisions/1/diff/2", headers=admin).json
    assert one_two["fields"] == {
        "title": {"from": "First", "to": "Second"},
        "tag_ids": {"from": [policy.id], "to": [law.id]},
        "author_ids": {"from": [ann.id], "to": [bob.id, ann.id]},
    }
    assert one_two["body_diff"] == ""
    two_three = client.get(f"{url}/revisions/2/diff/3", headers=admin).json
    assert set(two_three["fields"]) == {"body_source"}
    assert "-<p>two</p>" in two_three["body_diff"]
    assert "+<p>three</p>" in two_three["body_diff"]

    restored = client.post(f"{url}/revisions/1/restore", headers=admin)
    assert restored.status_code == 200, restored.json
    article = restored.json
    assert article["title"] == "First"
    assert "<p>two</p>" in article["body_html"]
    assert [t["id"] for t in article["tags"]] == [policy.id]
    assert [a["id"] for a in article["authors"]] == [ann.id]
    assert article["status"] == "draft"  # where it was in its lifecycle
    assert numbers(client, admin, created["id"]) == [4, 3, 2, 1]  # the restore is one more
    assert client.get(f"{url}/revisions/1/diff/4", headers=admin).json["fields"] == {}
    assert client.get(f"{url}/revisions/9", headers=admin).status_code == 404


def test_an_ingested_article_gets_its_first_revision_when_first_changed(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    [article_id] = create_articles(
        db.session,
        [
            NewArticle(
                title="From a feed",
                body_html="<p>as ingested</p>",
                status=ArticleStatus.PUBLISHED,
                resource_id="0123456789abcdef",
                author_names=("Wire",),
            )
        ],
    )
    db.session.commit()
    url = f"/api/v1/articles/{article_id}"
    assert numbers(client, admin, article_id) == [1]  # as stored, nothing written yet

    assert edit(client, url, json={"title": "Edited"}, headers=admin).status_code == 200

    assert numbers(client, admin, article_id) == [2, 1]
    first = client.get(f"{url}/revisions/1", headers=admin).json
    assert (first["values"]["title"], first["actor"]) == ("From a feed", None)
    assert first["values"]["body_source"] == "<p>as ingested</p>"
    assert len(first["values"]["author_ids"]) == 1


def test_old_revisions_are_pruned_by_count_and_age_the_latest_stays(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    app.config.update(REVISIONS_KEEP=3, REVISIONS_KEEP_DAYS=30)
    _, secret = create_api_token(  # a bot's token: valid 40 days ago too
        db.session, name="bot", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    with time_machine.travel(utcnow() - timedelta(days=40), tick=False):
        bot = {"Authorization": f"Bearer {secret}"}
        old = create(client, bot, "Old")  # its only revision, 40 days old: it stays
        edit(client, f"/api/v1/articles/{old}", json={"title": "Old, edited"}, headers=bot)
    edit(client, f"/api/v1/articles/{old}", json={"title": "Old, edited again"}, headers=admin)
    many = create(client, admin, "Many")
    for n in range(4):
        edit(client, f"/api/v1/articles/{many}", json={"title": f"Edit {n}"}, headers=admin)

    prune_revisions()

    assert numbers(client, admin, many) == [5, 4, 3]
    assert numbers(client, admin, old) == [3]  # the 40-day-old ones went, not the latest


def create(client: FlaskClient, headers: dict[str, str], title: str) -> int:
    created = client.post("/api/v1/articles", json={"title": title}, headers=headers)
    assert created.status_code == 201, created.json
    return int(created.json["id"])


def test_revisions_are_for_editors(client: FlaskClient, login: Any) -> None:
    _, author = login(Role.AUTHOR)
    own = create(client, author, "Mine")
    assert client.get(f"/api/v1/articles/{own}/revisions", headers=author).status_code == 403
    assert client.get(f"/api/v1/articles/{own}/revisions").status_code == 401


def test_a_revision_naming_a_deleted_tag_is_not_restored_halfway(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    gone, kept = TagFactory(), TagFactory()
    article = client.post(
        "/api/v1/articles", json={"title": "Tagged", "tag_ids": [gone.id]}, headers=admin
    ).json
    url = f"/api/v1/articles/{article['id']}"
    edit(client, url, json={"title": "Retagged", "tag_ids": [kept.id]}, headers=admin)
    tag_url = f"/api/v1/tags/{gone.id}"
    assert client.delete(tag_url, headers={**admin, "If-Match": "*"}).status_code == 204

    refused = client.post(f"{url}/revisions/1/restore", headers=admin)

    assert (refused.status_code, refused.json["code"]) == (409, "revision_outdated")
    assert client.get(url, headers=admin).json["title"] == "Retagged"
    assert numbers(client, admin, article["id"]) == [2, 1]
