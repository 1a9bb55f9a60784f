"""The article read path: Core rows straight to dicts, one query per to-many relation.

This is the hot path of the site (see PERFORMANCE.md): no ORM objects are hydrated and
no marshmallow dump runs. To-one relations ride along in the main query as LEFT JOINs;
authors, tags and citing pages cost one query each, whatever the number of rows.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import aliased

from cms.api.common import AnySelect
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    BodyFormat,
    Category,
    Image,
    Page,
    Publication,
    Tag,
    page_citations,
)
from cms.services import DbSession
from cms.services.credibility import effective_credibility

_category = aliased(Category)
_image = aliased(Image)
_publication = aliased(Publication)

_ARTICLE_COLUMNS = (
    Article.id,
    Article.slug,
    Article.stable_id,
    Article.title,
    Article.excerpt,
    Article.body_format,
    Article.body_source,
    Article.body_html,
    Article.status,
    Article.published_at,
    Article.created_at,
    Article.updated_at,
    Article.source_url,
    Article.canonical_url,
    Article.resource_id,
    Article.content_type,
    Article.importance,
    Article.credibility_override,
    Article.summary,
    Article.key_points,
    Article.relevance,
    Article.fetch_status,
    Article.fetched_at,
    Article.fetch_bytes,
    Article.fetch_content_hash,
)
_JOINED_COLUMNS = (
    _category.id.label("category_id"),
    _category.slug.label("category_slug"),
    _category.name.label("category_name"),
    _image.id.label("image_id"),
    _image.url.label("image_url"),
    _image.width.label("image_width"),
    _image.height.label("image_height"),
    _image.alt.label("image_alt"),
    _publication.id.label("publication_id"),
    _publication.slug.label("publication_slug"),
    _publication.name.label("publication_name"),
    _publication.credibility.label("publication_credibility"),
)


def article_query() -> AnySelect:
    """SELECT articles with their category, cover image and publication joined in."""
    return (
        select(*_ARTICLE_COLUMNS, *_JOINED_COLUMNS)
        .outerjoin(_category, _category.id == Article.category_id)
        .outerjoin(_image, _image.id == Article.cover_image_id)
        .outerjoin(_publication, _publication.id == Article.publication_id)
    )


def fetch_articles(session: DbSession, query: AnySelect) -> list[dict[str, Any]]:
    """Run an `article_query()` (filtered, ordered, limited) and build API dicts."""
    rows = session.execute(query).mappings().all()
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    authors = _authors_by_article(session, ids)
    tags = _tags_by_article(session, ids)
    cited_by = _citations_by_article(session, ids)
    return [
        _article_dict(row, authors[row["id"]], tags[row["id"]], cited_by[row["id"]]) for row in rows
    ]


def fetch_article(session: DbSession, *where: ColumnElement[bool]) -> dict[str, Any] | None:
    found = fetch_articles(session, article_query().where(*where).limit(1))
    return found[0] if found else None


def _article_dict(
    row: Any,
    authors: list[dict[str, Any]],
    tags: list[dict[str, Any]],
    cited_by: list[dict[str, Any]],
) -> dict[str, Any]:
    publication = _reference(row, "publication")
    rated_publication = publication and {
        **publication,
        "credibility": row["publication_credibility"],
    }
    is_markdown = row["body_format"] is BodyFormat.MARKDOWN
    return {
        "id": row["id"],
        "slug": row["slug"],
        "stable_id": row["stable_id"],
        "title": row["title"],
        "excerpt": row["excerpt"],
        "body_html": row["body_html"],
        "body_markdown": row["body_source"] if is_markdown else None,
        "status": row["status"],
        "published_at": row["published_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "authors": authors,
        "category": _reference(row, "category"),
        "tags": tags,
        "cover_image": None
        if row["image_id"] is None
        else {
            "id": row["image_id"],
            "url": row["image_url"],
            "width": row["image_width"],
            "height": row["image_height"],
            "alt": row["image_alt"],
        },
        "source_url": row["source_url"],
        "canonical_url": row["canonical_url"],
        "publication": publication,
        "resource_id": row["resource_id"],
        "content_type": row["content_type"],
        "importance": row["importance"],
        "credibility": effective_credibility(row["credibility_override"], rated_publication),
        "summary": row["summary"],
        "key_points": row["key_points"] or [],
        "relevance": row["relevance"],
        "cited_by": cited_by,
        "fetch": None
        if row["fetch_status"] is None
        else {
            "status": row["fetch_status"],
            "fetched_at": row["fetched_at"],
            "bytes": row["fetch_bytes"],
            "content_hash": row["fetch_content_hash"],
        },
    }


def _reference(row: Any, prefix: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], "slug": row[f"{prefix}_slug"], "name": row[f"{prefix}_name"]}


def _group(rows: Iterable[Any]) -> defaultdict[int, list[dict[str, Any]]]:
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        item = dict(row)
        grouped[item.pop("article_id")].append(item)
    return grouped


def _authors_by_article(session: DbSession, ids: list[int]) -> defaultdict[int, list[Any]]:
    query = (
        select(ArticleAuthor.article_id, Author.id, Author.slug, Author.name)
        .join(Author, Author.id == ArticleAuthor.author_id)
        .where(ArticleAuthor.article_id.in_(ids))
        .order_by(ArticleAuthor.article_id, ArticleAuthor.position)
    )
    return _group(session.execute(query).mappings())


def _tags_by_article(session: DbSession, ids: list[int]) -> defaultdict[int, list[Any]]:
    query = (
        select(ArticleTag.article_id, Tag.id, Tag.slug, Tag.name)
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(ids))
        .order_by(ArticleTag.article_id, ArticleTag.position)
    )
    return _group(session.execute(query).mappings())


def _citations_by_article(session: DbSession, ids: list[int]) -> defaultdict[int, list[Any]]:
    query = (
        select(page_citations.c.article_id, Page.id, Page.slug, Page.title, Page.type, Page.quality)
        .join(Page, Page.id == page_citations.c.page_id)
        .where(page_citations.c.article_id.in_(ids))
        .order_by(page_citations.c.article_id, Page.quality.desc(), Page.id)
    )
    return _group(session.execute(query).mappings())
