"""What each role sees and may change, beyond the generated matrix."""

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from cms.auth.permissions import authorize_article_write, byline_owed
from cms.auth.principal import Principal
from cms.extensions import db
from cms.models import Article, ArticleStatus, Author, Role
from tests.conftest import edit
from tests.factories import ArticleFactory, AuthorFactory, TagFactory

PASSWORD = "correct horse battery"


def byline_of(user: Any) -> Author:
    return AuthorFactory(user_id=user.id)


def test_contributor_sees_own_drafts_but_not_others(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    user, headers = login(Role.CONTRIBUTOR)
    mine = ArticleFactory(status=ArticleStatus.DRAFT, authors=[byline_of(user)])
    theirs = ArticleFactory(status=ArticleStatus.DRAFT, authors=[AuthorFactory()])
    published = ArticleFactory()

    listed = {a["id"] for a in client.get("/api/v1/articles", headers=headers).json["data"]}
    assert listed == {mine.id, published.id}
    drafts = client.get("/api/v1/articles?status=draft", headers=headers).json["data"]
    assert [a["id"] for a in drafts] == [mine.id]
    assert client.get(f"/api/v1/articles/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/articles/slug/{theirs.slug}", headers=headers).status_code == 404


def test_editor_sees_every_draft(client: FlaskClient, login: Callable[..., Any]) -> None:
    _, headers = login(Role.EDITOR)
    draft = ArticleFactory(status=ArticleStatus.DRAFT)
    drafts = client.get("/api/v1/articles?status=draft", headers=headers).json["data"]
    assert [a["id"] for a in drafts] == [draft.id]


def test_contributor_creates_credited_drafts_only(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    user, headers = login(Role.CONTRIBUTOR)
    created = client.post("/api/v1/articles", json={"title": "Mine"}, headers=headers)
    assert created.status_code == 201
    assert created.json["status"] == "draft"
    assert [a["name"] for a in created.json["authors"]] == [user.display_name]

    published = client.post(
        "/api/v1/articles", headers=headers, json={"title": "Go live", "status": "published"}
    )
    assert published.status_code == 403
    publish = edit(
        client,
        f"/api/v1/articles/{created.json['id']}",
        headers=headers,
        json={"status": "published"},
    )
    assert publish.status_code == 403
    takedown = edit(
        client,
        f"/api/v1/articles/{created.json['id']}",
        headers=headers,
        json={"unpublish_at": "2030-01-01T00:00:00Z"},
    )
    assert takedown.status_code == 403  # when it comes down is the publisher's call
    stored = db.session.get(Article, created.json["id"])
    assert stored.status is ArticleStatus.DRAFT
    assert stored.unpublish_at is None


def test_authorization_writes_no_byline_only_the_first_create_does(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    """Authorization only reads: a refused write leaves no byline behind (not even in
    the session); the first article a user creates makes theirs, from their name."""
    user, headers = login(Role.CONTRIBUTOR)
    taken = AuthorFactory(slug=user.display_name)  # the byline's slug goes to the next one
    bylines = select(Author).where(Author.user_id == user.id)
    for refused in (
        {"title": "x", "importance": 5},  # an editor-only field
        {"title": "x", "author_ids": [taken.id]},  # without themselves
    ):
        response = client.post("/api/v1/articles", json=refused, headers=headers)
        assert response.status_code == 403
        assert db.session.scalars(bylines).all() == []
        assert db.session.scalar(select(func.count()).select_from(Author)) == 1

    created = client.post("/api/v1/articles", json={"title": "Mine"}, headers=headers)
    assert created.status_code == 201
    byline = db.session.scalars(bylines).one()
    assert (byline.name, byline.slug) == (user.display_name, f"{user.display_name}-2")
    assert [a["id"] for a in created.json["authors"]] == [byline.id]


def test_authorize_article_write_only_reads(client: FlaskClient, login: Callable[..., Any]) -> None:
    """Refusing, or allowing a first create, adds nothing to the session: the write
    makes the byline (byline_owed), not the check."""
    user, _ = login(Role.AUTHOR)
    other = AuthorFactory()
    principal = Principal(role=Role.AUTHOR, user_id=user.id)
    with pytest.raises(HTTPException) as refused:
        authorize_article_write(db.session, principal, None, {"author_ids": [other.id]})
    assert refused.value.code == 403
    allowed = authorize_article_write(db.session, principal, None, {"title": "x"})
    assert allowed == {"title": "x"}
    assert byline_owed(principal, allowed) == user.id
    assert not db.session.new
    assert not db.session.dirty
    assert db.session.scalars(select(Author)).all() == [other]


def test_author_publishes_own_article(client: FlaskClient, login: Callable[..., Any]) -> None:
    _, headers = login(Role.AUTHOR)
    created = client.post(
        "/api/v1/articles", headers=headers, json={"title": "Live", "status": "published"}
    )
    assert created.status_code == 201
    assert created.json["status"] == "published"


def test_author_cannot_hand_article_to_someone_else(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    user, headers = login(Role.AUTHOR)
    article = ArticleFactory(authors=[byline_of(user)])
    stranger = AuthorFactory()
    response = edit(
        client,
        f"/api/v1/articles/{article.id}",
        headers=headers,
        json={"author_ids": [stranger.id]},
    )
    assert response.status_code == 403
    authors = client.get(f"/api/v1/articles/{article.id}").json["authors"]
    assert [a["id"] for a in authors] == [article.author_links[0].author_id]


def test_machine_below_editor_cannot_write_articles(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    _, admin = login(Role.ADMIN)
    secret = client.post(
        "/api/v1/tokens", headers=admin, json={"name": "bot", "role": "author"}
    ).json["token"]
    response = client.post(
        "/api/v1/articles", json={"title": "x"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 403


class TestMassAssignment:
    def test_author_ownership_cannot_be_set_through_authors(
        self, client: FlaskClient, login: Callable[..., Any]
    ) -> None:
        user, headers = login(Role.EDITOR)
        author = AuthorFactory()
        response = edit(
            client, f"/api/v1/authors/{author.id}", headers=headers, json={"user_id": user.id}
        )
        assert response.status_code == 422
        assert response.json["errors"] == {"user_id": ["Unknown field."]}
        db.session.refresh(author)
        assert author.user_id is None

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("id", 99),
            ("created_at", "2020-01-01T00:00:00Z"),
            ("password_hash", "x"),
            ("token_generation", 0),
        ],
    )
    def test_users_refuse_server_fields(
        self, client: FlaskClient, login: Callable[..., Any], field: str, value: Any
    ) -> None:
        admin, headers = login(Role.ADMIN)
        response = edit(client, f"/api/v1/users/{admin.id}", headers=headers, json={field: value})
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/api/v1/articles", {"title": "x", "role": "admin"}),
            (
                "/api/v1/auth/password",
                {"current_password": PASSWORD, "new_password": "y" * 12, "role": "admin"},
            ),
        ],
    )
    def test_role_cannot_ride_along(
        self, client: FlaskClient, login: Callable[..., Any], path: str, body: dict[str, Any]
    ) -> None:
        user, headers = login(Role.CONTRIBUTOR)
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422
        assert response.json["errors"] == {"role": ["Unknown field."]}
        db.session.refresh(user)
        assert user.role is Role.CONTRIBUTOR
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200

    def test_only_admins_change_roles(self, client: FlaskClient, login: Callable[..., Any]) -> None:
        editor, headers = login(Role.EDITOR)
        response = edit(
            client, f"/api/v1/users/{editor.id}", headers=headers, json={"role": "admin"}
        )
        assert response.status_code == 403
        db.session.refresh(editor)
        assert editor.role is Role.EDITOR


class TestPrivateFields:
    def test_users_and_emails_are_admin_only(
        self, client: FlaskClient, login: Callable[..., Any]
    ) -> None:
        _, editor = login(Role.EDITOR)
        assert client.get("/api/v1/users").status_code == 401
        assert client.get("/api/v1/users", headers=editor).status_code == 403
        _, admin = login(Role.ADMIN)
        users = client.get("/api/v1/users", headers=admin).json["data"]
        assert {"email", "role"} <= set(users[0])
        assert not {"password", "password_hash", "token_generation"} & set(users[0])

    def test_public_author_has_no_login_details(
        self, client: FlaskClient, make_user: Callable[..., Any]
    ) -> None:
        author = byline_of(make_user())
        public = client.get(f"/api/v1/authors/{author.id}").json
        assert not {"user_id", "email", "user"} & set(public)

    def test_admin_links_a_byline(self, client: FlaskClient, login: Callable[..., Any]) -> None:
        user, _ = login(Role.AUTHOR)
        _, admin = login(Role.ADMIN)
        author = AuthorFactory()
        response = edit(
            client, f"/api/v1/users/{user.id}", headers=admin, json={"author_id": author.id}
        )
        assert response.status_code == 200
        assert response.json["author_id"] == author.id


def test_tags_are_editor_taxonomy(client: FlaskClient, login: Callable[..., Any]) -> None:
    _, author = login(Role.AUTHOR)
    tag = TagFactory()
    assert (
        edit(client, f"/api/v1/tags/{tag.id}", json={"name": "x"}, headers=author).status_code
        == 403
    )
