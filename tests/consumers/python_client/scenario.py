"""An editor's day through the client openapi-python-client generates, unedited.

    python scenario.py ORIGIN ADMIN_EMAIL ADMIN_PASSWORD   (run.py generates and runs it)

Only the generated package (`news_cms_api_client`) talks to the API. It must also pass
`mypy --strict`: a generated client is useful only if ordinary typed code accepts it.
"""

import io
import sys
from typing import Any, TypeVar

from news_cms_api_client import AuthenticatedClient, Client
from news_cms_api_client.api.articles import (
    create_article,
    delete_article,
    get_article,
    get_article_by_slug,
    get_article_markdown,
    import_article,
    list_articles,
    update_article,
)
from news_cms_api_client.api.auth import get_current_user, login
from news_cms_api_client.api.authors import create_author
from news_cms_api_client.api.categories import create_category
from news_cms_api_client.api.images import upload_image
from news_cms_api_client.api.syndication import get_site_rss
from news_cms_api_client.api.tags import create_tag, get_tag, list_tags, update_tag
from news_cms_api_client.api.users import create_user, get_user, list_users, update_user
from news_cms_api_client.models import (
    Article,
    ArticleField,
    ArticleFields,
    ArticleInclude,
    ArticleList,
    ArticleStatus,
    ArticleWrite,
    ArticleWritePatch,
    Author,
    AuthorIncluded,
    AuthorWrite,
    Category,
    CategoryIncluded,
    CategoryWrite,
    CoverImageIncluded,
    Image,
    ImageStatus,
    Login,
    Me,
    Post,
    Problem,
    ProblemErrors,
    Role,
    Tag,
    TagIncluded,
    TagList,
    TagWrite,
    TagWritePatch,
    Token,
    UploadImageBody,
    UploadImageBodyMetadata,
    User,
    UserList,
    UserWrite,
    UserWritePatch,
)
from news_cms_api_client.types import UNSET, File, Response
from PIL import Image as PillowImage

T = TypeVar("T")

POST = """---
title: Imported through the JSON import
date: 2026-11-20
author: Ada Editor
tags:
  - Policy
---
The body, in **Markdown**.
"""


def expect(kind: type[T], response: Response[Any], status: int) -> T:
    """The parsed body, checked to be of the documented type for this status."""
    parsed = response.parsed
    assert response.status_code == status, (response.status_code, parsed)
    assert isinstance(parsed, kind), parsed
    return parsed


def etag(response: Response[Any]) -> str:
    return response.headers["ETag"]


