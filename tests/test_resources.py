"""CRUD for the resources beside articles, one contract for all of them."""

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import edit, remove
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PublicationFactory,
    TagFactory,
)

# resource path, a valid create payload, a change, and the field that change shows in
RESOURCES = {
    "tags": ({"name": "Machine Learning"}, {"description": "ML"}, "description"),
    "categories": ({"name": "World News"}, {"name": "World"}, "name"),
    "authors": ({"name": "Rebecca Bellan", "bio": "Reporter"}, {"bio": "Senior"}, "bio"),
    "publications": (
        {"name": "TechCrunch", "url": "https://www.techcrunch.com/", "credibility": 3},
        {"credibility": 4},
        "credibility",
    ),
    "images": (
        {
            "url": "https://images.example/p.jpg?w=400&h=200&fit=crop",
            "width": 400,
            "height": 200,
            "alt": "A robot",
        },
        {"alt": "A friendly robot"},
        "alt",
    ),
    "pages": (
        {"title": "Open Source AI Safety", "type": "Approach", "quality": 62},
        {"quality": 70.5},
        "quality",
    ),
}


@pytest.mark.parametrize("path", RESOURCES)
def test_crud_round_trip(client: FlaskClient, auth: dict[str, str], path: str) -> None:
    create, change, field = RESOURCES[path]
    created = client.post(f"/api/v1/{path}", json=create, headers=auth)
    assert created.status_code == 201, created.json
    item = created.json
    assert created.headers["Location"] == f"/api/v1/{path}/{item['id']}"
    # With a token: the image library is not public (issue 10).
    assert client.get(created.headers["Location"], headers=auth).json == item

    listed = client.get(f"/api/v1/{path}", headers=auth).json
    assert [i["id"] for i in listed["data"]] == [item["id"]]
    assert listed["meta"]["total"] == 1

    patched = edit(client, f"/api/v1/{path}/{item['id']}", json=change, headers=auth)
    assert patched.status_code == 200, patched.json
    assert patched.json[field] == change[field]

    assert remove(client, f"/api/v1/{path}/{item['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/{path}/{item['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize("path", RESOURCES)
def test_writes_need_a_token(client: FlaskClient, path: str) -> None:
    create, _, _ = RESOURCES[path]
    assert client.post(f"/api/v1/{path}", json=create).status_code == 401


@pytest.mark.parametrize("path", RESOURCES)
def test_read_only_fields_are_refused(client: FlaskClient, auth: dict[str, str], path: str) -> None:
    create, _, _ = RESOURCES[path]
    response = client.post(f"/api/v1/{path}", json={**create, "id": 5}, headers=auth)
    assert response.status_code == 422
    assert response.json["errors"] == {"id": ["Unknown field."]}


def test_publication_domain_and_label_are_derived(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    create, _, _ = RESOURCES["publications"]
    publication = client.post("/api/v1/publications", json=create, headers=auth).json
    assert publication["slug"] == "techcrunch"
    assert publication["domain"] == "techcrunch.com"
    assert publication["credibility_label"] == "Good"
    assert publication["peer_reviewed"] is False


@pytest.mark.parametrize("credibility", [0, 6, "3", None])
def test_publication_credibility_must_be_1_to_5(
    client: FlaskClient, auth: dict[str, str], credibility: Any
) -> None:
    response = client.post(
        "/api/v1/publications", headers=auth, json={"name": "X", "credibility": credibility}
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["credibility"]


def test_page_cites_articles(client: FlaskClient, auth: dict[str, str]) -> None:
    article = ArticleFactory(title="Cited")
    page = client.post(
        "/api/v1/pages",
        headers=auth,
        json={
            "title": "Open Source AI Safety",
            "type": "Approach",
            "quality": 62,
            "article_ids": [article.id],
            "body_html": "<p>ok</p><script>x()</script>",
        },
    ).json
    assert page["slug"] == "open-source-ai-safety"
    assert page["cited_articles"] == [{"id": article.id, "slug": article.slug, "title": "Cited"}]
    assert page["body_html"] == "<p>ok</p>"
    cited_by = client.get(f"/api/v1/articles/{article.id}").json["cited_by"]
    assert cited_by == [
        {
            "id": page["id"],
            "slug": page["slug"],
            "title": page["title"],
            "type": "Approach",
            "quality": 62.0,
        }
    ]


def test_page_with_unknown_article_is_422(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/pages", headers=auth, json={"title": "P", "type": "Risk", "article_ids": [404]}
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"article_ids": ["No articles with id 404."]}
    assert client.get("/api/v1/pages").json["meta"]["total"] == 0


def test_duplicate_slug_is_409(client: FlaskClient, auth: dict[str, str]) -> None:
    TagFactory(slug="ai")
    response = client.post("/api/v1/tags", json={"name": "AI", "slug": "ai"}, headers=auth)
    assert response.status_code == 409
    assert response.json["errors"] == {"slug": ["This value is already in use."]}


def test_generated_slugs_avoid_collisions(client: FlaskClient, auth: dict[str, str]) -> None:
    TagFactory(slug="ai")
    assert client.post("/api/v1/tags", json={"name": "AI"}, headers=auth).json["slug"] == "ai-2"


IN_USE: dict[str, Callable[[], tuple[Any, dict[str, Any]]]] = {
    "categories": lambda: (c := CategoryFactory(), {"category": c}),
    "images": lambda: (i := ImageFactory(), {"cover_image": i}),
    "publications": lambda: (p := PublicationFactory(), {"publication": p}),
    "authors": lambda: (a := AuthorFactory(), {"authors": [a]}),
}


@pytest.mark.parametrize("path", IN_USE)
def test_deleting_what_articles_use_is_409(
    client: FlaskClient, auth: dict[str, str], path: str
) -> None:
    item, relation = IN_USE[path]()
    article = ArticleFactory(**relation)
    response = remove(client, f"/api/v1/{path}/{item.id}", headers=auth)
    assert response.status_code == 409
    assert response.json["code"] == "in_use"
    assert client.get(f"/api/v1/{path}/{item.id}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/articles/{article.id}").status_code == 200


def test_deleting_a_tag_removes_it_from_articles(client: FlaskClient, auth: dict[str, str]) -> None:
    keep, drop = TagFactory(), TagFactory()
    article = ArticleFactory(tags=[drop, keep])
    assert remove(client, f"/api/v1/tags/{drop.id}", headers=auth).status_code == 204
    tags = client.get(f"/api/v1/articles/{article.id}").json["tags"]
    assert [t["id"] for t in tags] == [keep.id]
