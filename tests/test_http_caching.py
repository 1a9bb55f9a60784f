"""ETags, 304s, Cache-Control, Last-Modified, and no lost updates between editors."""

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import edit
from tests.factories import ArticleFactory, AuthorFactory, TagFactory


def test_lists_and_items_revalidate_with_304(client: FlaskClient) -> None:
    article = ArticleFactory(slug="cached")
    for url in (
        "/api/v1/articles",
        f"/api/v1/articles/{article.id}",
        "/api/v1/articles/slug/cached",
        "/api/v1/tags",
        "/api/v1/openapi.json",
    ):
        first = client.get(url)
        etag = first.headers["ETag"]
        assert etag.startswith('"'), url  # strong
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.data == b""
        assert again.headers["ETag"] == etag


def test_if_match_on_a_read_holds_for_star_and_the_current_tag(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    article = ArticleFactory(slug="matched")
    # Views that name their own ETag, one hashed from the body, one behind a role.
    for url in ("/api/v1/articles/slug/matched", "/api/v1/openapi.json", "/api/v1/jobs"):
        current = client.get(url, headers=admin).headers["ETag"]
        for if_match in ("*", current, f'"stale", {current}'):
            response = client.get(url, headers={**admin, "If-Match": if_match})
            assert (response.status_code, response.headers["ETag"]) == (200, current), url
        refused = client.get(url, headers={**admin, "If-Match": '"stale"'})
        assert (refused.status_code, refused.json["code"]) == (412, "precondition_failed"), url
        assert "data" not in refused.json
    weak = f"W/{client.get(f'/api/v1/articles/{article.id}').headers['ETag']}"
    assert client.get(f"/api/v1/articles/{article.id}", headers={"If-Match": weak}).status_code == (
        412  # If-Match compares strongly: a weak tag never matches
    )


def test_a_write_changes_the_list_etag(client: FlaskClient, auth: dict[str, str]) -> None:
    ArticleFactory()
    before = client.get("/api/v1/articles").headers["ETag"]
    client.post("/api/v1/tags", json={"name": "Fresh"}, headers=auth)
    assert client.get("/api/v1/articles").headers["ETag"] != before


def test_renaming_an_author_changes_the_article_etag(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    author = AuthorFactory()
    article = ArticleFactory(authors=[author])
    url = f"/api/v1/articles/{article.id}"
    before = client.get(url).headers["ETag"]
    edit(client, f"/api/v1/authors/{author.id}", json={"name": "Renamed"}, headers=auth)
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.json["authors"][0]["name"] == "Renamed"


def test_anonymous_responses_are_cdn_cacheable(client: FlaskClient) -> None:
    article = ArticleFactory()
    response = client.get(f"/api/v1/articles/{article.id}")
    assert response.cache_control.public
    assert response.cache_control.max_age == 60
    assert response.cache_control.s_maxage == 300
    assert "Authorization" in response.vary
    assert response.last_modified is not None


def test_authenticated_responses_are_private(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/articles", headers=auth)
    assert response.cache_control.private
    assert not response.cache_control.public


def test_the_list_etag_depends_on_who_asks(client: FlaskClient, auth: dict[str, str]) -> None:
    ArticleFactory()
    anonymous = client.get("/api/v1/articles").headers["ETag"]
    editor = client.get("/api/v1/articles", headers=auth).headers["ETag"]
    assert anonymous != editor


class TestLostUpdates:
    def test_write_without_if_match_is_428(self, client: FlaskClient, auth: dict[str, str]) -> None:
        article = ArticleFactory(title="Keep")
        for method in ("patch", "delete"):
            response = client.open(
                f"/api/v1/articles/{article.id}",
                method=method.upper(),
                json={"title": "x"},
                headers=auth,
            )
            assert response.status_code == 428
            assert response.json["code"] == "precondition_required"
        assert client.get(f"/api/v1/articles/{article.id}").json["title"] == "Keep"

    def test_two_editors_with_the_same_etag(
        self, client: FlaskClient, auth: dict[str, str]
    ) -> None:
        article = ArticleFactory(title="Original")
        url = f"/api/v1/articles/{article.id}"
        etag = client.get(url).headers["ETag"]

        first = client.patch(url, json={"title": "First"}, headers={**auth, "If-Match": etag})
        second = client.patch(url, json={"title": "Second"}, headers={**auth, "If-Match": etag})

        assert first.status_code == 200
        assert first.headers["ETag"] != etag
        assert second.status_code == 412
        assert second.json["code"] == "precondition_failed"
        assert client.get(url).json["title"] == "First"

    def test_stale_delete_is_412(self, client: FlaskClient, auth: dict[str, str]) -> None:
        tag = TagFactory()
        url = f"/api/v1/tags/{tag.id}"
        etag = client.get(url).headers["ETag"]
        edit(client, url, json={"name": "Changed"}, headers=auth)
        response = client.delete(url, headers={**auth, "If-Match": etag})
        assert response.status_code == 412
        assert client.get(url).status_code == 200

    def test_the_etag_of_a_write_response_is_current(
        self, client: FlaskClient, auth: dict[str, str]
    ) -> None:
        article = ArticleFactory()
        url = f"/api/v1/articles/{article.id}"
        response: Any = edit(client, url, json={"title": "One"}, headers=auth)
        chained = client.patch(
            url, json={"title": "Two"}, headers={**auth, "If-Match": response.headers["ETag"]}
        )
        assert chained.status_code == 200
