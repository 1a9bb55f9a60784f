"""Feed ingestion: fetch a feed, and turn its new items into articles in bulk.

An item is new when neither its GUID (per feed) nor its resource_id (the canonical
source URL, across all feeds and imports) has been seen. Existing articles are never
overwritten: editors may have worked on them. Rows are written with one multi-row
INSERT per table and batch, not one ORM object per item: a 10 000-item feed is the
benchmark (bench/ingest.py).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slugify import slugify
from sqlalchemy import insert, select

from cms.caching import mark_content_changed
from cms.models import (
    Article,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    Author,
    BodyFormat,
    Feed,
    FeedItem,
    FetchOutcome,
    Publication,
    SearchDocument,
    Tag,
    utcnow,
)
from cms.models.outbox import record_created
from cms.services import DbSession
from cms.services.feeds import Entry, FeedParseError, parse_feed
from cms.services.fetching import FetchError, FetchPolicy, fetch
from cms.services.html import html_to_text
from cms.services.identifiers import domain_of, name_slug, new_stable_id
from cms.services.search import indexable
from cms.services.sources import cache_source

BATCH = 500
# Bylines and tags: link table, named table, the Entry field with the names, link column.
_LINKS: tuple[tuple[type[Any], type[Author | Tag], str, str], ...] = (
    (ArticleAuthor, Author, "authors", "author_id"),
    (ArticleTag, Tag, "tags", "tag_id"),
)
T = TypeVar("T")


@dataclass
class IngestResult:
    status: FetchOutcome
    new_items: int = 0
    seen_items: int = 0
    skipped_items: int = 0
    error: str | None = None
    new_article_ids: Sequence[int] = ()


def ingest_feed(session: DbSession, feed: Feed, policy: FetchPolicy) -> IngestResult:
    """Fetch `feed` (conditionally), store its new items, record the outcome on it.
    Failures are recorded, not raised: the caller commits either way."""
    now = utcnow()
    feed.last_fetched_at = now
    try:
        fetched = fetch(feed.url, policy, etag=feed.etag, last_modified=feed.last_modified)
        if fetched.not_modified:
            result = IngestResult(FetchOutcome.NOT_MODIFIED)
        else:
            parsed = parse_feed(fetched.body, fetched.url, fetched.headers.get("content-type"))
            ids, seen = store_entries(session, feed, parsed.entries)
            result = IngestResult(
                FetchOutcome.OK, len(ids), seen, parsed.skipped, parsed.warning, ids
            )
            feed.title = feed.title or parsed.title[:300]
        # Validators too long to keep are not kept: the next fetch is a full one.
        feed.etag = _fits(fetched.headers.get("etag", feed.etag), 500)
        feed.last_modified = _fits(fetched.headers.get("last-modified", feed.last_modified), 100)
        feed.consecutive_failures = 0
    except (FetchError, FeedParseError) as error:
        result = IngestResult(FetchOutcome.ERROR, error=str(error))
        feed.consecutive_failures += 1
    feed.last_status = result.status
    feed.last_error = result.error
    feed.last_new_items = result.new_items
    return result


def store_entries(
    session: DbSession, feed: Feed, entries: Sequence[Entry]
) -> tuple[list[int], int]:
    """Create articles for the entries not seen before; (their ids, how many were seen)."""
    created: list[int] = []
    seen = 0
    for batch in _batches(_unique(entries), BATCH):
        new_ids, seen_now = _store_batch(session, feed, batch)
        created += new_ids
        seen += seen_now
    if created:
        mark_content_changed(session)
    return created, seen


def _store_batch(session: DbSession, feed: Feed, entries: list[Entry]) -> tuple[list[int], int]:
    known_guids = set(
        session.scalars(
            select(FeedItem.guid_hash).where(
                FeedItem.feed_id == feed.id, FeedItem.guid_hash.in_([e.guid_hash for e in entries])
            )
        )
    )
    fresh = [e for e in entries if e.guid_hash not in known_guids]
    existing = dict(
        session.execute(
            select(Article.resource_id, Article.id).where(
                Article.resource_id.in_([e.resource_id for e in fresh])
            )
        ).all()
    )
    to_create = [e for e in fresh if e.resource_id not in existing]
    article_ids = _insert_articles(session, feed, to_create)
    record_created(session, Article, article_ids)
    by_guid = dict(zip((e.guid_hash for e in to_create), article_ids, strict=True))
    items = [
        {
            "feed_id": feed.id,
            "guid_hash": e.guid_hash,
            "article_id": by_guid.get(e.guid_hash) or existing.get(e.resource_id),
        }
        for e in fresh
    ]
    if items:
        _insert_all(session, FeedItem, items)
    return article_ids, len(entries) - len(to_create)


def _insert_articles(session: DbSession, feed: Feed, entries: list[Entry]) -> list[int]:
    if not entries:
        return []
    now = utcnow()
    status = ArticleStatus(feed.item_status.value)
    publications = _publications(session, feed, entries)
    slugs = _slugs(session, [e.title for e in entries])
    rows: list[dict[str, Any]] = [
        {
            "slug": slug,
            "stable_id": new_stable_id(),
            "title": e.title,
            "excerpt": e.excerpt or None,
            "body_format": BodyFormat.HTML,
            "body_source": e.body_html,
            "body_html": e.body_html,
            "status": status,
            "published_at": e.published_at or (now if status is ArticleStatus.PUBLISHED else None),
            "source_url": e.link,
            "resource_id": e.resource_id,
            "publication_id": publications.get(domain_of(e.link) or ""),
            "key_points": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for e, slug in zip(entries, slugs, strict=True)
    ]
    _insert_all(session, Article, rows)
    # Plain multi-row inserts, then the ids by their unique key: RETURNING with rows kept
    # in order makes SQLAlchemy insert one row per statement on SQLite.
    id_of = dict(
        session.execute(
            select(Article.resource_id, Article.id).where(
                Article.resource_id.in_([row["resource_id"] for row in rows])
            )
        ).all()
    )
    ids = [id_of[row["resource_id"]] for row in rows]
    for link, model, names, column in _LINKS:
        id_by_name = _named_ids(session, model, {n for e in entries for n in getattr(e, names)})
        rows = [
            {"article_id": article_id, column: linked_id, "position": position}
            for article_id, e in zip(ids, entries, strict=True)
            for position, linked_id in enumerate(
                _distinct(id_by_name[n] for n in getattr(e, names))
            )
        ]
        _insert_all(session, link, rows)
    _insert_all(
        session,
        SearchDocument,
        [
            {
                "article_id": article_id,
                "title": indexable(e.title),
                "excerpt": indexable(e.excerpt),
                "summary": "",
                "body_text": indexable(html_to_text(e.body_html)),
                "tag_names": " ".join(indexable(name) for name in e.tags),
            }
            for article_id, e in zip(ids, entries, strict=True)
        ],
    )
    return ids


def _publications(session: DbSession, feed: Feed, entries: list[Entry]) -> dict[str, int]:
    """Domain -> publication id: the feed's own venue for all, else matched by domain."""
    domains = {domain_of(e.link) or "" for e in entries}
    if feed.publication_id is not None:
        return dict.fromkeys(domains, feed.publication_id)
    query = select(Publication.domain, Publication.id).where(Publication.domain.in_(domains))
    return {domain: id_ for domain, id_ in session.execute(query) if domain}