def png() -> bytes:
    out = io.BytesIO()
    PillowImage.new("RGB", (800, 450), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def main(origin: str, email: str, password: str) -> None:
    anonymous = Client(base_url=origin)
    tokens = expect(Token, login.sync_detailed(client=anonymous, body=Login(email, password)), 200)
    admin = AuthenticatedClient(base_url=origin, token=tokens.access_token)
    me = expect(Me, get_current_user.sync_detailed(client=admin), 200)
    assert me.role is Role.ADMIN

    # Users: every operation (their shared schema once crashed all four).
    editor_user = expect(
        User,
        create_user.sync_detailed(
            client=admin,
            body=UserWrite(
                email="ada@example.com",
                password="a long enough password",
                display_name="Ada",
                role=Role.EDITOR,
            ),
        ),
        201,
    )
    users = expect(UserList, list_users.sync_detailed(client=admin), 200)
    assert editor_user.id in {user.id for user in users.data}
    read = get_user.sync_detailed(editor_user.id, client=admin)
    renamed = expect(
        User,
        update_user.sync_detailed(
            editor_user.id,
            client=admin,
            body=UserWritePatch(display_name="Ada Editor"),
            if_match=etag(read),
        ),
        200,
    )
    assert renamed.display_name == "Ada Editor"

    editor_tokens = expect(
        Token,
        login.sync_detailed(
            client=anonymous, body=Login("ada@example.com", "a long enough password")
        ),
        200,
    )
    editor = AuthenticatedClient(base_url=origin, token=editor_tokens.access_token)

    author = expect(
        Author, create_author.sync_detailed(client=editor, body=AuthorWrite(name="Ada E.")), 201
    )
    tag = expect(Tag, create_tag.sync_detailed(client=editor, body=TagWrite(name="Policy")), 201)
    category = expect(
        Category, create_category.sync_detailed(client=editor, body=CategoryWrite(name="News")), 201
    )

    # An upload, rendered before the answer on this server (IMAGE_RENDERING=request).
    image = expect(
        Image,
        upload_image.sync_detailed(
            client=editor,
            body=UploadImageBody(
                file=File(payload=io.BytesIO(png()), file_name="cover.png", mime_type="image/png"),
                metadata=UploadImageBodyMetadata(alt="A red square", focal_x=0.25),
            ),
        ),
        201,
    )
    assert image.status is ImageStatus.READY, image
    assert (image.alt, image.focal_x) == ("A red square", 0.25), image  # the JSON part arrived
    assert image.srcset, image

    # A draft, then published.
    draft_response = create_article.sync_detailed(
        client=editor,
        body=ArticleWrite(
            title="Zuckerberg memo on open source AI",
            body_markdown="The memo says *a lot*.",
            author_ids=[author.id],
            tag_ids=[tag.id],
            category_id=category.id,
            cover_image_id=image.id,
        ),
    )
    draft = expect(Article, draft_response, 201)
    assert draft.status is ArticleStatus.DRAFT
    assert draft_response.headers["Location"].endswith(f"/articles/{draft.id}")
    published = expect(
        Article,
        update_article.sync_detailed(
            draft.id,
            client=editor,
            body=ArticleWritePatch(status=ArticleStatus.PUBLISHED),
            if_match=etag(draft_response),
        ),
        200,
    )
    assert published.published_at is not None

    # A filtered list with every include: each relation arrives in full.
    includes = [
        ArticleInclude.AUTHORS,
        ArticleInclude.CATEGORY,
        ArticleInclude.TAGS,
        ArticleInclude.COVER_IMAGE,
    ]
    listed = expect(
        ArticleList,
        list_articles.sync_detailed(client=anonymous, include=includes, tag=["policy"]),
        200,
    )
    [item] = listed.data
    assert isinstance(item, Article)
    assert all(isinstance(a, AuthorIncluded) for a in item.authors), item.authors
    assert all(isinstance(t, TagIncluded) for t in item.tags), item.tags
    assert isinstance(item.category, CategoryIncluded), item.category
    assert isinstance(item.cover_image, CoverImageIncluded), item.cover_image
    assert item.cover_image.srcset

    # Sparse fields: the items are ArticleFields, with what was asked.
    teasers = list_articles.sync_detailed(
        client=anonymous, fields=[ArticleField.TITLE, ArticleField.SLUG]
    )
    [teaser] = expect(ArticleList, teasers, 200).data
    assert isinstance(teaser, ArticleFields), teaser
    assert (teaser.title, teaser.body_html) == (published.title, UNSET)

    # Search, by slug, and a 304 for a copy that is current.
    found = expect(ArticleList, list_articles.sync_detailed(client=anonymous, q="memo"), 200)
    assert [a.id for a in found.data] == [draft.id]
    by_slug = get_article_by_slug.sync_detailed(published.slug, client=anonymous)
    assert expect(Article, by_slug, 200).id == draft.id
    again = get_article.sync_detailed(draft.id, client=anonymous, if_none_match=etag(by_slug))
    assert again.status_code == 304, again.status_code

    # The front-matter post: imported as JSON, exported as Markdown.
    imported = expect(
        Article, import_article.sync_detailed(client=editor, body=Post(markdown=POST)), 201
    )
    exported = get_article_markdown.sync_detailed(imported.id, client=editor)
    assert exported.status_code == 200
    assert "title: Imported through" in exported.content.decode()

    # The site's feed, as bytes for a feed parser: the published article is its item.
    rss = get_site_rss.sync_detailed(client=anonymous)
    assert rss.status_code == 200
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert f"<title>{published.title}</title>".encode() in rss.content

    # Typed errors: a stale If-Match, an invalid body.
    stale = update_article.sync_detailed(
        draft.id, client=editor, body=ArticleWritePatch(title="Late"), if_match=etag(draft_response)
    )
    assert expect(Problem, stale, 412).code == "precondition_failed"
    invalid = create_tag.sync_detailed(client=editor, body=TagWrite(name=""))
    problem = expect(Problem, invalid, 422)
    assert problem.code == "validation_error"
    assert isinstance(problem.errors, ProblemErrors), problem
    assert problem.errors["name"], problem.errors

    # Update and delete with If-Match; the tag list shows the change.
    tag_etag = etag(get_tag.sync_detailed(tag.id, client=anonymous))
    renamed_tag = update_tag.sync_detailed(
        tag.id, client=editor, body=TagWritePatch(description="Law and rules"), if_match=tag_etag
    )
    assert expect(Tag, renamed_tag, 200).description == "Law and rules"
    tags = expect(TagList, list_tags.sync_detailed(client=anonymous), 200)
    assert [t.description for t in tags.data] == ["Law and rules"]
    current = get_article.sync_detailed(draft.id, client=editor)
    deleted = delete_article.sync_detailed(draft.id, client=editor, if_match=etag(current))
    assert deleted.status_code == 204
    gone = get_article.sync_detailed(draft.id, client=editor)
    assert expect(Problem, gone, 404).code == "not_found"
    print("python client scenario: ok")


if __name__ == "__main__":
    main(*sys.argv[1:4])
