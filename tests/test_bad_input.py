"""Bad input gets a problem+json 4xx with field errors, and the database is unchanged."""

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import edit
from tests.factories import ArticleFactory, CategoryFactory

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.json
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/problems/{code.replace('_', '-')}")
    assert body["title"]
    assert body["detail"]
    return body


@pytest.fixture
def unchanged(request: pytest.FixtureRequest, row_counts: Callable[[], dict[str, int]]) -> Any:
    for login in ("auth", "admin"):  # logging in creates a user: do that first
        if login in request.fixturenames:
            request.getfixturevalue(login)
    before = row_counts()
    yield
    assert row_counts() == before


@pytest.mark.usefixtures("unchanged")
def test_missing_required_field(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/articles", json={"excerpt": "no title"}, headers=auth)
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == {"title": ["Missing data for required field."]}


@pytest.mark.usefixtures("unchanged")
def test_wrong_types(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {"title": 42, "importance": "high", "tag_ids": "1,2", "published_at": "yesterday"}
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert set(body["errors"]) == {"title", "importance", "tag_ids", "published_at"}


@pytest.mark.usefixtures("unchanged")
def test_out_of_range_values(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {
        "title": "T",
        "importance": 101,
        "credibility_override": 0,
        "content_type": "rumour",
        "source_url": "not a url",
    }
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert set(body["errors"]) == {
        "importance",
        "credibility_override",
        "content_type",
        "source_url",
    }


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "field", ["id", "resource_id", "created_at", "stable_id", "version", "authors", "credibility"]
)
def test_unknown_and_read_only_fields_are_refused(
    client: FlaskClient, auth: dict[str, str], field: str
) -> None:
    payload = {"title": "Mass assignment", field: "x"}
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert body["errors"] == {field: ["Unknown field."]}


def test_patch_cannot_set_read_only_fields(
    client: FlaskClient, auth: dict[str, str], row_counts: Callable[[], dict[str, int]]
) -> None:
    article = ArticleFactory(source_url="https://a.example/x", resource_id="0123456789abcdef")
    response = edit(
        client,
        f"/api/v1/articles/{article.id}",
        headers=auth,
        json={"title": "New", "resource_id": "ffffffffffffffff"},
    )
    assert_problem(response, 422, "validation_error")
    after = client.get(f"/api/v1/articles/{article.id}").json
    assert (after["title"], after["resource_id"]) == (article.title, "0123456789abcdef")


def test_duplicate_slug_is_a_conflict(
    client: FlaskClient, auth: dict[str, str], row_counts: Callable[[], dict[str, int]]
) -> None:
    ArticleFactory(slug="taken")
    before = row_counts()
    response = client.post("/api/v1/articles", json={"title": "T", "slug": "taken"}, headers=auth)
    body = assert_problem(response, 409, "conflict")
    assert body["errors"] == {"slug": ["This value is already in use."]}
    assert row_counts() == before


def test_duplicate_source_url_is_a_conflict(
    client: FlaskClient, auth: dict[str, str], row_counts: Callable[[], dict[str, int]]
) -> None:
    url = "https://news.example/story"
    assert (
        client.post(
            "/api/v1/articles", json={"title": "A", "source_url": url}, headers=auth
        ).status_code
        == 201
    )
    before = row_counts()
    response = client.post("/api/v1/articles", json={"title": "B", "source_url": url}, headers=auth)
    body = assert_problem(response, 409, "conflict")
    assert body["errors"] == {"resource_id": ["This value is already in use."]}
    assert row_counts() == before


def test_dangling_references(
    client: FlaskClient, auth: dict[str, str], row_counts: Callable[[], dict[str, int]]
) -> None:
    category = CategoryFactory()
    before = row_counts()
    payload = {
        "title": "T",
        "category_id": category.id + 1000,
        "author_ids": [999_999],
        "tag_ids": [5, 5],
        "cover_image_id": 424242,
        "publication_id": 7,
    }
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert body["errors"] == {
        "category_id": [f"No categories with id {category.id + 1000}."],
        "author_ids": ["No authors with id 999999."],
        "tag_ids": ["Each id may appear only once."],
        "cover_image_id": ["No images with id 424242."],
        "publication_id": ["No publications with id 7."],
    }
    assert row_counts() == before


@pytest.mark.usefixtures("unchanged")
def test_body_over_the_request_cap_is_413(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {"title": "Huge", "body_html": "<p>" + "x" * (3 * 1024 * 1024) + "</p>"}
    assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 413, "payload_too_large"
    )


@pytest.mark.usefixtures("unchanged")
def test_body_over_the_field_cap_is_422(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {"title": "Long", "body_markdown": "y" * 1_000_001}
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert list(body["errors"]) == ["body_markdown"]


@pytest.mark.usefixtures("unchanged")
def test_malformed_json(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/articles",
        data='{"title": "unterminated',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")


@pytest.mark.usefixtures("unchanged")
def test_non_json_body_is_415(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/articles",
        data="title=T",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.usefixtures("unchanged")
def test_json_that_is_not_an_object(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/articles", json=["title"], headers=auth)
    assert_problem(response, 422, "validation_error")


@pytest.mark.usefixtures("unchanged")
def test_both_body_formats_at_once(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {"title": "T", "body_html": "<p>a</p>", "body_markdown": "a"}
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert "body_markdown" in body["errors"]


@pytest.mark.usefixtures("unchanged")
def test_scheduled_needs_a_future_date(client: FlaskClient, auth: dict[str, str]) -> None:
    payload = {"title": "T", "status": "scheduled", "published_at": "2020-01-01T00:00:00Z"}
    body = assert_problem(
        client.post("/api/v1/articles", json=payload, headers=auth), 422, "validation_error"
    )
    assert list(body["errors"]) == ["published_at"]


@pytest.mark.usefixtures("unchanged")
def test_unknown_query_parameter_is_400(client: FlaskClient) -> None:
    body = assert_problem(
        client.get("/api/v1/articles?colour=red&sort_by=x"), 400, "unknown_parameter"
    )
    assert set(body["errors"]) == {"colour", "sort_by"}


@pytest.mark.usefixtures("unchanged")
def test_bad_query_value_is_422(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/articles?page_size=1000"), 422, "validation_error")
    assert list(body["errors"]) == ["page_size"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("written", ["%098", "8%20", "1_0", "%D9%A8", "+8", "8.0"])
def test_a_query_integer_is_plain_digits(
    client: FlaskClient, admin: dict[str, str], written: str
) -> None:
    # Python's int() would read each of these as a number; the spec's integer does not.
    for path in ("/api/v1/articles", "/api/v1/tags", "/api/v1/articles/trash"):
        response = client.get(f"{path}?page_size={written}", headers=admin)
        assert list(assert_problem(response, 422, "validation_error")["errors"]) == ["page_size"]
    assert client.get("/api/v1/tags?page_size=8&page=1").status_code == 200


def test_failed_patch_changes_nothing(client: FlaskClient, auth: dict[str, str]) -> None:
    article = ArticleFactory(title="Before")
    response = edit(
        client,
        f"/api/v1/articles/{article.id}",
        headers=auth,
        json={"title": "After", "category_id": 999_999},
    )
    assert_problem(response, 422, "validation_error")
    assert client.get(f"/api/v1/articles/{article.id}").json["title"] == "Before"


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/articles", {"title": "A\x00B"}, "title"),
        ("/api/v1/articles", {"title": "ok", "key_points": ["fine", "bad\x00"]}, "key_points.1"),
        ("/api/v1/articles?q=%00", None, "q"),
        ("/api/v1/articles/slug/a%00b", None, "path:slug"),
    ],
)
def test_nul_characters_are_refused_everywhere(
    client: FlaskClient, auth: dict[str, str], url: str, body: Any, field: str
) -> None:
    response = client.open(url, method="POST" if body else "GET", json=body, headers=auth)
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == {field: ["Contains a NUL character."]}


def test_the_last_page_number_is_an_empty_page(client: FlaskClient, admin: dict[str, str]) -> None:
    """The largest page number times the largest page size is past PostgreSQL's integer
    range: an OFFSET it cannot bind was a 500 there."""
    ArticleFactory()
    last = "page=2147483647&page_size=100"
    for url, headers in [
        (f"/api/v1/articles?{last}", {}),
        (f"/api/v1/articles?{last}&q=body", {}),
        (f"/api/v1/articles?{last}", admin),
        (f"/api/v1/tags?{last}", {}),
        (f"/api/v1/stories?{last}", {}),
        (f"/api/v1/articles/trash?{last}", admin),
    ]:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.json)
        assert response.json["data"] == [], url
