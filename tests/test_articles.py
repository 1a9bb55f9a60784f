"""Articles through the API: the contract a frontend and an editor rely on."""

import hashlib
from typing import Any

import pytest
from flask.testing import FlaskClient

from cms.models import ArticleStatus
from tests.conftest import QueryCounter, edit, remove
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    PublicationFactory,
    TagFactory,
)


def create(client: FlaskClient, auth: dict[str, str], **payload: Any) -> Any:
    response = client.post("/api/v1/articles", json=payload, headers=auth)
    assert response.status_code == 201, response.json
    return response


def test_create_returns_201_with_location_and_the_article(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    authors = [AuthorFactory(name="Second"), AuthorFactory(name="First")]
    tags = [TagFactory(name="Zeta"), TagFactory(name="Alpha")]
    category, image, publication = CategoryFactory(), ImageFactory(), PublicationFactory()

    response = create(
        client,
        auth,
        title="Hello, World!",
        body_html="<p>Hi</p>",
        status="published",
        author_ids=[authors[1].id, authors[0].id],
        tag_ids=[tags[0].id, tags[1].id],
        category_id=category.id,
        cover_image_id=image.id,
        publication_id=publication.id,
        key_points=["one", "two"],
    )

    article = response.json
    assert response.headers["Location"] == f"/api/v1/articles/{article['id']}"
    assert client.get(response.headers["Location"]).json == article
    assert article["slug"] == "hello-world"
    assert [a["name"] for a in article["authors"]] == ["First", "Second"]  # credited order
    assert [t["name"] for t in article["tags"]] == ["Zeta", "Alpha"]  # editor's order
    assert article["category"] == {"id": category.id, "slug": category.slug, "name": category.name}
    assert article["cover_image"] == {
        "id": image.id,
        "url": image.url,
        "width": 1200,
        "height": 630,
        "alt": "A picture",
    }
    assert article["publication"]["slug"] == publication.slug
    assert article["key_points"] == ["one", "two"]
    assert article["published_at"].endswith("Z")
    assert article["created_at"].endswith("Z")


def test_slugs_get_a_suffix_on_collision(client: FlaskClient, auth: dict[str, str]) -> None:
    slugs = [create(client, auth, title="Same Title").json["slug"] for _ in range(3)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]


def test_unicode_titles_get_ascii_slugs(client: FlaskClient, auth: dict[str, str]) -> None:
    assert create(client, auth, title="Ça déménage à Zürich").json["slug"] == "ca-demenage-a-zurich"


def test_html_body_is_sanitized(client: FlaskClient, auth: dict[str, str]) -> None:
    html = (
        '<h2>Head</h2><p onclick="steal()">Text <a href="javascript:alert(1)">bad</a> '
        '<a href="https://ok.example/">good</a></p><script>alert(1)</script>'
        '<img src="https://img.example/a.png" onerror="alert(1)" alt="a">'
        '<iframe src="https://evil.example"></iframe><ul><li><em>x</em></li></ul>'
        "<blockquote><p>quoted</p></blockquote><style>body{}</style>"
    )
    body = create(client, auth, title="T", body_html=html).json["body_html"]

    for kept in (
        "<h2>Head</h2>",
        'href="https://ok.example/"',
        "<blockquote>",
        "<li><em>x</em></li>",
        'src="https://img.example/a.png"',
    ):
        assert kept in body
    for dropped in (
        "onclick",
        "javascript:",
        "<script",
        "alert(1)",
        "onerror",
        "<iframe",
        "<style",
    ):
        assert dropped not in body


def test_markdown_body_is_rendered_then_sanitized(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    markdown = (
        "# Title\n\nSome *emphasis* and [a link](https://ok.example).\n\n"
        "> a quote\n\n<script>alert(1)</script> [x](javascript:alert(1))\n"
    )
    article = create(client, auth, title="MD", body_markdown=markdown).json

    assert article["body_markdown"] == markdown
    assert "<h1>Title</h1>" in article["body_html"]
    assert "<em>emphasis</em>" in article["body_html"]
    assert '<a href="https://ok.example"' in article["body_html"]
    assert "<blockquote>" in article["body_html"]
    assert "<script" not in article["body_html"]
    assert 'href="javascript:' not in article["body_html"]


def test_resource_id_follows_the_source_url(client: FlaskClient, auth: dict[str, str]) -> None:
    article = create(client, auth, title="T", source_url="https://example.com/a").json
    expected = hashlib.sha256(b"https://example.com/a").hexdigest()[:16]
    assert article["resource_id"] == expected
    patched = edit(
        client, f"/api/v1/articles/{article['id']}", headers=auth, json={"source_url": None}
    ).json
    assert patched["resource_id"] is None


def test_credibility_is_inherited_unless_overridden(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    publication = PublicationFactory(name="Journal", credibility=5)
    article = create(client, auth, title="T", publication_id=publication.id).json
    assert article["credibility"]["value"] == 5
    assert article["credibility"]["label"] == "Gold standard"
    assert article["credibility"]["inherited_from"] == {
        "publication": {"id": publication.id, "slug": publication.slug, "name": "Journal"}
    }

    overridden = edit(
        client, f"/api/v1/articles/{article['id']}", headers=auth, json={"credibility_override": 2}
    ).json
    assert overridden["credibility"]["value"] == 2
    assert overridden["credibility"]["label"] == "Mixed"
    assert overridden["credibility"]["inherited_from"] is None


def test_without_publication_or_override_there_is_no_credibility(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    assert create(client, auth, title="T").json["credibility"] is None


def test_patch_changes_only_what_it_sends(client: FlaskClient, auth: dict[str, str]) -> None:
    tag = TagFactory()
    article = create(client, auth, title="Original", excerpt="Keep me", tag_ids=[tag.id]).json
    patched = edit(
        client,
        f"/api/v1/articles/{article['id']}",
        headers=auth,
        json={"title": "Changed", "tag_ids": []},
    )
    assert patched.status_code == 200
    assert patched.json["title"] == "Changed"
    assert patched.json["excerpt"] == "Keep me"
    assert patched.json["slug"] == article["slug"]  # slugs do not move under readers' feet
    assert patched.json["tags"] == []
    assert patched.json["updated_at"] >= article["updated_at"]


def test_publishing_sets_published_at(client: FlaskClient, auth: dict[str, str]) -> None:
    draft = create(client, auth, title="Draft").json
    assert (draft["status"], draft["published_at"]) == ("draft", None)
    published = edit(
        client, f"/api/v1/articles/{draft['id']}", headers=auth, json={"status": "published"}
    ).json
    assert published["status"] == "published"
    assert published["published_at"] is not None


def test_delete(client: FlaskClient, auth: dict[str, str]) -> None:
    article = ArticleFactory(authors=[AuthorFactory()], tags=[TagFactory()])
    PageFactory(cited_articles=[article])
    response = remove(client, f"/api/v1/articles/{article.id}", headers=auth)
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/api/v1/articles/{article.id}", headers=auth).status_code == 404


def test_get_by_slug(client: FlaskClient) -> None:
    article = ArticleFactory(slug="by-slug")
    assert client.get("/api/v1/articles/slug/by-slug").json["id"] == article.id
    assert client.get("/api/v1/articles/slug/nope").status_code == 404


def test_list_is_newest_first_with_envelope_and_paging(client: FlaskClient) -> None:
    articles = [ArticleFactory() for _ in range(5)]
    response = client.get("/api/v1/articles?page=2&page_size=2")
    body = response.json

    assert [a["id"] for a in body["data"]] == [articles[2].id, articles[1].id]
    assert body["meta"]["page"] == 2
    assert body["meta"]["page_size"] == 2
    assert body["meta"]["total"] == 5
    assert body["meta"]["next_cursor"]  # paging by number may switch to the cursor
    assert body["links"]["self"].endswith("/api/v1/articles?page=2&page_size=2")
    assert body["links"]["next"].endswith("page=3")
    assert body["links"]["prev"].endswith("page=1")
    last = client.get(body["links"]["next"]).json
    assert [a["id"] for a in last["data"]] == [articles[0].id]
    assert last["links"]["next"] is None


class TestAnonymousReaders:
    @pytest.fixture
    def draft(self) -> Any:
        return ArticleFactory(status=ArticleStatus.DRAFT, slug="secret", published_at=None)

    def test_do_not_see_drafts_in_lists(self, client: FlaskClient, draft: Any) -> None:
        published = ArticleFactory()
        ids = [a["id"] for a in client.get("/api/v1/articles").json["data"]]
        assert ids == [published.id]

    def test_do_not_get_drafts_by_id_or_slug(self, client: FlaskClient, draft: Any) -> None:
        assert client.get(f"/api/v1/articles/{draft.id}").status_code == 404
        assert client.get("/api/v1/articles/slug/secret").status_code == 404

    def test_cannot_list_by_unpublished_status(self, client: FlaskClient, draft: Any) -> None:
        assert client.get("/api/v1/articles?status=draft").status_code == 401

    def test_do_not_see_drafts_cited_by_pages(self, client: FlaskClient, draft: Any) -> None:
        published = ArticleFactory()
        page = PageFactory(cited_articles=[draft, published])
        cited = client.get(f"/api/v1/pages/{page.id}").json["cited_articles"]
        assert [a["id"] for a in cited] == [published.id]

    def test_logged_in_users_do(
        self, client: FlaskClient, auth: dict[str, str], draft: Any
    ) -> None:
        assert client.get(f"/api/v1/articles/{draft.id}", headers=auth).status_code == 200
        listed = client.get("/api/v1/articles?status=draft", headers=auth).json["data"]
        assert [a["id"] for a in listed] == [draft.id]


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_writes_need_a_token(client: FlaskClient, method: str) -> None:
    article = ArticleFactory()
    url = "/api/v1/articles" if method == "post" else f"/api/v1/articles/{article.id}"
    response = getattr(client, method)(url, json={"title": "x"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "missing_token"


ALL_INCLUDES = "authors,category,tags,cover_image,publication,cited_by"


def test_list_with_every_include_costs_the_same_queries_for_1_or_100_rows(
    client: FlaskClient, count_queries: QueryCounter
) -> None:
    def queries_for_list() -> int:
        count_queries.statements.clear()
        response = client.get(f"/api/v1/articles?page_size=100&include={ALL_INCLUDES}")
        assert response.status_code == 200
        return len(count_queries.statements)

    author, tag, category = AuthorFactory(), TagFactory(), CategoryFactory()
    image, publication = ImageFactory(), PublicationFactory()

    def full_article() -> Any:
        article = ArticleFactory(
            authors=[author, AuthorFactory()],
            tags=[tag, TagFactory()],
            category=category,
            cover_image=image,
            publication=publication,
        )
        PageFactory(cited_articles=[article])
        return article

    full_article()
    one = queries_for_list()
    for _ in range(99):
        full_article()
    hundred = queries_for_list()

    assert one == hundred
    # Rows with to-one joins (for articles not cached yet), authors, tags, cited_by,
    # full category, cover image, its srcset renditions and publication, count, and the
    # content timeline (upcoming publish/unpublish times, the earliest scheduled one),
    # read once per content change. (Plus two reads on a raw cursor, unseen by these
    # events: the content generation, and an anonymous list's ordered stamps.)
    assert hundred == 11


def test_a_warm_list_reads_no_rendering(client: FlaskClient, count_queries: QueryCounter) -> None:
    for _ in range(30):
        ArticleFactory(authors=[AuthorFactory()], tags=[TagFactory()])
    url = f"/api/v1/articles?include={ALL_INCLUDES}&count=false"
    client.get(url)  # renders and caches every article of the page
    count_queries.statements.clear()
    body = client.get(url).json
    assert len(body["data"]) == 20
    # None: the content generation and the ordered stamps are read on a raw cursor
    # (not counted here), and every article's rendering comes from the cache.
    assert count_queries.statements == []


def test_sparse_fields(client: FlaskClient) -> None:
    ArticleFactory(authors=[AuthorFactory()], tags=[TagFactory()])
    body = client.get("/api/v1/articles?fields=title,slug&count=false").json
    assert list(body["data"][0]) == ["id", "slug", "title"]
    assert body["meta"]["total"] is None


def test_a_cached_article_changes_with_what_it_shows(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    article = ArticleFactory()
    url = f"/api/v1/articles/{article.id}"
    assert client.get(url).json["cited_by"] == []
    page = client.post(
        "/api/v1/pages",
        headers=auth,
        json={"title": "Topic", "type": "Risk", "article_ids": [article.id]},
    )
    assert page.status_code == 201
    assert [p["title"] for p in client.get(url).json["cited_by"]] == ["Topic"]
