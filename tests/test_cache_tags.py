"""CDN cache tags: each public response names what it shows; a change names the keys it
makes stale, and those cover every response whose body it changed."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cms.extensions import db
from cms.models import ContentEvent
from cms.services.purging import purge_keys
from tests.conftest import edit
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    PageFactory,
    TagFactory,
)


def tags_of(client: FlaskClient, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    cache_tag, surrogate = response.headers["Cache-Tag"], response.headers["Surrogate-Key"]
    assert cache_tag.split(",") == surrogate.split(" ")
    return set(surrogate.split(" "))


def test_a_response_names_what_it_shows(client: FlaskClient) -> None:
    tag, author, category = TagFactory(), AuthorFactory(), CategoryFactory()
    article = ArticleFactory(tags=[tag], authors=[author], category=category)
    page = PageFactory(cited_articles=[article])

    shown = {f"article-{article.id}", f"tag-{tag.id}", f"author-{author.id}"}
    shown |= {f"category-{category.id}", f"page-{page.id}"}  # the page cites it
    assert tags_of(client, f"/api/v1/articles/{article.id}") == shown
    assert tags_of(client, f"/api/v1/articles/slug/{article.slug}") == shown
    assert tags_of(client, "/api/v1/articles?include=tags") == shown | {"list-articles"}
    assert tags_of(client, f"/api/v1/tags/{tag.id}") == {f"tag-{tag.id}"}
    assert tags_of(client, "/api/v1/tags") == {"list-tags"}
    assert tags_of(client, f"/api/v1/pages/{page.id}") == {
        f"page-{page.id}",
        f"article-{article.id}",
    }
    assert tags_of(client, "/api/v1/openapi.json") == {"api-docs"}


def test_only_public_answers_with_a_body_carry_them(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    article = ArticleFactory()
    url = f"/api/v1/articles/{article.id}"
    assert "Cache-Tag" not in client.get(url, headers=admin).headers  # private, no-cache
    etag = client.get(url).headers["ETag"]
    revalidated = client.get(url, headers={"If-None-Match": etag})
    # A 304 with fewer keys would narrow what the CDN stored; without any it keeps them.
    assert revalidated.status_code == 304
    assert "Cache-Tag" not in revalidated.headers
    assert "Surrogate-Key" not in revalidated.headers


def test_a_page_showing_too_much_to_name_names_kinds(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CACHE_TAG_BYTES", 400)
    tags = TagFactory.create_batch(60)
    for start in range(0, 60, 6):
        ArticleFactory(tags=tags[start : start + 6])
    shown = tags_of(client, "/api/v1/articles?page_size=100")
    header = client.get("/api/v1/articles?page_size=100").headers["Surrogate-Key"]
    assert len(header) <= 400
    assert {"list-articles", "list-tags"} <= shown  # any tag's change purges list-tags
    assert not any(key.startswith("tag-") for key in shown)


def test_renaming_a_tag_purges_every_response_that_showed_it(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    tag, other_tag = TagFactory(name="Open source"), TagFactory(name="Chips")
    tagged = ArticleFactory(tags=[tag])
    untagged = ArticleFactory(tags=[other_tag])
    page = PageFactory(cited_articles=[tagged])
    urls = [
        f"/api/v1/articles/{tagged.id}",
        f"/api/v1/articles/slug/{tagged.slug}",
        f"/api/v1/articles/{untagged.id}",
        "/api/v1/articles",
        f"/api/v1/articles?tag={tag.slug}",
        "/api/v1/articles?include=tags&fields=id,tags",
        f"/api/v1/tags/{tag.id}",
        f"/api/v1/tags/{other_tag.id}",
        "/api/v1/tags",
        f"/api/v1/pages/{page.id}",
        "/api/v1/syndication/rss.xml",
        f"/api/v1/syndication/tags/{tag.slug}/feed.json",
        "/api/v1/sitemaps/articles.xml?page=1",
    ]
    before = {url: (client.get(url).data, tags_of(client, url)) for url in urls}
    with app.app_context():
        last_event = db.session.scalar(select(func.max(ContentEvent.id)))

    edit(client, f"/api/v1/tags/{tag.id}", json={"name": "Open weights"}, headers=admin)

    with app.app_context():
        events = db.session.scalars(
            select(ContentEvent).where(ContentEvent.id > last_event).order_by(ContentEvent.id)
        ).all()
        purged = set(purge_keys(events))
    changed = [url for url in urls if client.get(url).data != before[url][0]]
    assert f"/api/v1/articles/{tagged.id}" in changed
    assert "/api/v1/tags" in changed
    assert "/api/v1/syndication/rss.xml" in changed  # the tag is an item category
    for url in changed:
        assert before[url][1] & purged, f"{url} changed but none of its keys was purged"
    # What did not show the tag stays cached.
    for url in (f"/api/v1/articles/{untagged.id}", f"/api/v1/tags/{other_tag.id}"):
        assert not before[url][1] & purged, url


def test_feeds_and_sitemaps_name_what_they_show(client: FlaskClient) -> None:
    tag, author = TagFactory(), AuthorFactory()
    article = ArticleFactory(tags=[tag], authors=[author])
    shows = {f"article-{article.id}", f"tag-{tag.id}", f"author-{author.id}"}
    if article.category_id is not None:
        shows.add(f"category-{article.category_id}")
    for url in ("/api/v1/syndication/rss.xml", "/api/v1/syndication/feed.json"):
        assert tags_of(client, url) == {"list-articles"} | shows, url
    scoped = tags_of(client, f"/api/v1/syndication/tags/{tag.slug}/atom.xml")
    assert scoped == {"list-articles"} | shows  # the channel is the tag's: tag-N is there
    for url in ("/api/v1/sitemaps/index.xml", "/api/v1/sitemaps/articles.xml?page=1"):
        assert tags_of(client, url) == {"list-articles"}, url


def test_the_markdown_forms_of_an_article_are_purged_with_it(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    """(Found by review: they were tagged only `articles`, which nothing purges.)"""
    article = ArticleFactory(title="Libel")
    markdown = {"Accept": "text/markdown"}
    urls = [
        (f"/api/v1/articles/{article.id}", markdown),
        (f"/api/v1/articles/slug/{article.slug}", markdown),
        (f"/api/v1/articles/{article.id}/markdown", {}),
    ]
    before = {}
    for url, headers in urls:
        response = client.get(url, headers=headers)
        assert response.headers["Cache-Control"].startswith("public"), url
        before[url] = set(response.headers["Surrogate-Key"].split(" "))
    with app.app_context():
        last_event = db.session.scalar(select(func.max(ContentEvent.id)))
    etag = client.get(f"/api/v1/articles/{article.id}").headers["ETag"]
    trashed = client.delete(f"/api/v1/articles/{article.id}", headers={**admin, "If-Match": etag})
    assert trashed.status_code == 204
    with app.app_context():
        events = db.session.scalars(select(ContentEvent).where(ContentEvent.id > last_event)).all()
        purged = set(purge_keys(events))
    for url, headers in urls:
        assert client.get(url, headers=headers).status_code == 404  # gone at the origin
        assert before[url] & purged, f"{url}: tagged {before[url]}, purged {purged}"
