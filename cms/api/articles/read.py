"""The article read path: Core rows straight to dicts, cached per article version.

This is the hot path of the site (see PERFORMANCE.md): no ORM objects are hydrated and
no marshmallow dump runs. A list first selects (id, version, updated_at) in order, then
takes each article's rendering from a per-process cache, fetching only the missing
ones: to-one relations ride along as LEFT JOINs, authors, tags and citing pages cost one
query each whatever the number of rows (relations.py). `include` swaps compact
references for full objects (one more query per included to-one relation).
"""

import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from cms.api.articles.relations import by_id, related
from cms.api.common import AnySelect
from cms.caching import CACHES, LRU
from cms.models import (
    Article,
    BodyFormat,
    Category,
    Image,
    Publication,
)
from cms.services import DbSession
from cms.services.credibility import effective_credibility

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

# Statements are built once: building a 40-column SELECT per request costs more than
# running it. Requests only add WHERE/ORDER BY/LIMIT (cheap, generative copies).
_ARTICLE_QUERY: AnySelect = (
    select(*_ARTICLE_COLUMNS, *_BODY_COLUMNS, *_JOINED_COLUMNS)
    .outerjoin(category_alias, category_alias.id == Article.category_id)
    .outerjoin(image_alias, image_alias.id == Article.cover_image_id)
    .outerjoin(publication_alias, publication_alias.id == Article.publication_id)
)


def article_query() -> AnySelect:
    """SELECT articles with their category, cover image and publication joined in."""
    return _ARTICLE_QUERY


def stamp_query(*, rated: bool) -> AnySelect:
    """SELECT id, version, updated_at: enough to order and filter a list and to find
    each article's rendering in the cache. Joined to publications only when credibility
    is filtered or sorted on."""
    return _STAMP_QUERIES[rated]


_STAMP = (Article.id, Article.version, Article.updated_at)
_STAMP_QUERIES = {
    False: select(*_STAMP),
    True: select(*_STAMP).outerjoin(
        publication_alias, publication_alias.id == Article.publication_id
    ),
}

# Renderings of articles, per (id, version, updated_at, include). Anything shown in an
# article bumps its updated_at when it changes (services.articles.touch_articles_using).
_rendered = LRU(size=int(os.environ.get("ARTICLE_CACHE_ENTRIES", 4096)))
CACHES.append(_rendered)


def load_articles(
    session: DbSession, stamps: Sequence[Any], *, include: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """The articles of these stamps, in their order: cached renderings where current,
    one fetch for the rest. Each dict is the caller's to change."""
    found: dict[int, dict[str, Any]] = {}
    for stamp in stamps:
        hit = _rendered.get((stamp.id, stamp.version, stamp.updated_at, include))
        if hit is not None:
            found[stamp.id] = hit
    missing = [stamp.id for stamp in stamps if stamp.id not in found]
    if missing:
        versions = {stamp.id: stamp.version for stamp in stamps}
        query = article_query().where(Article.id.in_(missing))
        for article in fetch_articles(session, query, include=include):
            found[article["id"]] = article
            key = (article["id"], versions[article["id"]], article["updated_at"], include)
            _rendered.put(key, article)
    return [dict(found[stamp.id]) for stamp in stamps if stamp.id in found]


def count_query(*, rated: bool) -> AnySelect:
    """COUNT without columns; joined to publications only when a credibility filter
    needs it (the join forces reading whole rows instead of scanning an index)."""
    return _COUNT_QUERIES[rated]


_COUNT_QUERIES = {
    False: select(func.count()).select_from(Article),
    True: select(func.count())
    .select_from(Article)
    .outerjoin(publication_alias, publication_alias.id == Article.publication_id),
}


def fetch_articles(
    session: DbSession, query: AnySelect, *, include: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Run an `article_query()` (filtered, ordered, limited) and build API dicts."""
    rows = session.connection().execute(query).mappings().all()
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    authors, tags, cited_by = (
        related(session, name, ids, full=name in include)
        for name in ("authors", "tags", "cited_by")
    )
    full_to_one = {
        name: by_id(session, name, {row[key] for row in rows} - {None})
        for name, key in (
            ("category", "category_id"),
            ("cover_image", "image_id"),
            ("publication", "publication_id"),
        )
        if name in include
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
    body_format = row["body_format"]
    return {
        "id": row["id"],
        "slug": row["slug"],
        "stable_id": row["stable_id"],
        "title": row["title"],
        "excerpt": row["excerpt"],
        "body_html": row["body_html"],
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
