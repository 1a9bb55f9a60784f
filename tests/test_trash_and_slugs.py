"""Issue 14: DELETE moves an article to the trash (gone from every read, its slug still
taken), editors list, restore and purge it, and the trash empties itself; a renamed
slug answers 301 with the current one."""

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cms.auth.tokens import create_api_token
from cms.extensions import db
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleRevision,
    ArticleSlug,
    ArticleStatus,
    Role,
    SearchDocument,
    utcnow,
)
from cms.services.trash import purge_trash
from tests.conftest import edit, remove


def create(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"title": "Trash zebra", "status": "published", "body_html": "<p>zebra</p>", **fields}
    created = client.post("/api/v1/articles", json=body, headers=headers)
    assert created.status_code == 201, created.json
    return dict(created.json)


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_trashed_article_is_gone_from_every_read_and_restorable(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    article = create(client, admin)
    item, by_slug = f"/api/v1/articles/{article['id']}", f"/api/v1/articles/slug/{article['slug']}"
    cached = client.get(by_slug)

    assert remove(client, item, headers=admin).status_code == 204

    assert client.get(item).status_code == 404
    assert client.get(by_slug, headers={"If-None-Match": cached.headers["ETag"]}).status_code == 404
    assert client.get(item, headers=admin).status_code == 404  # editors read it in the trash
    assert client.get("/api/v1/articles?count=true").json["meta"]["total"] == 0
    assert client.get("/api/v1/articles?q=zebra", headers=admin).json["data"] == []
    trash = client.get("/api/v1/articles/trash", headers=admin)
    assert [(a["id"], a["slug"]) for a in trash.json["data"]] == [(article["id"], article["slug"])]
    assert trash.json["data"][0]["trashed_at"] is not None
    # Its slug stays taken: an editor asking for it is refused, not given the URL.
    taken = client.post(
        "/api/v1/articles", json={"title": "Other", "slug": article["slug"]}, headers=admin
    )
    assert taken.status_code == 409

    restored = client.post(f"/api/v1/articles/{article['id']}/restore", headers=admin)
    assert restored.status_code == 200
    assert (restored.json["slug"], restored.json["status"]) == (article["slug"], "published")
    assert client.get(by_slug).status_code == 200
    assert client.get("/api/v1/articles?q=zebra").json["data"][0]["id"] == article["id"]
    assert client.get("/api/v1/articles/trash", headers=admin).json["data"] == []


def test_the_trash_is_for_editors(client: FlaskClient, admin: dict[str, str], login: Any) -> None:
    _, author = login(Role.AUTHOR)
    article = create(client, author)
    assert remove(client, f"/api/v1/articles/{article['id']}", headers=author).status_code == 204
    assert client.get("/api/v1/articles/trash").status_code == 401
    assert client.get("/api/v1/articles/trash", headers=author).status_code == 403
    restore = f"/api/v1/articles/{article['id']}/restore"
    assert client.post(restore, headers=author).status_code == 403
    assert client.post(restore, headers=admin).status_code == 200
    assert client.post(restore, headers=admin).status_code == 404  # not in the trash


def test_a_purged_article_is_gone_with_its_links_slugs_and_search_row(
    client: FlaskClient, admin: dict[str, str], login: Any
) -> None:
    _, author = login(Role.AUTHOR)
    article = create(client, author, slug="first")
    item = f"/api/v1/articles/{article['id']}"
    assert edit(client, item, json={"slug": "second"}, headers=author).status_code == 200
    assert remove(client, item, headers=author).status_code == 204
    purge = f"/api/v1/articles/trash/{article['id']}"
    assert client.delete(purge, headers=admin).status_code == 428  # If-Match, as every delete

    assert client.delete(purge, headers={**admin, "If-Match": "*"}).status_code == 204

    assert db.session.get(Article, article["id"]) is None
    assert count(ArticleAuthor, ArticleAuthor.article_id == article["id"]) == 0
    assert count(ArticleSlug, ArticleSlug.article_id == article["id"]) == 0
    assert count(SearchDocument, SearchDocument.article_id == article["id"]) == 0
    assert count(ArticleRevision, ArticleRevision.article_id == article["id"]) == 0
    assert client.get("/api/v1/articles/slug/first").status_code == 404


def test_the_trash_empties_itself_after_its_keep_days(app: Any, client: FlaskClient) -> None:
    kept_days = app.config["TRASH_KEEP_DAYS"]
    _, secret = create_api_token(  # a bot's token: it outlives a login across the days
        db.session, name="bot", role=Role.EDITOR, expires_at=None, created_by=None
    )
    db.session.commit()
    admin = {"Authorization": f"Bearer {secret}"}
    with time_machine.travel(utcnow(), tick=False) as clock:
        old, recent = create(client, admin), create(client, admin, title="Recent")
        assert remove(client, f"/api/v1/articles/{old['id']}", headers=admin).status_code == 204
        clock.shift(timedelta(days=2))
        assert remove(client, f"/api/v1/articles/{recent['id']}", headers=admin).status_code == 204
        clock.shift(timedelta(days=kept_days - 1))

        purge_trash()

    assert db.session.get(Article, old["id"]) is None
    assert db.session.get(Article, recent["id"]) is not None  # one more day in the trash


def test_an_old_slug_answers_301_with_the_current_one(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    article = create(client, admin, slug="old-name")
    item = f"/api/v1/articles/{article['id']}"
    assert edit(client, item, json={"slug": "new-name"}, headers=admin).status_code == 200
    assert edit(client, item, json={"slug": "newest-name"}, headers=admin).status_code == 200

    for old in ("old-name", "new-name"):
        moved = client.get(f"/api/v1/articles/slug/{old}?include=tags")
        assert moved.status_code == 301
        assert moved.headers["Location"] == "/api/v1/articles/slug/newest-name?include=tags"
        assert moved.cache_control.no_cache  # revalidated: a rename back must not loop
    assert client.get("/api/v1/articles/slug/newest-name").status_code == 200

    # A slug given up can be taken: the current holder wins over the redirect.
    other = create(client, admin, title="Taker", slug="old-name")
    assert client.get("/api/v1/articles/slug/old-name").json["id"] == other["id"]
    # Renaming back takes the slug from history to current again.
    assert edit(client, item, json={"slug": "new-name"}, headers=admin).status_code == 200
    assert client.get("/api/v1/articles/slug/new-name").json["id"] == article["id"]
    moved = client.get("/api/v1/articles/slug/newest-name")
    assert moved.headers["Location"] == "/api/v1/articles/slug/new-name"


def test_a_renamed_draft_leaves_no_redirect(client: FlaskClient, admin: dict[str, str]) -> None:
    """A draft's working slugs were never public: publishing it must not reveal them."""
    article = create(client, admin, slug="acme-layoffs-confidential", status="draft")
    item = f"/api/v1/articles/{article['id']}"
    renamed = edit(client, item, json={"slug": "acme-news", "status": "published"}, headers=admin)
    assert renamed.status_code == 200

    assert client.get("/api/v1/articles/slug/acme-layoffs-confidential").status_code == 404
    old = client.get("/api/v1/articles/slug/acme-layoffs-confidential", headers=admin)
    assert old.status_code == 404
    assert db.session.get(Article, article["id"]).status is ArticleStatus.PUBLISHED


def test_an_import_does_not_write_into_the_trash_even_when_a_read_publishes(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    """The import's refusal rolls back whole, although the 4xx path publishes a due
    scheduled article first (that read commits only its own flip)."""
    article = create(client, admin, title="Trashed one")
    assert remove(client, f"/api/v1/articles/{article['id']}", headers=admin).status_code == 204
    with time_machine.travel(utcnow(), tick=False) as clock:
        when = (utcnow() + timedelta(seconds=5)).isoformat()
        create(client, admin, title="Due", status="scheduled", published_at=when)
        clock.shift(timedelta(seconds=6))
        post = "---\ntitle: Trashed one\ndate: 2026-01-01\n---\n<p>OVERWRITTEN</p>"
        imported = client.post("/api/v1/articles/import", json={"markdown": post}, headers=admin)
        assert imported.status_code == 422
        assert "trash" in imported.json["errors"]["title"][0]
    db.session.expire_all()
    assert db.session.get(Article, article["id"]).body_html == "<p>zebra</p>"


def test_a_page_cites_only_what_is_public_now(client: FlaskClient, admin: dict[str, str]) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        later = (utcnow() + timedelta(hours=3)).isoformat()
        soon_gone = (utcnow() + timedelta(seconds=10)).isoformat()
        hidden = create(client, admin, title="Not yet", published_at=later)
        going = create(client, admin, title="Going", unpublish_at=soon_gone)
        page = client.post(
            "/api/v1/pages",
            json={"title": "Topic", "type": "Approach", "article_ids": [hidden["id"], going["id"]]},
            headers=admin,
        )
        assert page.status_code == 201, page.json
        url = f"/api/v1/pages/{page.json['id']}"
        before = client.get(url)
        assert [a["id"] for a in before.json["cited_articles"]] == [going["id"]]
        assert before.cache_control.max_age == 10  # not past the takedown it shows
        assert client.get("/api/v1/pages").cache_control.s_maxage == 10
        clock.shift(timedelta(seconds=10))
        after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200  # its validator moved at that instant
        assert after.json["cited_articles"] == []
