"""Content events in the outbox: one per changed resource, in the write's transaction."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms.extensions import db
from cms.models import ContentEvent, Tag
from cms.models.outbox import CONTENT_RESOURCES
from tests.conftest import edit, remove
from tests.feed_server import FeedServer
from tests.test_feeds import add_feed, fetch_feed, item, rss

CONTENT = select(ContentEvent).where(ContentEvent.resource.in_(CONTENT_RESOURCES.values()))


def events(app: Flask) -> list[tuple[str, int, list[str]]]:
    """Content events, in order (the callers' logins are account events)."""
    with app.app_context():
        rows = db.session.scalars(CONTENT.order_by(ContentEvent.id))
        return [(row.type, row.resource_id, row.changed) for row in rows]


def test_api_writes_record_events_with_changed_fields_and_actor(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    created = client.post("/api/v1/tags", json={"name": "Policy"}, headers=auth)
    tag_id = created.json["id"]
    edited = edit(client, f"/api/v1/tags/{tag_id}", json={"description": "Laws"}, headers=auth)
    assert edited.status_code == 200, edited.json
    assert remove(client, f"/api/v1/tags/{tag_id}", headers=auth).status_code == 204

    recorded = events(app)
    assert [(kind, id_) for kind, id_, _ in recorded] == [
        ("tag.created", tag_id),
        ("tag.updated", tag_id),
        ("tag.deleted", tag_id),
    ]
    assert recorded[1][2] == ["description"]
    with app.app_context():
        rows = list(db.session.scalars(CONTENT.order_by(ContentEvent.id)))
    actors, versions = {row.actor for row in rows}, [row.version for row in rows]
    [actor] = actors
    assert actor.startswith("user:")
    assert versions == [1, 2, 2]  # the version each change left (the delete removed v2)


def test_a_write_that_rolls_back_records_no_event(app: Flask) -> None:
    with app.app_context():
        db.session.add(Tag(name="Gone", slug="gone"))
        db.session.flush()  # the event row is written here, in the transaction
        assert db.session.scalar(select(ContentEvent.type)) == "tag.created"
        db.session.rollback()
    assert events(app) == []


def test_a_refused_write_records_no_event(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/tags", json={"name": "Policy"}, headers=auth)
    duplicate = client.post("/api/v1/tags", json={"name": "Other", "slug": "policy"}, headers=auth)
    assert duplicate.status_code == 409, duplicate.json
    assert [kind for kind, _, _ in events(app)] == ["tag.created"]


def test_an_article_showing_a_renamed_tag_is_an_article_event(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    """Anything an article shows is a change to the article: its tag's new name too."""
    tag = client.post("/api/v1/tags", json={"name": "Policy"}, headers=auth).json
    article = client.post(
        "/api/v1/articles", json={"title": "Memo", "tag_ids": [tag["id"]]}, headers=auth
    ).json
    edit(client, f"/api/v1/tags/{tag['id']}", json={"name": "Politics"}, headers=auth)
    kinds = [(kind, id_) for kind, id_, _ in events(app)]
    assert ("article.created", article["id"]) in kinds
    assert kinds[-2:] == [("tag.updated", tag["id"]), ("article.updated", article["id"])]


def test_ingest_records_an_event_for_every_article_it_creates(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """Feed ingest inserts with Core, past the ORM's flush events: it records its own."""
    server = FeedServer()
    app.config["FETCH_ALLOW"] = [f"127.0.0.1:{server.port}"]
    try:
        url = server.serve("/feed.xml", rss(item(1, more="<author>Ada</author>"), item(2)))
        feed_id = add_feed(client, admin, url)
        created = fetch_feed(client, admin, feed_id)["new_article_ids"]
        again = fetch_feed(client, admin, feed_id)["new_article_ids"]
    finally:
        server.close()
    assert len(created) == 2
    assert again == []
    article_events = [(kind, id_) for kind, id_, _ in events(app) if kind.startswith("article.")]
    assert article_events == [("article.created", id_) for id_ in created]


def test_an_articles_steps_are_named_as_they_commit(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """Named by the state each write left, not read back later: a publish followed at
    once by an edit is still announced as a publish."""
    created = client.post("/api/v1/articles", json={"title": "Steps"}, headers=admin).json
    url = f"/api/v1/articles/{created['id']}"
    for step in ("publish", "archive"):
        etag = client.get(url, headers=admin).headers["ETag"]
        answer = client.post(f"{url}/{step}", json={}, headers={**admin, "If-Match": etag})
        assert answer.status_code == 200, answer.json
        assert edit(client, url, json={"excerpt": step}, headers=admin).status_code == 200
    assert remove(client, url, headers=admin).status_code == 204  # to the trash
    trash = f"/api/v1/articles/{created['id']}/restore"
    assert client.post(trash, json={}, headers={**admin, "If-Match": "*"}).status_code == 200

    kinds = [kind for kind, id_, _ in events(app) if id_ == created["id"]]
    assert kinds == [
        "article.created",
        "article.published",
        "article.updated",
        "article.unpublished",
        "article.updated",
        "article.trashed",
        "article.restored",
    ]
