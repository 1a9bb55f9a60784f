"""Feed ingestion: fetch a feed, and turn its new items into articles in bulk.

An item is new when neither its GUID (per feed) nor its resource_id (the canonical
source URL, across all feeds and imports) has been seen. Existing articles are never
overwritten: editors may have worked on them. New articles are created in batches by
the article service's bulk path (cms.services.article_batch).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from cms.caching import mark_content_changed
from cms.models import (
    Article,
    ArticleStatus,
    Feed,
    FeedItem,
    FetchOutcome,
    Publication,
    utcnow,
)
from cms.services import DbSession
from cms.services.article_batch import NewArticle, create_articles, insert_rows
from cms.services.feed_schedule import next_after_failure, next_after_success, source_interval
from cms.services.feeds import Entry, FeedParseError, ParsedFeed, parse_feed
from cms.services.fetching import Fetched, FetchError, FetchPolicy, fetch
from cms.services.freshness import record_freshness
from cms.services.identifiers import domain_of
from cms.services.sources import cache_source
from cms.services.websub import discover

BATCH = 500
T = TypeVar("T")


@dataclass
class IngestResult:
    status: FetchOutcome
    new_items: int = 0
    seen_items: int = 0
    skipped_items: int = 0
    error: str | None = None
    warning: str | None = None  # read, from a document that is not well-formed
    new_article_ids: Sequence[int] = ()
    hub: tuple[str, str] | None = None  # the WebSub (hub, topic) the document names


@dataclass(frozen=True)
class FeedRequest:
    """What a fetch of a feed needs, apart from its row: fetch threads hold no ORM object."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None

    @classmethod
    def of(cls, feed: Feed) -> "FeedRequest":
        return cls(feed.id, feed.url, feed.etag, feed.last_modified)


@dataclass
class Reading:
    """One fetch of a feed, read: a 304, a parsed document, or why neither."""

    fetched: Fetched | None = None
    parsed: ParsedFeed | None = None
    error: FetchError | FeedParseError | None = None
    source_interval: int | None = None  # minutes the document asks between fetches
    hub: tuple[str, str] | None = None  # the WebSub (hub, topic) it advertises


def fetch_document(request: FeedRequest, policy: FetchPolicy) -> Fetched | FetchError:
    """The conditional GET alone (safe in a thread: no database), failures returned."""
    try:
        return fetch(request.url, policy, etag=request.etag, last_modified=request.last_modified)
    except FetchError as error:
        return error


def read_fetched(fetched: Fetched | FetchError) -> Reading:
    """Parse what a fetch brought (nothing to parse for a 304 or a failure)."""
    if isinstance(fetched, FetchError):
        return Reading(error=fetched)
    if fetched.not_modified:
        return Reading(fetched)
    try:
        parsed = parse_feed(fetched.body, fetched.url, fetched.headers.get("content-type"))
    except FeedParseError as error:
        return Reading(fetched, error=error)
    return Reading(
        fetched,
        parsed,
        source_interval=source_interval(fetched.body),
        hub=discover(fetched.headers, fetched.body, fetched.url),
    )


def ingest_feed(session: DbSession, feed: Feed, policy: FetchPolicy) -> IngestResult:
    """Fetch `feed` (conditionally), store its new items, record the outcome on it.
    Failures are recorded, not raised: the caller commits either way."""
    return record_reading(session, feed, read_fetched(fetch_document(FeedRequest.of(feed), policy)))


