"""Stories kept current as articles are published: placement, the lead, the counts.

An outbox consumer hands the ids of articles whose clustering may have changed to the
`stories.cluster` job. For each, `place_article` fetches candidates from the search
index (articles sharing a title word, published within the join window, the newest
CANDIDATES of them: bounded however large the archive), lets cms.services.clustering
decide, and moves the membership if the decision changed. It is idempotent: placing an
article again where it is changes nothing and records nothing.

The lead rule (`lead_key`), best first: the highest credibility (the article's override,
else its publication's rating); then the highest importance; then original reporting
over rewrites (a syndicated copy, or a brief of fewer than REWRITE_WORDS words, is a
rewrite); then the earliest published; then the lowest id. An editor's pinned lead wins
while it is a member.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from cms.caching import mark_content_changed
from cms.extensions import db
from cms.jobs import enqueue, job
from cms.models import Article, ContentEvent, Publication, Story, StoryMember, StoryRole, utcnow
from cms.models.outbox import Change, record_events
from cms.services import DbSession
from cms.services.clustering import JOIN_WINDOW as WINDOW
from cms.services.clustering import Candidate, best_match, fingerprint, parse_stored
from cms.services.dispatch import consumer
from cms.services.near_duplicates import body_words, near_duplicates, simhash
from cms.services.search import SearchTerms, ranked_matches
from cms.services.visibility import public_now

CANDIDATES = 60
REWRITE_WORDS = 120
# Fields whose change can move an article to another story (or out of every story).
_CLUSTERED_FIELDS = frozenset(
    {"title", "excerpt", "body_html", "body_source", "published_at", "unpublish_at", "status"}
)
_PLACING = ("article.created", "article.published", "article.restored")
_REMOVING = ("article.unpublished", "article.trashed", "article.deleted", "article.scheduled")
_CREDIBILITY = func.coalesce(Article.credibility_override, Publication.credibility)


# A story's own events (story.updated, story.deleted) purge `story-<id>` and
# `list-stories` at CDNs (cms.services.purging); webhooks send content resources only.


@consumer("stories")
def cluster_changed_articles(events: Sequence[ContentEvent]) -> None:
    """Articles that appeared, went or changed what they say are (re)placed by a job."""
    ids = sorted(
        {
            e.resource_id
            for e in events
            if e.type in _PLACING
            or e.type in _REMOVING
            or (e.type == "article.updated" and _CLUSTERED_FIELDS & set(e.changed or ()))
        }
    )
    if ids:
        enqueue(db.session, cluster_job, ids)


@job("stories.cluster")
def cluster_job(article_ids: list[int]) -> None:
    for article_id in article_ids:
        place_article(db.session, article_id)
    db.session.commit()


def place_article(session: DbSession, article_id: int) -> int | None:
    """Put the article in its story (or take it out of stories if it is not public);
    returns its story's id."""
    article = session.execute(
        select(
            Article.id,
            Article.title,
            Article.excerpt,
            Article.body_html,
            Article.published_at,
            Article.publication_id,
        ).where(Article.id == article_id, Article.trashed_at.is_(None), public_now())
    ).first()
    member = session.get(StoryMember, article_id)
    if article is None:
        if member is not None:
            _remove(session, member)
        return None
    if member is not None and (member.placed_by_editor or _is_locked(session, member.story_id)):
        return member.story_id
    words = body_words(article.body_html)
    prints = fingerprint(article.title, article.excerpt or " ".join(words[:60]))
    hashed = simhash(words)
    candidates = _candidates(session, article, prints.title)
    match = best_match(prints, article.published_at, candidates)
    story_id = match.story_id if match else None
    copy_of = _copy_of(session, article, hashed, candidates)
    if copy_of is not None:
        story_id = copy_of.story_id
    if member is None:
        # Added once its story is known (a query on the way would flush it without).
        member = StoryMember(article_id=article_id, role=StoryRole.COVERAGE, body_words=0)
    elif story_id is None and _alone(session, member):
        story_id = member.story_id  # alone already: its own story stays its story
    old_story = member.story_id
    if story_id is None:
        story = Story(title=article.title, member_count=0, source_count=0, version=1)
        story.first_seen_at = story.last_seen_at = article.published_at
        session.add(story)
        session.flush()
        story_id = story.id
    member.story_id = story_id
    session.add(member)
    member.words = prints.stored()
    member.body_simhash = hashed
    member.body_words = len(words)
    member.similarity = match.score if match else None
    member.duplicate_of_id = copy_of.article_id if copy_of else None
    if copy_of is not None:
        member.role = StoryRole.DUPLICATE
    elif member.role is StoryRole.DUPLICATE:
        member.role = StoryRole.COVERAGE
    session.flush()
    touched = {article_id} if old_story != story_id else set()
    for changed_story in {old_story, story_id} - {None}:
        touched |= refresh_story(session, changed_story)
    touch_articles(session, touched)
    return story_id


