"""The article read path: Core rows straight to dicts, cached per article version.

This is the hot path of the site (see PERFORMANCE.md): no ORM objects are hydrated and
no marshmallow dump runs. A list first selects (id, version, updated_at) in order, then
takes each article's rendering from a per-process cache (one per article version,
bounded by entries and bytes), fetching only the missing ones: to-one relations ride
along as LEFT JOINs, authors, tags and citing pages cost one query each whatever the
number of rows (relations.py). `include` swaps compact references for full objects,
kept in the same rendering (one more query per included relation it lacks).
"""

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Dialect, func, select

from cms.api.articles.relations import by_id, related
from cms.api.common import AnySelect
from cms.cache_tags import show
from cms.caching import CACHES, LRU
from cms.models import Article, BodyFormat, Story, StoryMember
from cms.models.base import UTCDateTime
from cms.services import DbSession
from cms.services.article_relations import RELATIONS_BY_NAME, TO_MANY, TO_ONE
from cms.services.credibility import effective_credibility
from cms.services.purging import article_keys

# Credibility filters and sorts read the joined publication's rating.
publication_alias = RELATIONS_BY_NAME["publication"].alias

_BODY_COLUMNS = (Article.body_format, Article.body_source, Article.body_html)
_ARTICLE_COLUMNS = (
    Article.id,
    Article.slug,
    Article.stable_id,
    Article.title,
    Article.excerpt,
    Article.status,
    Article.published_at,
    Article.unpublish_at,
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
# Each to-one relation's compact columns, joined in as `<relation>_<column>`.
_JOINED_COLUMNS = (
    *(
        getattr(relation.alias, column.key).label(f"{relation.name}_{column.key}")
        for relation in TO_ONE
        for column in relation.compact
    ),
    publication_alias.credibility.label("publication_credibility"),
    StoryMember.story_id.label("story_id"),
    StoryMember.role.label("story_role"),
)


def _with_to_one_joins(query: AnySelect) -> AnySelect:
    for relation in TO_ONE:
        query = query.outerjoin(relation.alias, relation.alias.id == relation.item_column)
    # Its story: clustering bumps updated_at when an article's story or role changes.
    return query.outerjoin(StoryMember, StoryMember.article_id == Article.id)


# Statements are built once: building a 40-column SELECT per request costs more than
# running it. Requests only add WHERE/ORDER BY/LIMIT (cheap, generative copies).
_ARTICLE_QUERY = _with_to_one_joins(select(*_ARTICLE_COLUMNS, *_BODY_COLUMNS, *_JOINED_COLUMNS))


def article_query() -> AnySelect:
    """SELECT articles with their category, cover image and publication joined in."""
    return _ARTICLE_QUERY


def stamp_query(*, rated: bool) -> AnySelect:
    """SELECT id, version, updated_at: enough to order and filter a list and to find
    each article's rendering in the cache. Joined to publications only when credibility
    is filtered or sorted on."""
    return _STAMP_QUERIES[rated]


# unpublish_at: a public response may be kept until then at most.
_STAMP = (Article.id, Article.version, Article.updated_at, Article.unpublish_at)


class Stamp(NamedTuple):
    """A row of a stamp query read raw (cms.raw_reads), typed as SQLAlchemy would."""

    id: int
    version: int
    updated_at: datetime
    unpublish_at: datetime | None


def stamps_of(rows: Iterable[tuple[Any, ...]], dialect: Dialect) -> list[Stamp]:
    moment = UTCDateTime().process_result_value
    stamps = []
    for id_, version, updated, until in rows:
        updated_at = moment(updated, dialect)
        assert updated_at is not None  # the column is NOT NULL
        stamps.append(Stamp(id_, version, updated_at, moment(until, dialect)))
    return stamps


_STAMP_QUERIES = {
    False: select(*_STAMP),
    True: select(*_STAMP).outerjoin(
        publication_alias, publication_alias.id == Article.publication_id
    ),
}


@dataclass(eq=False)  # compared by identity: the dicts are large
class Rendering:
    """One version of an article as the API shows it: with compact references, plus the
    full form of each relation some request included so far. One rendering serves
    every shape (include, fields), so a 1 MB body is held once, not once per shape."""

    article: dict[str, Any]
    full: dict[str, Any] = field(default_factory=dict)
    cache_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache_keys = article_keys(self.article)

    def shaped(self, include: frozenset[str]) -> dict[str, Any]:
        """A fresh dict (the caller's to change) with the included relations in full."""
        article = dict(self.article)
        for name in include:
            article[name] = self.full[name]
        return article

    def nbytes(self) -> int:
        """What it holds, roughly: its strings (the bodies dominate) and a fixed part."""
        related = sum(len(v) if isinstance(v, list) else 1 for v in self.full.values())
        return article_bytes(self.article) + related * _RELATED_ITEM


def article_bytes(article: dict[str, Any]) -> int:
    """Roughly what an article dict holds: its strings (the bodies dominate) and a
    fixed part for the rest."""
    strings = sum(sys.getsizeof(v) for v in article.values() if isinstance(v, str))
    return strings + _RENDERING_OVERHEAD


_RENDERING_OVERHEAD = 4096  # the dicts, the small values, the compact references
_RELATED_ITEM = 1024  # each full related row (an author's bio, a page's summary)
# Renderings of articles, per (id, version, updated_at). Anything shown in an article
# bumps its updated_at when it changes (services.articles.touch_articles_using).
_rendered = LRU(
    size=int(os.environ.get("ARTICLE_CACHE_ENTRIES", 4096)),
    max_bytes=int(os.environ.get("ARTICLE_CACHE_BYTES", 16 * 2**20)),
)
CACHES.append(_rendered)


def load_articles(
    session: DbSession,
    stamps: Sequence[Any],
    *,
    include: frozenset[str] = frozenset(),
    remember: bool = True,
) -> list[dict[str, Any]]:
    """The articles of these stamps, in their order: cached renderings where current,
    one fetch for the rest (and one query per included relation they lack in full).
    Each dict is the caller's to change; the response is tagged with what they show
    (cache_tags). `remember=False` for what may never commit (a preview of a revision)."""
    found: dict[int, Rendering] = {}
    for stamp in stamps:
        hit = _rendered.get((stamp.id, stamp.version, stamp.updated_at)) if remember else None
        if hit is not None:
            found[stamp.id] = hit
    missing = [stamp.id for stamp in stamps if stamp.id not in found]
    fetched = []
    if missing:
        query = article_query().where(Article.id.in_(missing))
        fetched = fetch_renderings(session, query, include=include)
        found |= {rendering.article["id"]: rendering for rendering in fetched}
    relations = include - {STORY}
    lacking = [r for r in found.values() if not relations <= r.full.keys()]
    _complete(session, lacking, relations)
    if remember:
        versions = {stamp.id: stamp.version for stamp in stamps}
        for rendering in [*fetched, *(r for r in lacking if r not in fetched)]:
            article = rendering.article
            key = (article["id"], versions[article["id"]], article["updated_at"])
            _rendered.put(key, rendering, rendering.nbytes())
    shown = [found[stamp.id] for stamp in stamps if stamp.id in found]
    show(key for rendering in shown for key in rendering.cache_keys)
    articles = [rendering.shaped(relations) for rendering in shown]
    if STORY in include:
        _include_stories(session, articles)
    return articles


STORY = "story"  # included apart from the relations: a story changes without its members


def _include_stories(session: DbSession, articles: list[dict[str, Any]]) -> None:
    """Each article's story in full, read now (one query for the page): a story's title
    and counts move with other articles, which do not bump this one's rendering."""
    ids = {a["story"]["id"] for a in articles if a.get("story")}
    rows = session.execute(
        select(
            Story.id,
            Story.title,
            Story.lead_article_id,
            Story.member_count,
            Story.source_count,
            Story.first_seen_at,
            Story.last_seen_at,
        ).where(Story.id.in_(ids))
    )
    full = {row.id: row._asdict() for row in rows}
    for article in articles:
        ref = article.get("story")
        if ref is not None:
            article["story"] = {**ref, **full.get(ref["id"], {})}


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


def fetch_renderings(
    session: DbSession, query: AnySelect, *, include: frozenset[str] = frozenset()
) -> list[Rendering]:
    """Run an `article_query()` (filtered, ordered, limited) and build renderings, with
    the included relations in full."""
    rows = session.connection().execute(query).mappings().all()
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    # A list relation included in full gives its compact form too (a subset of it).
    lists = {
        relation.name: related(session, relation.name, ids, full=relation.name in include)
        for relation in TO_MANY
    }
    renderings = [Rendering(_article_dict(row, lists)) for row in rows]
    for relation in TO_MANY:
        if relation.name in include:
            keys = [column.key for column in relation.compact]
            for rendering in renderings:
                items = rendering.article[relation.name]
                rendering.full[relation.name] = items
                rendering.article[relation.name] = [{k: item[k] for k in keys} for item in items]
    _complete(session, renderings, include & _TO_ONE_NAMES)
    return renderings


def _complete(session: DbSession, renderings: list[Rendering], include: frozenset[str]) -> None:
    """Add the full form of each included relation the renderings lack: one query per
    relation for all of them."""
    for name in include:
        lacking = [r for r in renderings if name not in r.full]
        if not lacking:
            continue
        if name in _TO_ONE_NAMES:
            refs = {r.article[name]["id"] for r in lacking if r.article[name] is not None}
            full = by_id(session, name, refs)
            for rendering in lacking:
                ref = rendering.article[name]
                rendering.full[name] = None if ref is None else full.get(ref["id"])
        else:
            ids = [r.article["id"] for r in lacking]
            lists = related(session, name, ids, full=True)
            for rendering in lacking:
                rendering.full[name] = lists.get(rendering.article["id"], [])


_TO_ONE_NAMES = frozenset(relation.name for relation in TO_ONE)


def _article_dict(row: Any, lists: dict[str, dict[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    body_format = row["body_format"]
    article = {
        "id": row["id"],
        "slug": row["slug"],
        "stable_id": row["stable_id"],
        "title": row["title"],
        "excerpt": row["excerpt"],
        "body_html": row["body_html"],
        "body_markdown": row["body_source"] if body_format is BodyFormat.MARKDOWN else None,
        "status": row["status"],
        "published_at": row["published_at"],
        "unpublish_at": row["unpublish_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "source_url": row["source_url"],
        "canonical_url": row["canonical_url"],
        "resource_id": row["resource_id"],
        "content_type": row["content_type"],
        "importance": row["importance"],
        "credibility": effective_credibility(row["credibility_override"], _rated_publication(row)),
        "summary": row["summary"],
        "key_points": row["key_points"] or [],
        "relevance": row["relevance"],
        "fetch": None
        if row["fetch_status"] is None
        else {
            "status": row["fetch_status"],
            "fetched_at": row["fetched_at"],
            "bytes": row["fetch_bytes"],
            "content_hash": row["fetch_content_hash"],
        },
    }
    for relation in TO_ONE:
        key = row[f"{relation.name}_id"]
        if key is None:
            article[relation.name] = None
        else:
            article[relation.name] = {
                column.key: row[f"{relation.name}_{column.key}"] for column in relation.compact
            }
    for name, per_article in lists.items():
        article[name] = per_article.get(row["id"], [])
    story_id = row["story_id"]
    article["story"] = None if story_id is None else {"id": story_id, "role": row["story_role"]}
    return article


def _rated_publication(row: Any) -> dict[str, Any] | None:
    if row["publication_id"] is None:
        return None
    return {
        "id": row["publication_id"],
        "slug": row["publication_slug"],
        "name": row["publication_name"],
        "credibility": row["publication_credibility"],
    }
