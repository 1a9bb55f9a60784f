"""Relations of articles, fetched for a page of them at once: one query per relation,
whatever the number of articles. Statements are prebuilt; they run on the Core
connection (no ORM layer) with the page's ids as an expanding parameter."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select

from cms.models import (
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    Image,
    Page,
    Publication,
    Rendition,
    Tag,
    page_citations,
)
from cms.services import DbSession
from cms.services.credibility import LABELS
from cms.services.media import CONTENT_TYPES
from cms.storage import storage

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


def by_id(session: DbSession, name: str, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    found = {}
    srcsets = _srcsets(session, ids) if name == "cover_image" else {}
    for item in _rows(session, _BY_ID[name], ids):
        if name == "cover_image":
            item["srcset"] = srcsets.get(item["id"], [])  # remote images have none
        if name == "publication":
            item["credibility_label"] = LABELS[item["credibility"]]
        found[item["id"]] = item
    return found


def _rows(session: DbSession, statement: Any, ids: Iterable[int]) -> list[dict[str, Any]]:
    """Run a prebuilt statement for these ids on the Core connection (no ORM layer)."""
    result = session.connection().execute(statement, {"ids": list(ids)})
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def _grouped(session: DbSession, statement: Any, ids: list[int]) -> dict[int, list[Any]]:
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in _rows(session, statement, ids):
        grouped[item.pop("article_id")].append(item)
    return grouped


_IDS: Any = bindparam("ids", expanding=True)
_BY_ID = {
    name: select(*columns).where(columns[0].in_(_IDS))
    for name, columns in _FULL.items()
    if name in ("category", "cover_image", "publication")
}


_SRCSETS = (
    select(Rendition.image_id, Rendition.key, Rendition.width, Rendition.height, Rendition.format)
    .where(Rendition.image_id.in_(_IDS), Rendition.kind == "width")
    .order_by(Rendition.image_id, Rendition.width, Rendition.format)
)


def _srcsets(session: DbSession, ids: Iterable[int]) -> dict[int, list[Any]]:
    """Width renditions of these images, with the URLs the storage serves them at."""
    store = storage()
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in _rows(session, _SRCSETS, ids):
        grouped[item.pop("image_id")].append(
            {
                "url": store.url(item.pop("key")),
                **item,
                "type": CONTENT_TYPES[item["format"]],
            }
        )
    return grouped


def _relation_queries(full: bool) -> dict[str, Any]:
    return {
        "authors": select(
            ArticleAuthor.article_id,
            Author.id,
            Author.slug,
            Author.name,
            *(_FULL["authors"] if full else ()),
        )
        .join(Author, Author.id == ArticleAuthor.author_id)
        .where(ArticleAuthor.article_id.in_(_IDS))
        .order_by(ArticleAuthor.article_id, ArticleAuthor.position),
        "tags": select(
            ArticleTag.article_id, Tag.id, Tag.slug, Tag.name, *(_FULL["tags"] if full else ())
        )
        .join(Tag, Tag.id == ArticleTag.tag_id)
        .where(ArticleTag.article_id.in_(_IDS))
        .order_by(ArticleTag.article_id, ArticleTag.position),
        "cited_by": select(
            page_citations.c.article_id,
            Page.id,
            Page.slug,
            Page.title,
            Page.type,
            Page.quality,
            *(_FULL["cited_by"] if full else ()),
        )
        .join(Page, Page.id == page_citations.c.page_id)
        .where(page_citations.c.article_id.in_(_IDS))
        .order_by(page_citations.c.article_id, Page.quality.desc(), Page.id),
    }


_RELATIONS = {full: _relation_queries(full) for full in (False, True)}


def related(session: DbSession, name: str, ids: list[int], *, full: bool) -> dict[int, list[Any]]:
    return _grouped(session, _RELATIONS[full][name], ids)
