"""The two real documents of the site come back through the API as they are."""

import re
from html.parser import HTMLParser
from typing import Any

import frontmatter
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms.demo import SAMPLE_POST, load_demo
from cms.extensions import db
from tests.conftest import SHARED_SAMPLES

TECHCRUNCH_URL = (
    "https://techcrunch.com/2025/07/30/zuckerberg-says-meta-likely-wont-open-"
    "source-all-of-its-superintelligence-ai-models/"
)


@pytest.fixture
def demo(app: Flask) -> None:
    load_demo(db.session)
    db.session.commit()


@pytest.fixture
def sample_post() -> frontmatter.Post:
    path = SHARED_SAMPLES / SAMPLE_POST.name
    if not path.exists():  # a checkout without shared/ beside it: the vendored copy
        path = SAMPLE_POST
    return frontmatter.loads(path.read_text(encoding="utf-8"))


def article_by_source(client: FlaskClient, source: str) -> dict[str, Any]:
    listing = client.get("/api/v1/articles?page_size=100").json["data"]
    [summary] = [a for a in listing if a["source_url"] == source]
    response = client.get(f"/api/v1/articles/slug/{summary['slug']}")
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


class LinksAndTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> LinksAndTags:
    parser = LinksAndTags()
    parser.feed(html)
    return parser


def test_vendored_sample_post_is_the_shared_one() -> None:
    shared = SHARED_SAMPLES / SAMPLE_POST.name
    if not shared.exists():
        pytest.skip("shared/samples is not beside this checkout")
    assert SAMPLE_POST.read_bytes() == shared.read_bytes()


@pytest.mark.usefixtures("demo")
def test_sample_post_fields_come_back_exactly(
    client: FlaskClient, sample_post: frontmatter.Post
) -> None:
    meta = sample_post.metadata
    article = article_by_source(client, meta["source"])

    assert article["title"] == meta["title"]
    assert article["published_at"] == f"{meta['date']}T00:00:00Z"
    assert article["excerpt"] == meta["excerpt"]
    assert article["cover_image"]["url"] == meta["coverImage"]
    assert (article["cover_image"]["width"], article["cover_image"]["height"]) == (400, 200)
    assert [a["name"] for a in article["authors"]] == [meta["author"]]
    assert [t["name"] for t in article["tags"]] == meta["tags"]
    assert article["category"]["name"] == meta["category"]
    assert article["status"] == "published"


@pytest.mark.usefixtures("demo")
def test_sample_post_body_keeps_links_and_quote_and_nothing_executable(
    client: FlaskClient, sample_post: frontmatter.Post
) -> None:
    body = article_by_source(client, sample_post.metadata["source"])["body_html"]
    original, served = parse(sample_post.content), parse(body)

    assert served.hrefs == original.hrefs
    assert len(served.hrefs) == 3
    assert {"blockquote", "em", "ins", "p"} <= served.tags
    assert "".join(served.text) == "".join(original.text)  # not a word lost
    assert "<script" not in body
    assert not {a for a in served.attributes if a.startswith("on")}


@pytest.mark.usefixtures("demo")
def test_sample_resource_inherits_credibility_and_shows_its_record(
    client: FlaskClient,
) -> None:
    article = article_by_source(client, TECHCRUNCH_URL)

    assert article["resource_id"] == "294f55e1e8c8ecbb"
    assert article["stable_id"] == "sid_kPZ1jp40IG"
    assert article["credibility"]["value"] == 3
    assert article["credibility"]["label"] == "Good"
    assert article["credibility"]["description"].startswith("Good quality. Reputable source")
    assert article["credibility"]["inherited_from"]["publication"]["name"] == "TechCrunch"
    assert article["importance"] == 52
    assert article["content_type"] == "news article"
    assert len(article["key_points"]) == 5
    assert article["summary"].startswith("Mark Zuckerberg indicated")
    assert [(p["title"], p["type"], p["quality"]) for p in article["cited_by"]] == [
        ("Open Source AI Safety", "Approach", 62.0)
    ]
    assert article["fetch"]["status"] == 200
    assert article["fetch"]["bytes"] == 8192


def test_demo_loads_once(app: Flask, client: FlaskClient) -> None:
    first = load_demo(db.session)
    db.session.commit()
    again = load_demo(db.session)

    total = client.get("/api/v1/articles?page_size=1").json["meta"]["total"]
    assert first > 2
    assert again == 0
    assert total >= 50  # published ones; the demo also holds a few drafts
    assert re.fullmatch(
        r"sid_[0-9A-Za-z]{10}", client.get("/api/v1/articles").json["data"][0]["stable_id"]
    )
