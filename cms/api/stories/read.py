"""Stories as the API shows them: public members only, a page's relations in one query
each (no query per story)."""

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from cms.api.common import as_utc
from cms.models import (
    Article,
    ArticleTag,
    Category,
    Publication,
    Story,
    StoryMember,
    StoryRole,
    Tag,
)
from cms.problems import fail
from cms.services import DbSession
from cms.services.clustering import significant_words
from cms.services.credibility import credibility_column
from cms.services.search import SearchTerms, ranked_matches
from cms.services.visibility import public_now

# What a story shows of each article (members, related articles).
_ARTICLE_COLUMNS = (
    Article.id,
    Article.slug,
    Article.title,
    Article.published_at,
    Publication.id.label("publication_id"),
    Publication.slug.label("publication_slug"),
    Publication.name.label("publication_name"),
    credibility_column().label("credibility"),
)
_SORTS = {"last_seen_at": Story.last_seen_at, "member_count": Story.member_count}


def _public_member(story_id: Any = Story.id) -> Any:
    return (
        select(StoryMember.article_id)
        .join(Article, Article.id == StoryMember.article_id)
        .where(StoryMember.story_id == story_id, Article.trashed_at.is_(None), public_now())
    )


def story_filters(args: dict[str, Any]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [exists(_public_member())]
    if "since" in args:
        where.append(Story.last_seen_at >= args["since"])
    if "until" in args:
        where.append(Story.first_seen_at < args["until"])
    if "min_sources" in args:
        where.append(Story.source_count >= args["min_sources"])
    if "min_credibility" in args:
        where.append(Story.top_credibility >= args["min_credibility"])
    if "category" in args:
        in_category = _public_member().join(Category, Category.id == Article.category_id)
        where.append(exists(in_category.where(Category.slug == args["category"])))
    if args.get("tag"):
        tagged = (
            _public_member()
            .join(ArticleTag, ArticleTag.article_id == Article.id)
            .join(Tag, Tag.id == ArticleTag.tag_id)
        )
        where.append(exists(tagged.where(Tag.slug.in_(args["tag"]))))
    return where


def ordered(query: Select[Any], sort: str, cursor: str | None) -> Select[Any]:
    column = _SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    if cursor is not None:
        value, last_id = decode_cursor(sort, cursor)
        if descending:
            query = query.where(or_(column < value, and_(column == value, Story.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, Story.id > last_id)))
    if descending:
        return query.order_by(column.desc(), Story.id.desc())
    return query.order_by(column.asc(), Story.id.asc())


def encode_cursor(sort: str, story: Story) -> str:
    value = getattr(story, sort.removeprefix("-"))
    plain = value.isoformat() if isinstance(value, datetime) else value
    payload = orjson.dumps({"s": sort, "v": plain, "id": story.id})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["s"] != sort or not isinstance(payload["id"], int):
            raise ValueError("cursor made for another sort")
        value = payload["v"]
        if sort.endswith("last_seen_at"):
            value = as_utc(datetime.fromisoformat(value))
        elif not isinstance(value, int) or not 0 <= value < 2**31 or payload["id"] >= 2**31:
            raise ValueError("out of range")
        return value, payload["id"]
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        fail(
            400,
            "invalid_cursor",
            "The cursor is malformed or was made for another sort.",
            errors={"cursor": ["Use meta.next_cursor of a response with the same sort."]},
        )


def _articles(session: DbSession, where: Any) -> list[Any]:
    return list(
        session.execute(
            select(
                *_ARTICLE_COLUMNS,
                StoryMember.story_id,
                StoryMember.role,
                StoryMember.duplicate_of_id,
            )
            .join(StoryMember, StoryMember.article_id == Article.id)
            .outerjoin(Publication, Publication.id == Article.publication_id)
            .where(where, Article.trashed_at.is_(None), public_now())
            .order_by(Article.published_at, Article.id)
        )
    )


def _article(row: Any) -> dict[str, Any]:
    publication = None
    if row.publication_id is not None:
        publication = {
            "id": row.publication_id,
            "slug": row.publication_slug,
            "name": row.publication_name,
        }
    return {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "published_at": row.published_at,
        "publication": publication,
        "credibility": row.credibility,
    }


def render_stories(session: DbSession, stories: Sequence[Story]) -> list[dict[str, Any]]:
    """List items: the stored counts, the lead if public, publications by reference."""
    leads = {
        row.id: _article(row)
        for row in _articles(session, Article.id.in_([s.lead_article_id for s in stories]))
    }
    publication_ids = {int(k) for s in stories for k in s.publication_counts}
    publications = {
        row.id: {"id": row.id, "slug": row.slug, "name": row.name}
        for row in session.execute(
            select(Publication.id, Publication.slug, Publication.name).where(
                Publication.id.in_(publication_ids)
            )
        )
    }
    return [_story(s, leads.get(s.lead_article_id or 0), publications) for s in stories]


def _story(
    story: Story,
    lead: dict[str, Any] | None,
    publications: dict[int, dict[str, Any]],
    publication_counts: dict[str, int] | None = None,
    credibility_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    by_publication = publication_counts or story.publication_counts
    by_level = credibility_counts or story.credibility_counts
    spread = {
        "publications": [
            {"publication": publications[int(k)], "count": n}
            for k, n in sorted(by_publication.items(), key=lambda item: -item[1])
            if int(k) in publications
        ],
        "credibility": [{"level": int(k), "count": n} for k, n in sorted(by_level.items())],
    }
    return {
        "id": story.id,
        "title": story.title,
        "lead": lead,
        "lead_pinned": story.lead_pinned,
        "locked": story.locked,
        "first_seen_at": story.first_seen_at,
        "last_seen_at": story.last_seen_at,
        "member_count": story.member_count,
        "source_count": len(by_publication),
        "single_source": len(by_publication) <= 1,
        "top_credibility": story.top_credibility,
        "spread": spread,
    }


def render_story(session: DbSession, story: Story) -> dict[str, Any] | None:
    """One story from its public members (None when it has none): their timeline and
    the spread counted from them."""
    rows = _articles(session, StoryMember.story_id == story.id)
    if not rows:
        return None
    publications: dict[int, dict[str, Any]] = {}
    by_publication: dict[str, int] = {}
    by_level: dict[str, int] = {}
    for row in rows:
        if row.publication_id is not None:
            publications[row.publication_id] = _article(row)["publication"]
            key = str(row.publication_id)
            by_publication[key] = by_publication.get(key, 0) + 1
        if row.credibility:
            by_level[str(row.credibility)] = by_level.get(str(row.credibility), 0) + 1
    lead = next((_article(r) for r in rows if r.role is StoryRole.LEAD), None)
    rendered = _story(story, lead, publications, by_publication, by_level)
    rendered["member_count"] = len(rows)
    rendered["top_credibility"] = max((r.credibility or 0 for r in rows), default=0) or None
    rendered["members"] = [
        {"role": r.role, "duplicate_of": r.duplicate_of_id, "article": _article(r)} for r in rows
    ]
    return rendered


def related_articles(session: DbSession, article_id: int, limit: int) -> list[dict[str, Any]]:
    """The article's story's other public members (newest first), then similar articles
    from the search index (its title's words, best ranked), to `limit` in all."""
    story_id = session.scalar(
        select(StoryMember.story_id).where(StoryMember.article_id == article_id)
    )
    found: list[dict[str, Any]] = []
    if story_id is not None:
        rows = _articles(session, and_(StoryMember.story_id == story_id, Article.id != article_id))
        found = [{**_article(r), "relation": "same_story"} for r in reversed(rows)][:limit]
    if len(found) < limit:
        found += _similar(session, article_id, {a["id"] for a in found}, limit - len(found))
    return found


def _similar(
    session: DbSession, article_id: int, seen: set[int], limit: int
) -> list[dict[str, Any]]:

    title = session.scalar(select(Article.title).where(Article.id == article_id)) or ""
    words = tuple(dict.fromkeys(significant_words(title)))[:12]
    visible = (Article.trashed_at.is_(None), public_now(), Article.id != article_id)
    hits = ranked_matches(session, SearchTerms(words, ()), 200, visible, match_any=True)
    if hits is None:
        return []
    rows = session.execute(
        select(*_ARTICLE_COLUMNS)
        .join(hits, hits.c.article_id == Article.id)
        .outerjoin(Publication, Publication.id == Article.publication_id)
        .where(Article.id.not_in(seen or {0}))
        .order_by(hits.c.score.desc(), Article.id.desc())
        .limit(limit)
    )
    return [{**_article(r), "relation": "similar"} for r in rows]