def _candidates(session: DbSession, article: Any, title_words: frozenset[str]) -> list[Candidate]:
    """Clustered articles sharing a title word, within the join window: the newest
    CANDIDATES matches of the search index (its own ranking window keeps this bounded)."""
    if not title_words:
        return []
    terms = SearchTerms(tuple(sorted(title_words)), ())
    window = (
        Article.published_at >= article.published_at - WINDOW,
        Article.published_at <= article.published_at + WINDOW,
        Article.id != article.id,
    )
    hits = ranked_matches(session, terms, CANDIDATES, window, match_any=True)
    if hits is None:
        return []
    rows = session.execute(
        select(
            StoryMember.article_id,
            StoryMember.story_id,
            StoryMember.words,
            Article.published_at,
        )
        .join(hits, hits.c.article_id == StoryMember.article_id)
        .join(Article, Article.id == StoryMember.article_id)
        .join(Story, Story.id == StoryMember.story_id)
        .where(Story.locked.is_(False))
    ).all()
    return [
        Candidate(r.article_id, r.story_id, r.published_at, parse_stored(r.words)) for r in rows
    ]


def _copy_of(
    session: DbSession, article: Any, hashed: int | None, candidates: Iterable[Candidate]
) -> Any:
    """The earlier article this one is a copy of (same text, another URL), if any:
    among the candidates, the earliest near-duplicate published before it."""
    if hashed is None:
        return None
    ids = [c.article_id for c in candidates]
    if not ids:
        return None
    rows = session.execute(
        select(StoryMember.article_id, StoryMember.story_id, StoryMember.body_simhash)
        .join(Article, Article.id == StoryMember.article_id)
        .where(
            StoryMember.article_id.in_(ids),
            StoryMember.role != StoryRole.DUPLICATE,
            (Article.published_at < article.published_at)
            | ((Article.published_at == article.published_at) & (Article.id < article.id)),
        )
        .order_by(Article.published_at, Article.id)
    ).all()
    return next((r for r in rows if near_duplicates(hashed, r.body_simhash)), None)


def _is_locked(session: DbSession, story_id: int) -> bool:
    return bool(session.scalar(select(Story.locked).where(Story.id == story_id)))


def _alone(session: DbSession, member: StoryMember) -> bool:
    others = select(func.count()).where(
        StoryMember.story_id == member.story_id, StoryMember.article_id != member.article_id
    )
    return not session.scalar(others)


def _remove(session: DbSession, member: StoryMember) -> None:
    story_id = member.story_id
    session.delete(member)
    session.flush()
    touch_articles(session, {member.article_id} | refresh_story(session, story_id))


def lead_key(row: Any) -> tuple[Any, ...]:
    """Sorts the best lead first (see the module's docstring for the rule)."""
    original = row.role is not StoryRole.DUPLICATE and row.body_words >= REWRITE_WORDS
    return (
        -(row.credibility or 0),
        -(row.importance or 0),
        not original,
        row.published_at,
        row.id,
    )