def record_reading(session: DbSession, feed: Feed, reading: Reading) -> IngestResult:
    """Store a reading's new items and record how the fetch went, and when the next is."""
    now = utcnow()
    first_fetch = feed.last_fetched_at is None
    feed.last_fetched_at = now
    fetched = reading.fetched
    if reading.error is not None or fetched is None:
        error = reading.error
        result = IngestResult(FetchOutcome.ERROR, error=str(error))
        feed.consecutive_failures += 1
        status = error.status if isinstance(error, FetchError) else None
        headers = error.headers if isinstance(error, FetchError) else {}
        feed.next_fetch_at = next_after_failure(feed, now, status, headers)
    else:
        if reading.parsed is None:
            result = IngestResult(FetchOutcome.NOT_MODIFIED)
        else:
            parsed = reading.parsed
            ids, seen = store_entries(session, feed, parsed.entries)
            result = IngestResult(
                FetchOutcome.OK, len(ids), seen, parsed.skipped, None, parsed.warning, ids
            )
            result.hub = reading.hub
            if not first_fetch:
                record_freshness(session, feed, ids, now)
            feed.title = feed.title or parsed.title[:300]
            feed.min_interval_minutes = reading.source_interval
        # Validators too long to keep are not kept: the next fetch is a full one.
        feed.etag = _fits(fetched.headers.get("etag", feed.etag), 500)
        feed.last_modified = _fits(fetched.headers.get("last-modified", feed.last_modified), 100)
        feed.consecutive_failures = 0
        feed.next_fetch_at = next_after_success(feed, now, fetched.headers)
    feed.last_status = result.status
    feed.last_error = result.error
    if result.status != FetchOutcome.NOT_MODIFIED:  # a 304 keeps the last reading's
        feed.last_warning = result.warning
    feed.last_new_items = result.new_items
    return result


def store_entries(
    session: DbSession, feed: Feed, entries: Sequence[Entry]
) -> tuple[list[int], int]:
    """Create articles for the entries not seen before; (their ids, how many were seen).
    Entries are looked up in batches; the new ones are created by one call of the bulk
    path (which inserts in batches too, and matches each byline or tag name once)."""
    unique = _unique(entries)
    fresh: list[Entry] = []  # not listed by this feed before (by GUID)
    article_of: dict[str, int] = {}  # resource_id -> article, for fresh entries
    new: list[NewArticle] = []  # for fresh entries that are no article yet
    for batch in _batches(unique, BATCH):
        fresh_now = _unlisted(session, feed, batch)
        existing = _articles_of(session, fresh_now)
        new += _new_articles(session, feed, [e for e in fresh_now if e.resource_id not in existing])
        article_of.update(existing)
        fresh += fresh_now
    created = create_articles(session, new)
    article_of.update(zip((a.resource_id for a in new), created, strict=True))
    items = [
        {"feed_id": feed.id, "guid_hash": e.guid_hash, "article_id": article_of[e.resource_id]}
        for e in fresh
    ]
    insert_rows(session, FeedItem, items)
    if created:
        mark_content_changed(session)
    return created, len(unique) - len(created)


def _unlisted(session: DbSession, feed: Feed, entries: list[Entry]) -> list[Entry]:
    """The entries whose GUIDs this feed has not listed before."""
    listed = set(
        session.scalars(
            select(FeedItem.guid_hash).where(
                FeedItem.feed_id == feed.id, FeedItem.guid_hash.in_([e.guid_hash for e in entries])
            )
        )
    )
    return [e for e in entries if e.guid_hash not in listed]


def _articles_of(session: DbSession, entries: list[Entry]) -> dict[str, int]:
    """resource_id -> id of the articles these entries already are (from any source)."""
    query = select(Article.resource_id, Article.id).where(
        Article.resource_id.in_([e.resource_id for e in entries])
    )
    return {resource_id: id_ for resource_id, id_ in session.execute(query) if resource_id}


def _new_articles(session: DbSession, feed: Feed, entries: list[Entry]) -> list[NewArticle]:
    status = ArticleStatus(feed.item_status.value)
    domains = [domain_of(e.link) or "" for e in entries]
    publications = _publications(session, feed, set(domains)) if entries else {}
    return [
        NewArticle(
            title=e.title,
            body_html=e.body_html,
            status=status,
            resource_id=e.resource_id,
            source_url=e.link,
            excerpt=e.excerpt,
            published_at=e.published_at,
            publication_id=publications.get(domain),
            author_names=e.authors,
            tag_names=e.tags,
        )
        for e, domain in zip(entries, domains, strict=True)
    ]


def _publications(session: DbSession, feed: Feed, domains: set[str]) -> dict[str, int]:
    """Domain -> publication id: the feed's own venue for all, else matched by domain."""
    if feed.publication_id is not None:
        return dict.fromkeys(domains, feed.publication_id)
    query = select(Publication.domain, Publication.id).where(Publication.domain.in_(domains))
    return {domain: id_ for domain, id_ in session.execute(query) if domain}


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
