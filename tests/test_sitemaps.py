"""Issue 15: sitemaps. The index and article pages validate against sitemaps.org's
schemas, the Google News sitemap against the news schema (tests/schemas/README.md says
where each came from); pages are id ranges, so a deep page costs what the first does."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import xmlschema
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from cms.models import ArticleStatus, utcnow
from tests.conftest import remove
from tests.factories import ArticleFactory

SCHEMAS = Path(__file__).parent / "schemas"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
SM = f"{{{SITEMAP_NS}}}"
NEWS = f"{{{NEWS_NS}}}"
INDEX = "/api/v1/sitemaps/index.xml"
NEWS_SITEMAP = "/api/v1/sitemaps/news.xml"


def articles_page(number: int) -> str:
    return f"/api/v1/sitemaps/articles.xml?page={number}"


@pytest.fixture(scope="module")
def schemas() -> dict[str, xmlschema.XMLSchema]:
    return {
        "index": xmlschema.XMLSchema(SCHEMAS / "siteindex.xsd"),
        "urlset": xmlschema.XMLSchema(SCHEMAS / "sitemap.xsd"),
        "news": xmlschema.XMLSchema(
            SCHEMAS / "sitemap.xsd", locations=[(NEWS_NS, str(SCHEMAS / "sitemap-news.xsd"))]
        ),
    }


@pytest.fixture(autouse=True)
def site(app: Flask) -> Iterator[None]:
    keys = ("SITE_URL", "PUBLIC_BASE_URL", "SITE_NAME", "SITEMAP_PAGE_SIZE")
    saved = {key: app.config[key] for key in keys}
    app.config.update(
        SITE_URL="https://news.example",
        PUBLIC_BASE_URL="https://cms.news.example",
        SITE_NAME="The Example News",
        SITEMAP_PAGE_SIZE=3,
    )
    yield
    app.config.update(saved)


def valid(client: FlaskClient, url: str, schema: xmlschema.XMLSchema) -> etree._Element:
    response = client.get(url)
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/xml"
    schema.validate(response.data.decode())
    return etree.fromstring(response.data)


def locs(document: etree._Element) -> list[str]:
    return [str(loc.text) for loc in document.iter(f"{SM}loc")]


def test_index_lists_pages_by_id_range_and_pages_validate(
    client: FlaskClient, schemas: dict[str, Any]
) -> None:
    made = [ArticleFactory(slug=f"a{n}") for n in range(7)]
    # Ids start where the table's sequence is (PostgreSQL does not reuse them).
    pages = sorted({(article.id - 1) // 3 + 1 for article in made})
    index = valid(client, INDEX, schemas["index"])
    assert locs(index) == [
        f"https://cms.news.example/api/v1/sitemaps/articles.xml?page={n}" for n in pages
    ]
    listed = []
    for number in pages:
        listed += locs(valid(client, articles_page(number), schemas["urlset"]))
    assert listed == [f"https://news.example/articles/a{n}" for n in range(7)]


def test_lastmod_is_updated_at(client: FlaskClient, schemas: dict[str, Any]) -> None:
    article = ArticleFactory()
    page = (article.id - 1) // 3 + 1
    document = valid(client, articles_page(page), schemas["urlset"])
    assert document.findtext(f"{SM}url/{SM}lastmod") == article.updated_at.isoformat(
        timespec="seconds"
    )


def test_a_page_costs_one_range_query_however_deep(client: FlaskClient, count_queries: Any) -> None:
    article = ArticleFactory()
    page = (article.id - 1) // 3 + 1
    count_queries.statements.clear()
    assert client.get(articles_page(page)).status_code == 200
    [statement] = [s for s in count_queries.statements if "BETWEEN" in s.upper()]
    assert "OFFSET" not in statement.upper()  # a range of ids, whatever the page


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-1", "page=1.5", "page=99999999999"])
def test_a_bad_page_number_is_a_422_problem(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/sitemaps/articles.xml?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_page_out_of_range_is_a_404_problem(client: FlaskClient) -> None:
    ArticleFactory()
    response = client.get(articles_page(2_000_000_000))
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert client.get("/api/v1/sitemaps/articles.xml?pages=1").status_code == 400


def test_drafts_trash_and_unpublished_are_left_out(
    client: FlaskClient, auth: dict[str, str], schemas: dict[str, Any]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        now = utcnow()
        kept = ArticleFactory(slug="kept", published_at=now - timedelta(hours=1))
        ArticleFactory(slug="draft", status=ArticleStatus.DRAFT)
        ArticleFactory(slug="review", status=ArticleStatus.IN_REVIEW)
        trashed = ArticleFactory(slug="trashed", published_at=now - timedelta(hours=1))
        ArticleFactory(
            slug="down",
            published_at=now - timedelta(hours=1),
            unpublish_at=now + timedelta(seconds=10),
        )
        assert remove(client, f"/api/v1/articles/{trashed.id}", headers=auth).status_code == 204

        def everywhere() -> set[str]:
            pages = locs(valid(client, INDEX, schemas["index"]))
            found = {
                loc
                for page in pages
                for loc in locs(
                    etree.fromstring(client.get(page.removeprefix("https://cms.news.example")).data)
                )
            }
            news = locs(valid(client, NEWS_SITEMAP, schemas["news"]))
            assert set(news) <= found
            return {loc.rsplit("/", 1)[1] for loc in found}

        assert everywhere() == {"kept", "down"}
        clock.shift(timedelta(seconds=10))
        assert everywhere() == {"kept"}
    assert kept.id


def test_a_scheduled_article_enters_sitemaps_exactly_at_its_time(
    client: FlaskClient, schemas: dict[str, Any]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        now = utcnow()
        ArticleFactory(slug="old", published_at=now - timedelta(hours=1))
        soon = ArticleFactory(
            slug="soon", status=ArticleStatus.SCHEDULED, published_at=now + timedelta(seconds=30)
        )
        page = articles_page((soon.id - 1) // 3 + 1)
        index = client.get(INDEX)
        assert index.cache_control.s_maxage == 30
        news = valid(client, NEWS_SITEMAP, schemas["news"])
        assert locs(news) == ["https://news.example/articles/old"]
        clock.shift(timedelta(seconds=29))
        assert (
            client.get(INDEX, headers={"If-None-Match": index.headers["ETag"]}).status_code == 304
        )
        assert "soon" not in client.get(page).get_data(as_text=True)
        clock.shift(timedelta(seconds=1))
        assert (
            client.get(INDEX, headers={"If-None-Match": index.headers["ETag"]}).status_code == 200
        )
        assert "https://news.example/articles/soon" in locs(etree.fromstring(client.get(page).data))
        assert locs(valid(client, NEWS_SITEMAP, schemas["news"]))[0].endswith("/soon")


def test_news_sitemap_has_the_last_two_days_of_own_articles(
    client: FlaskClient, schemas: dict[str, Any]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        now = utcnow()
        ArticleFactory(
            slug="fresh", title="Fresh & new", published_at=now - timedelta(days=2, seconds=-100)
        )
        ArticleFactory(slug="stale", published_at=now - timedelta(days=3))
        ArticleFactory(
            slug="theirs",
            source_url="https://wire.example/x",
            resource_id="fedcba9876543210",
            published_at=now - timedelta(hours=1),
        )
        response = client.get(NEWS_SITEMAP)
        assert response.cache_control.s_maxage == 100  # until "fresh" is two days old
        document = valid(client, NEWS_SITEMAP, schemas["news"])
        assert locs(document) == ["https://news.example/articles/fresh"]
        news = document.find(f"{SM}url/{NEWS}news")
        assert news.findtext(f"{NEWS}publication/{NEWS}name") == "The Example News"
        assert news.findtext(f"{NEWS}publication/{NEWS}language") == "en"
        assert news.findtext(f"{NEWS}title") == "Fresh & new"
        etag = response.headers["ETag"]
        assert client.get(NEWS_SITEMAP, headers={"If-None-Match": etag}).status_code == 304
        clock.shift(timedelta(seconds=100))
        assert client.get(NEWS_SITEMAP, headers={"If-None-Match": etag}).status_code == 200
        assert locs(etree.fromstring(client.get(NEWS_SITEMAP).data)) == []


def test_a_change_changes_the_index_etag(client: FlaskClient) -> None:
    article = ArticleFactory()
    etag = client.get(INDEX).headers["ETag"]
    assert client.get(INDEX, headers={"If-None-Match": etag}).status_code == 304
    ArticleFactory()
    assert client.get(INDEX, headers={"If-None-Match": etag}).status_code == 200
    assert article.id
