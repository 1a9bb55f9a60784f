"""The queries frontends make on every page view: filters, sorts, fields, includes."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from cms.models import ArticleStatus
from cms.services.identifiers import resource_id_for
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    PublicationFactory,
    TagFactory,
)


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json
    return [article["id"] for article in response.json["data"]]


def test_home_page(client: FlaskClient) -> None:
    author = AuthorFactory(bio="Covers AI", avatar_url="https://img.example/a.png")
    category, tag, image = CategoryFactory(), TagFactory(), ImageFactory()
    articles = [
        ArticleFactory(authors=[author], category=category, tags=[tag], cover_image=image)
        for _ in range(25)
    ]
    ArticleFactory(status=ArticleStatus.DRAFT, published_at=None)

    response = client.get("/api/v1/articles?include=authors,category,tags,cover_image")
    body = response.json

    assert ids(response) == [a.id for a in reversed(articles)][:20]
    first = body["data"][0]
    assert first["authors"][0]["bio"] == "Covers AI"
    assert first["authors"][0]["avatar_url"] == "https://img.example/a.png"
    assert first["category"]["description"] is None
    assert first["cover_image"]["srcset"] == []
    assert first["cover_image"]["alt"] == "A picture"
    assert body["meta"]["total"] == 25


def test_category_tag_author_and_publication_pages(client: FlaskClient) -> None:
    ai, world = CategoryFactory(slug="ai"), CategoryFactory(slug="world")
    llm, chips = TagFactory(slug="llm"), TagFactory(slug="chips")
    ada = AuthorFactory(slug="ada")
    venue = PublicationFactory(slug="venue")
    both = ArticleFactory(category=ai, tags=[llm, chips], authors=[ada], publication=venue)
    only_llm = ArticleFactory(category=ai, tags=[llm])
    elsewhere = ArticleFactory(category=world, tags=[chips])

    assert ids(client.get("/api/v1/articles?category=ai")) == [only_llm.id, both.id]
    assert ids(client.get("/api/v1/articles?tag=llm")) == [only_llm.id, both.id]
    assert ids(client.get("/api/v1/articles?tag=llm&tag=chips")) == [
        elsewhere.id,
        only_llm.id,
        both.id,
    ]
    assert ids(client.get("/api/v1/articles?tag=llm&tag=chips&tag_match=all")) == [both.id]
    assert ids(client.get("/api/v1/articles?author=ada")) == [both.id]
    assert ids(client.get("/api/v1/articles?publication=venue")) == [both.id]
    assert ids(client.get("/api/v1/articles?category=nope")) == []


def test_date_importance_and_content_type_filters(client: FlaskClient) -> None:
    day = datetime(2025, 7, 1, tzinfo=UTC)
    old = ArticleFactory(published_at=day - timedelta(days=1), importance=90, content_type="paper")
    new = ArticleFactory(published_at=day, importance=10, content_type="news article")

    assert ids(client.get("/api/v1/articles?published_after=2025-07-01T00:00:00Z")) == [new.id]
    assert ids(client.get("/api/v1/articles?published_before=2025-07-01T00:00:00Z")) == [old.id]
    assert ids(client.get("/api/v1/articles?min_importance=50")) == [old.id]
    assert ids(client.get("/api/v1/articles?content_type=paper")) == [old.id]


def test_resource_filters_find_one_aggregated_item(client: FlaskClient) -> None:
    source = "https://example.org/2025/07/01/story"
    aggregated = ArticleFactory(source_url=source, resource_id=resource_id_for(source))
    own = ArticleFactory()

    assert ids(client.get(f"/api/v1/articles?resource_id={resource_id_for(source)}")) == [
        aggregated.id
    ]
    assert ids(client.get(f"/api/v1/articles?stable_id={own.stable_id}")) == [own.id]
    assert ids(client.get("/api/v1/articles?aggregated=true")) == [aggregated.id]
    assert ids(client.get("/api/v1/articles?aggregated=false")) == [own.id]
    bad = client.get("/api/v1/articles?resource_id=XYZ&stable_id=abc")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"resource_id", "stable_id"}


def test_min_credibility_uses_the_effective_rating(client: FlaskClient) -> None:
    good, low = PublicationFactory(credibility=4), PublicationFactory(credibility=2)
    inherited = ArticleFactory(publication=good)
    overridden_down = ArticleFactory(publication=good, credibility_override=1)
    overridden_up = ArticleFactory(publication=low, credibility_override=5)
    ArticleFactory(publication=low)
    ArticleFactory()  # no rating at all

    assert ids(client.get("/api/v1/articles?min_credibility=4")) == [overridden_up.id, inherited.id]
    assert overridden_down.id not in ids(client.get("/api/v1/articles?min_credibility=2"))


def test_multi_key_sort_with_id_breaking_ties(client: FlaskClient) -> None:
    a = ArticleFactory(importance=50, title="B")
    b = ArticleFactory(importance=50, title="A")
    c = ArticleFactory(importance=80, title="C")
    d = ArticleFactory(importance=None, title="D")
    e = ArticleFactory(importance=50, title="A")

    # Ties on every key fall back to id, in the direction of the last key; NULLs last.
    assert ids(client.get("/api/v1/articles?sort=-importance,title")) == [
        c.id,
        b.id,
        e.id,
        a.id,
        d.id,
    ]
    assert ids(client.get("/api/v1/articles?sort=importance")) == [a.id, b.id, e.id, c.id, d.id]


@pytest.mark.parametrize(
    "query",
    [
        "sort=colour",
        "sort=-body_html",
        "fields=password",
        "include=users",
        "tag_match=some",
        "min_credibility=9",
    ],
)
def test_values_outside_the_allow_lists_are_422(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/articles?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    # Errors of list items are dotted paths: `include.0`.
    assert {key.split(".")[0] for key in response.json["errors"]} == {query.split("=")[0]}


def test_include_on_one_article(client: FlaskClient) -> None:
    publication = PublicationFactory(credibility=5, peer_reviewed=True)
    article = ArticleFactory(slug="deep", publication=publication)
    PageFactory(cited_articles=[article], summary="Why it matters")

    body = client.get("/api/v1/articles/slug/deep?include=publication,cited_by").json
    assert {"title", "body_html", "authors"} <= set(body)
    assert body["publication"]["credibility_label"] == "Gold standard"
    assert body["publication"]["peer_reviewed"] is True
    assert body["cited_by"][0]["summary"] == "Why it matters"


def test_one_article_is_whole_sparse_fields_are_for_lists(client: FlaskClient) -> None:
    ArticleFactory(slug="whole")
    response = client.get("/api/v1/articles/slug/whole?fields=title")
    assert (response.status_code, response.json["code"]) == (400, "unknown_parameter")


def test_count_false_skips_the_total(client: FlaskClient) -> None:
    ArticleFactory()
    assert client.get("/api/v1/articles?count=false").json["meta"]["total"] is None


def test_filters_never_reveal_drafts_to_anonymous_readers(client: FlaskClient) -> None:
    category = CategoryFactory(slug="secret-beat")
    ArticleFactory(status=ArticleStatus.DRAFT, category=category, importance=99)
    assert ids(client.get("/api/v1/articles?category=secret-beat")) == []
    assert ids(client.get("/api/v1/articles?sort=-importance&min_importance=90")) == []
