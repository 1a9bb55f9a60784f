"""The article read path: Core rows straight to dicts, one query per to-many relation.

This is the hot path of the site (see PERFORMANCE.md): no ORM objects are hydrated and
no marshmallow dump runs. To-one relations ride along in the main query as LEFT JOINs;
authors, tags and citing pages cost one query each, whatever the number of rows, and
only when the response shows them. `include` swaps compact references for full objects
(one more query per included to-one relation).
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
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
from cms.services.credibility import LABELS, effective_credibility

category_alias = aliased(Category)
image_alias = aliased(Image)
publication_alias = aliased(Publication)

_BODY_COLUMNS = (Article.body_format, Article.body_source, Article.body_html)
_ARTICLE_COLUMNS = (
    Article.id,
    Article.slug,
    Article.stable_id,
    Article.title,
    Article.excerpt,
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
    category_alias.id.label("category_id"),
    category_alias.slug.label("category_slug"),
    category_alias.name.label("category_name"),
    image_alias.id.label("image_id"),
    image_alias.url.label("image_url"),
    image_alias.width.label("image_width"),
    image_alias.height.label("image_height"),
    image_alias.alt.label("image_alt"),
    publication_alias.id.label("publication_id"),
    publication_alias.slug.label("publication_slug"),
    publication_alias.name.label("publication_name"),
    publication_alias.credibility.label("publication_credibility"),
)
# Extra columns of each relation when it is included in full.
_FULL = {
    "authors": (Author.bio, Author.avatar_url, Author.website_url),
    "tags": (Tag.description,),
    "cited_by": (Page.summary,),
    "category": (Category.id, Category.slug, Category.name, Category.description),
    "cover_image": (
        Image.id,
        Image.url,
        Image.width,
        Image.height,
        Image.alt,
        Image.caption,
        Image.credit,
        Image.license,
    ),
    "publication": (
        Publication.id,
        Publication.slug,
        Publication.name,
        Publication.url,
        Publication.domain,
        Publication.credibility,
        Publication.peer_reviewed,
        Publication.description,
    ),
}


def article_query(*, with_body: bool = True) -> AnySelect:
    """SELECT articles with their category, cover image and publication joined in."""
    columns = (*_ARTICLE_COLUMNS, *(_BODY_COLUMNS if with_body else ()), *_JOINED_COLUMNS)
    return (
        select(*columns)
        .outerjoin(category_alias, category_alias.id == Article.category_id)
        .outerjoin(image_alias, image_alias.id == Article.cover_image_id)
        .outerjoin(publication_alias, publication_alias.id == Article.publication_id)
    )


def fetch_articles(
    session: DbSession,
    query: AnySelect,
    *,
    fields: frozenset[str] | None = None,
    include: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Run an `article_query()` (filtered, ordered, limited) and build API dicts.

    Relations outside `fields` are not queried (they come back empty); the caller
    projects the dicts onto `fields`, after using whatever else it needs (sort keys).
    """
    rows = session.execute(query).mappings().all()
    if not rows:
        return []
    shown = fields if fields is not None else None

    def wanted(name: str) -> bool:
        return shown is None or name in shown

    ids = [row["id"] for row in rows]
    authors = _authors(session, ids, full="authors" in include) if wanted("authors") else {}
    tags = _tags(session, ids, full="tags" in include) if wanted("tags") else {}
    cited_by = _cited_by(session, ids, full="cited_by" in include) if wanted("cited_by") else {}
    full_to_one = {
        name: _by_id(session, name, {row[key] for row in rows} - {None})
        for name, key in (
            ("category", "category_id"),
            ("cover_image", "image_id"),
            ("publication", "publication_id"),
        )
        if name in include and wanted(name)
    }
    return [
        _article_dict(
            row,
            authors.get(row["id"], []),
            tags.get(row["id"], []),
            cited_by.get(row["id"], []),
            full_to_one,
        )
        for row in rows
    ]


def _article_dict(
    row: Any,
    authors: list[dict[str, Any]],
    tags: list[dict[str, Any]],
    cited_by: list[dict[str, Any]],
    full: dict[str, dict[int, dict[str, Any]]],
) -> dict[str, Any]:
    publication = _reference(row, "publication")
    rated_publication = publication and {
        **publication,
        "credibility": row["publication_credibility"],
    }
    body_format = row.get("body_format")
    return {
        "id": row["id"],
        "slug": row["slug"],
        "stable_id": row["stable_id"],
        "title": row["title"],
        "excerpt": row["excerpt"],
        "body_html": row.get("body_html"),
        "body_markdown": row["body_source"] if body_format is BodyFormat.MARKDOWN else None,
        "status": row["status"],
        "published_at": row["published_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "authors": authors,
        "category": _full_or(full, "category", row["category_id"], _reference(row, "category")),
        "tags": tags,
        "cover_image": _full_or(
            full,
            "cover_image",
            row["image_id"],
            None
            if row["image_id"] is None
            else {
                "id": row["image_id"],
                "url": row["image_url"],
                "width": row["image_width"],
                "height": row["image_height"],
                "alt": row["image_alt"],
            },
        ),
        "source_url": row["source_url"],
        "canonical_url": row["canonical_url"],
        "publication": _full_or(full, "publication", row["publication_id"], publication),
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


def _full_or(
    full: dict[str, dict[int, dict[str, Any]]],
    name: str,
    key: int | None,
    compact: dict[str, Any] | None,
) -> dict[str, Any] | None:
    if key is None or name not in full:
        return compact
    return full[name][key]


def _by_id(session: DbSession, name: str, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    columns = _FULL[name]
    found = {}
    for row in session.execute(select(*columns).where(columns[0].in_(ids))).mappings():
        item = dict(row)
        if name == "cover_image":
            item["srcset"] = []  # responsive renditions arrive with image uploads
        if name == "publication":
            item["credibility_label"] = LABELS[item["credibility"]]
        found[item["id"]] = item
    return found


def _group(rows: Iterable[Any]) -> dict[int, list[dict[str, Any]]]:
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        item = dict(row)
        grouped[item.pop("article_id")].append(item)
    return grouped


def _authors(session: DbSession, ids: list[int], *, full: bool) -> dict[int, list[Any]]:
    query = (
        select(
            ArticleAuthor.article_id,
            Author.id,
            Author.slug,
            Author.name,
            *(_FULL["authors"] if full else ()),
        )
        .join(Author, Author.id == ArticleAuthor.author_id)
        .where(ArticleAuthor.article_id.in_(ids))
        .order_by(ArticleAuthor.article_id, ArticleAuthor.position)
    )
    return _group(session.execute(query).mappings())


def _tags(session: DbSession, ids: list[int], *, full: bool) -> dict[int, list[Any]]:
    query = (
        select(ArticleTag.article_id, Tag.id, Tag.slug, Tag.name, *(_FULL["tags"] if full else ()))
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(ids))
        .order_by(ArticleTag.article_id, ArticleTag.position)
    )
    return _group(session.execute(query).mappings())


def _cited_by(session: DbSession, ids: list[int], *, full: bool) -> dict[int, list[Any]]:
    query = (
        select(
            page_citations.c.article_id,
            Page.id,
            Page.slug,
            Page.title,
            Page.type,
            Page.quality,
            *(_FULL["cited_by"] if full else ()),
        )
        .join(Page, Page.id == page_citations.c.page_id)
        .where(page_citations.c.article_id.in_(ids))
        .order_by(page_citations.c.article_id, Page.quality.desc(), Page.id)
    )
    return _group(session.execute(query).mappings())
