"""From validated list arguments to SQL: filters, sort keys and keyset cursors.

Cursors hold the sort key values of the last row sent. The next page starts strictly
after them in the sort order (NULLs last in both directions, id as the final key), so
deep pages cost what the first does and rows inserted meanwhile shift nothing.
"""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, false, or_, select

from cms.api.articles.read import publication_alias
from cms.api.common import as_utc
from cms.extensions import DB_INT_MAX
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    Publication,
    StoryMember,
    StoryRole,
    Tag,
)
from cms.problems import fail
from cms.services.credibility import credibility_column


@dataclass(frozen=True)
class SortKey:
    name: str
    column: Any  # a mapped column or an expression
    descending: bool
    nullable: bool
    is_time: bool = False


def effective_credibility() -> ColumnElement[Any]:
    return credibility_column(publication_alias)


def _columns() -> dict[str, tuple[Any, bool, bool]]:
    """Sort name -> (expression, nullable, is a timestamp)."""
    return {
        "published_at": (Article.published_at, True, True),
        "created_at": (Article.created_at, False, True),
        "updated_at": (Article.updated_at, False, True),
        "title": (Article.title, False, False),
        "importance": (Article.importance, True, False),
        "credibility": (effective_credibility(), True, False),
        "id": (Article.id, False, False),
    }


def sort_keys(requested: Sequence[str] | None) -> list[SortKey]:
    columns = _columns()
    keys = []
    for item in requested or ["-published_at"]:
        name = item.removeprefix("-")
        column, nullable, is_time = columns[name]
        keys.append(SortKey(name, column, item.startswith("-"), nullable, is_time))
    if keys[-1].name != "id":  # a unique last key makes the order total, hence stable
        keys = [k for k in keys if k.name != "id"]
        keys.append(SortKey("id", Article.id, keys[-1].descending if keys else True, False))
    return keys


def order_by(keys: list[SortKey]) -> list[Any]:
    return [(k.column.desc() if k.descending else k.column.asc()).nulls_last() for k in keys]


def filters(args: dict[str, Any]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if "status" in args:
        where.append(Article.status == args["status"])
    # Equality with a scalar subquery (not IN) lets the planner walk the
    # (category_id, status, published_at, id) index in order.
    if "category" in args:
        where.append(
            Article.category_id
            == select(Category.id).where(Category.slug == args["category"]).scalar_subquery()
        )
    if "publication" in args:
        where.append(
            Article.publication_id
            == select(Publication.id)
            .where(Publication.slug == args["publication"])
            .scalar_subquery()
        )
    if "author" in args:
        where.append(
            Article.id.in_(
                select(ArticleAuthor.article_id)
                .join(Author, Author.id == ArticleAuthor.author_id)
                .where(Author.slug == args["author"])
            )
        )
    if args.get("tag"):
        where.extend(_tag_filters(args["tag"], match_all=args["tag_match"] == "all"))
    if "published_after" in args:
        where.append(Article.published_at >= args["published_after"])
    if "published_before" in args:
        where.append(Article.published_at < args["published_before"])
    if "min_importance" in args:
        where.append(Article.importance >= args["min_importance"])
    if "min_credibility" in args:
        where.append(effective_credibility() >= args["min_credibility"])
    if "content_type" in args:
        where.append(Article.content_type == args["content_type"])
    for key in ("resource_id", "stable_id"):
        if key in args:
            where.append(getattr(Article, key) == args[key])
    if args.get("collapse_duplicates"):
        where.append(
            ~Article.id.in_(
                select(StoryMember.article_id).where(StoryMember.role == StoryRole.DUPLICATE)
            )
        )
    if "aggregated" in args:
        aggregated = Article.source_url.is_not(None)
        where.append(aggregated if args["aggregated"] else ~aggregated)
    return where


def _tag_filters(slugs: list[str], *, match_all: bool) -> list[ColumnElement[bool]]:
    def tagged(wanted: list[str]) -> ColumnElement[bool]:
        return Article.id.in_(
            select(ArticleTag.article_id)
            .join(Tag, Tag.id == ArticleTag.tag_id)
            .where(Tag.slug.in_(wanted))
        )

    return [tagged([slug]) for slug in slugs] if match_all else [tagged(slugs)]


def encode_cursor(keys: list[SortKey], article: dict[str, Any]) -> str:
    values = [_plain(_sort_value(article, k.name)) for k in keys]
    payload = orjson.dumps(
        {"s": [("-" if k.descending else "") + k.name for k in keys], "v": values}
    )
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def after_cursor(keys: list[SortKey], cursor: str) -> ColumnElement[bool]:
    """Rows strictly after the cursor's position, in the order of `keys`."""
    values = _decode(keys, cursor)
    disjuncts = []
    for i, key in enumerate(keys):
        equal_before = [_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)]
        disjuncts.append(and_(*equal_before, _beyond(key, values[i])))
    return or_(*disjuncts)


def cursor_range(
    keys: list[SortKey], cursor: str, never_null: frozenset[str] = frozenset()
) -> list[ColumnElement[bool]]:
    """An inclusive bound on the first sort key that after_cursor implies, as a plain
    range an index can seek to: SQLite seeks on one bound per column, the first given,
    so this goes before the visibility test (published_at <= now) or a deep page scans
    every row newer than the cursor. None where NULLs, which sort last, could follow.
    `never_null`: keys the query's other conditions already keep from being NULL."""
    key, value = keys[0], _decode(keys, cursor)[0]
    if value is None or (key.nullable and key.name not in never_null):
        return []
    return [key.column <= value if key.descending else key.column >= value]


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    if value is None:  # NULLs come last: nothing lies beyond them on this key
        return false()
    beyond: ColumnElement[bool] = key.column < value if key.descending else key.column > value
    return or_(beyond, key.column.is_(None)) if key.nullable else beyond


def _equal(key: SortKey, value: Any) -> ColumnElement[bool]:
    equal: ColumnElement[bool] = key.column.is_(None) if value is None else key.column == value
    return equal


def _sort_value(article: dict[str, Any], name: str) -> Any:
    if name == "credibility":
        return article["credibility"]["value"] if article["credibility"] else None
    return article[name]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(keys: list[SortKey], cursor: str) -> list[Any]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        names = [("-" if k.descending else "") + k.name for k in keys]
        if payload["s"] != names or len(payload["v"]) != len(keys):
            raise ValueError("cursor made for another sort")
        return [_typed(k, v) for k, v in zip(keys, payload["v"], strict=True)]
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        fail(
            400,
            "invalid_cursor",
            "The cursor is malformed or was made for another sort.",
            errors={"cursor": ["Use meta.next_cursor of a response with the same sort."]},
        )


def _typed(key: SortKey, value: Any) -> Any:
    if value is None:
        return None
    if key.is_time:  # ValueError when naive, or out of range once in UTC
        return as_utc(datetime.fromisoformat(value))
    if key.name == "title":
        if not isinstance(value, str):
            raise TypeError("title cursor values are strings")
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("numeric cursor values are integers")
    if not -DB_INT_MAX <= value <= DB_INT_MAX:
        raise ValueError("beyond the database's integers")
    return value