def _slugs(session: DbSession, titles: list[str]) -> list[str]:
    """A free slug per title: "title", else the next free "title-N" counting the
    table and this batch. One query, plus one per base that is already taken."""
    bases = [slugify(title, max_length=196, word_boundary=True) or "item" for title in titles]
    taken = set(session.scalars(select(Article.slug).where(Article.slug.in_(set(bases)))))
    for base in {b for b in bases if b in taken}:  # slugify output has no LIKE wildcards
        taken.update(session.scalars(select(Article.slug).where(Article.slug.like(f"{base}-%"))))
    slugs = []
    for base in bases:
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _named_ids(session: DbSession, model: type[Author | Tag], names: set[str]) -> dict[str, int]:
    """Name -> id of the authors or tags with these names, creating the missing ones
    (matched by slug, as imports match them)."""
    if not names:
        return {}
    slug_of = {name: name_slug(name) for name in names}
    found = dict(
        session.execute(
            select(model.slug, model.id).where(model.slug.in_(set(slug_of.values())))
        ).all()
    )
    missing: dict[str, str] = {}
    for name, slug in sorted(slug_of.items()):
        if slug not in found:
            missing.setdefault(slug, name)
    if missing:
        _insert_all(session, model, [{"slug": s, "name": n} for s, n in missing.items()])
        created = dict(
            session.execute(select(model.slug, model.id).where(model.slug.in_(missing))).all()
        )
        record_created(session, model, list(created.values()))
        found.update(created)
    return {name: found[slug] for name, slug in slug_of.items()}


def _insert_all(session: DbSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """One executemany, through Core (the ORM's bulk path costs more than the insert)."""
    if rows:
        session.execute(insert(model.__table__), rows)


def _fits(value: str | None, length: int) -> str | None:
    return value if value is None or len(value) <= length else None


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    """A feed listing the same item twice (by GUID or by link) gives one article."""
    guids: set[str] = set()
    links: set[str] = set()
    unique = []
    for entry in entries:
        if entry.guid_hash not in guids and entry.resource_id not in links:
            guids.add(entry.guid_hash)
            links.add(entry.resource_id)
            unique.append(entry)
    return unique


def _distinct(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _batches(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cache_source_pages(session: DbSession, article_ids: Sequence[int], policy: FetchPolicy) -> int:
    """Keep copies of these articles' source pages (feeds with cache_sources); a page
    that cannot be fetched does not stop the others. Returns how many were kept."""
    kept = 0
    for article in session.scalars(select(Article).where(Article.id.in_(article_ids))):
        try:
            cache_source(session, article, policy)
        except FetchError:
            continue
        kept += article.fetch_status == 200
    return kept