def refresh_story(session: DbSession, story_id: int) -> set[int]:
    """Recompute a story's lead, title and counts from its members (deleting it when it
    has none); returns the ids of articles whose role changed."""
    story = session.get(Story, story_id)
    if story is None:
        return set()
    members = session.execute(
        select(
            Article.id,
            Article.title,
            Article.published_at,
            Article.importance,
            Article.publication_id,
            _CREDIBILITY.label("credibility"),
            StoryMember.role,
            StoryMember.body_words,
        )
        .join(StoryMember, StoryMember.article_id == Article.id)
        .outerjoin(Publication, Publication.id == Article.publication_id)
        .where(StoryMember.story_id == story_id)
    ).all()
    mark_content_changed(session)
    if not members:
        session.delete(story)
        record_events(session, [Change("story", story_id, "deleted")])
        return set()
    pinned = story.lead_pinned and any(m.id == story.lead_article_id for m in members)
    lead = (
        next(m for m in members if m.id == story.lead_article_id)
        if pinned
        else min(members, key=lead_key)
    )
    story.lead_pinned = pinned
    story.lead_article_id = lead.id
    story.title = lead.title
    story.first_seen_at = min(m.published_at for m in members)
    story.last_seen_at = max(m.published_at for m in members)
    story.member_count = len(members)
    publications = Counter(str(m.publication_id) for m in members if m.publication_id)
    story.publication_counts = dict(publications)
    story.source_count = len(publications)
    levels = Counter(str(m.credibility) for m in members if m.credibility)
    story.credibility_counts = dict(sorted(levels.items()))
    story.top_credibility = max((m.credibility for m in members if m.credibility), default=None)
    story.version += 1
    story.updated_at = utcnow()
    record_events(session, [Change("story", story_id, "updated", story.version)])
    changed: set[int] = set()
    for m in members:
        role = StoryRole.LEAD if m.id == lead.id else None
        if role is None:
            role = StoryRole.DUPLICATE if m.role is StoryRole.DUPLICATE else StoryRole.COVERAGE
        if role is not m.role:
            changed.add(m.id)
            session.execute(
                update(StoryMember).where(StoryMember.article_id == m.id).values(role=role),
                execution_options={"synchronize_session": "evaluate"},
            )
    return changed


def touch_articles(session: DbSession, article_ids: set[int]) -> None:
    """Articles whose story reference changed get a new updated_at (their cached
    renderings and ETags change). No article event: nothing they say changed, and CDNs
    drop their pages by the story's key (`story-<id>`), which the story's event purges."""
    mark_content_changed(session)
    if not article_ids:
        return
    # Core, not ORM-enabled: no session state to synchronise, a third of the cost.
    session.connection().execute(
        update(Article).where(Article.id.in_(article_ids)).values(updated_at=utcnow())
    )


def rebuild(session: DbSession, *, since: datetime | None = None, progress: Any = None) -> int:
    """Cluster every public article (published since `since`) again, oldest first.
    What editors placed (merge, split, a pinned lead) stays placed."""
    query = select(Article.id).where(Article.trashed_at.is_(None), public_now())
    if since is not None:
        query = query.where(Article.published_at >= since)
    ids = list(session.scalars(query.order_by(Article.published_at, Article.id)))
    session.execute(
        delete(StoryMember).where(
            StoryMember.article_id.in_(ids),
            StoryMember.placed_by_editor.is_(False),
            ~StoryMember.story_id.in_(select(Story.id).where(Story.locked.is_(True))),
        )
    )
    empty = select(Story.id).where(~Story.id.in_(select(StoryMember.story_id)))
    session.execute(delete(Story).where(Story.id.in_(empty)))
    session.expire_all()
    for done, article_id in enumerate(ids, 1):
        place_article(session, article_id)
        if progress is not None:
            progress(done)
    return len(ids)
