"""Stories kept current as articles are published: placement, the lead, the counts.

An outbox consumer hands the ids of articles whose clustering may have changed to the
`stories.cluster` job. For each, `place_articles` fetches candidates from the search
index (articles sharing a title word, published within the join window, the newest
CANDIDATES of them, unscored, the index reading only the window's ids: bounded however
large the archive), lets cms.services.clustering decide, and moves the membership if
the decision changed. It is idempotent: placing an article again where it is changes
nothing and records nothing.

The lead rule (`lead_key`), best first: the highest credibility (the article's override,
else its publication's rating); then the highest importance; then original reporting
over rewrites (a syndicated copy, or a brief of fewer than REWRITE_WORDS words, is a
rewrite); then the earliest published; then the lowest id. An editor's pinned lead wins
while it is a member.

A job's articles are placed in order, each seeing where the ones before it went, but
what follows from the placements is written once per job: each touched story is
refreshed once (and not at all, nor its version bumped, when what it shows did not
change), and the articles whose story reference changed are touched in one UPDATE. The
statements are built once and run through Core: no ORM object, no flush, in the loop.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from cms.caching import mark_content_changed
from cms.extensions import db
from cms.jobs import enqueue, job
from cms.models import (
    Article,
    ArticleStatus,
    ContentEvent,
    Publication,
    Story,
    StoryMember,
    StoryRole,
    utcnow,
)
from cms.models.base import UTCDateTime
from cms.models.outbox import Change, record_events
from cms.services import DbSession
from cms.services.clustering import JOIN_WINDOW as WINDOW
from cms.services.clustering import Candidate, best_match, fingerprint, parse_stored
from cms.services.credibility import credibility_column
from cms.services.dispatch import consumer
from cms.services.near_duplicates import body_words, near_duplicates, simhash
from cms.services.search import SearchTerms, match_query, matches
from cms.services.visibility import public_now

CANDIDATES = 60
REWRITE_WORDS = 120
REBUILD_BATCH = 500  # articles placed per statement batch when rebuilding
# Fields whose change can move an article to another story (or out of every story).
_CLUSTERED_FIELDS = frozenset(
    {"title", "excerpt", "body_html", "body_source", "published_at", "unpublish_at", "status"}
)
_PLACING = ("article.created", "article.published", "article.restored")
_REMOVING = ("article.unpublished", "article.trashed", "article.deleted", "article.scheduled")
_CREDIBILITY = credibility_column()


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
    place_articles(db.session, article_ids)
    db.session.commit()


# The statements of the hot path, built once: each call binds its values (building a
# statement costs more than running it), and runs through Core (no ORM state to keep).
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_STORY_IDS: BindParameter[list[int]] = bindparam("story_ids", expanding=True)
_ID = bindparam("article_id", type_=Integer)
_SINCE = bindparam("since", type_=UTCDateTime)
_UNTIL = bindparam("until", type_=UTCDateTime)
# The articles, whether each is public, and their memberships (if any).
_ARTICLES = (
    select(
        Article.id,
        Article.title,
        Article.excerpt,
        Article.body_html,
        Article.published_at,
        and_(Article.trashed_at.is_(None), public_now(bindparam("now", type_=UTCDateTime))).label(
            "public"
        ),
        StoryMember.story_id,
        StoryMember.placed_by_editor,
        StoryMember.role,
        StoryMember.words,
        StoryMember.body_simhash,
        StoryMember.body_words,
        StoryMember.similarity,
        StoryMember.duplicate_of_id,
        Story.locked,
    )
    .outerjoin(StoryMember, StoryMember.article_id == Article.id)
    .outerjoin(Story, Story.id == StoryMember.story_id)
    .where(Article.id.in_(_IDS))
)
_MEMBERSHIPS = select(StoryMember.article_id, StoryMember.story_id).where(
    StoryMember.article_id.in_(_IDS)
)
# The ids of the articles published in a time window: what the search index may read.
_WINDOW_IDS = select(func.min(Article.id), func.max(Article.id)).where(
    Article.status == ArticleStatus.PUBLISHED, Article.published_at.between(_SINCE, _UNTIL)
)
_OTHERS = (
    select(func.count())
    .select_from(StoryMember)
    .where(StoryMember.story_id == bindparam("story_id"), StoryMember.article_id != _ID)
)
_NEW_STORY = insert(Story).returning(Story.id)
_NEW_MEMBER = insert(StoryMember)
_SET_MEMBER = update(StoryMember).where(StoryMember.article_id == bindparam("member_id"))
_REMOVE_MEMBER = delete(StoryMember).where(StoryMember.article_id == _ID)
_candidate_statements: dict[str, Select[*tuple[Any, ...]]] = {}


def _candidate_statement(dialect: str) -> Select[*tuple[Any, ...]]:
    """Clustered articles sharing a title word, within the join window: the newest
    CANDIDATES matches of the search index, which reads only the ids the window holds
    (however large the archive, and however few of its matches are recent)."""
    if dialect not in _candidate_statements:
        window = (Article.published_at >= _SINCE, Article.published_at <= _UNTIL, Article.id != _ID)
        hits = matches(
            dialect,
            bindparam("q", type_=String),
            CANDIDATES,
            window,
            id_range=(bindparam("lowest_id"), bindparam("highest_id")),
            scored=False,  # the newest matches, not the most relevant: no ranking
        )
        _candidate_statements[dialect] = (
            select(
                StoryMember.article_id,
                StoryMember.story_id,
                StoryMember.words,
                StoryMember.body_simhash,
                StoryMember.role,
                Article.published_at,
            )
            .join(hits, hits.c.article_id == StoryMember.article_id)
            .join(Article, Article.id == StoryMember.article_id)
            .join(Story, Story.id == StoryMember.story_id)
            .where(Story.locked.is_(False))
        )
    return _candidate_statements[dialect]


@dataclass
class _Changes:
    """What a batch of placements changed, for the writes made once at its end."""

    moved: set[int] = field(default_factory=set)  # articles whose story changed
    resized: set[int] = field(default_factory=set)  # stories that gained or lost members
    revised: set[int] = field(default_factory=set)  # stories a member of which changed


def place_articles(session: DbSession, article_ids: Iterable[int]) -> dict[int, int | None]:
    """Put each article in its story (or take it out of stories if it is not public),
    in order; returns each one's story id."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    session.flush()  # what the ORM holds, before Core reads
    connection = session.connection()
    rows = {r.id: r for r in connection.execute(_ARTICLES, {"ids": ids, "now": utcnow()})}
    changes = _Changes()
    placed: dict[int, int | None] = {}
    gone = [i for i in ids if i not in rows]
    if gone:  # deleted articles: their memberships go (if a cascade has not taken them)
        for article_id, story_id in connection.execute(_MEMBERSHIPS, {"ids": gone}):
            _remove(connection, changes, article_id, story_id)
    statement = _candidate_statement(connection.dialect.name)
    bounds = _window_ids(connection, [r.published_at for r in rows.values() if r.public])
    for article_id in ids:
        row = rows.get(article_id)
        if row is None:
            placed[article_id] = None
        elif not row.public:
            if row.story_id is not None:
                _remove(connection, changes, article_id, row.story_id)
            placed[article_id] = None
        elif row.story_id is not None and (row.placed_by_editor or row.locked):
            placed[article_id] = row.story_id
        else:
            placed[article_id] = _place(connection, statement, bounds, changes, row)
    if changes.moved or changes.revised:
        mark_content_changed(session)
    roles_changed = refresh_stories(
        session, changes.resized | changes.revised, settled=changes.revised - changes.resized
    )
    touch_articles(session, changes.moved | roles_changed)
    _forget(session, StoryMember, ids)
    return placed


def _window_ids(connection: Any, published: list[datetime]) -> tuple[int, int]:
    """The lowest and highest ids of the articles published within the join window of
    any of these times: one index range read per batch."""
    if not published:
        return (0, 0)
    found = connection.execute(
        _WINDOW_IDS, {"since": min(published) - WINDOW, "until": max(published) + WINDOW}
    ).one()
    return (found[0] or 0, found[1] or 0)


def _place(
    connection: Any,
    statement: Select[*tuple[Any, ...]],
    bounds: tuple[int, int],
    changes: _Changes,
    row: Any,
) -> int:
    """Decide one public article's story and write its membership (if it changed)."""
    words = body_words(row.body_html)
    prints = fingerprint(row.title, row.excerpt or " ".join(words[:60]))
    hashed = simhash(words)
    rows = []
    if prints.title:
        query = match_query(
            connection.dialect.name, SearchTerms(tuple(sorted(prints.title)), ()), match_any=True
        )
        rows = connection.execute(
            statement,
            {
                "q": query,
                "article_id": row.id,
                "since": row.published_at - WINDOW,
                "until": row.published_at + WINDOW,
                "lowest_id": bounds[0],
                "highest_id": bounds[1],
            },
        ).all()
    candidates = [
        Candidate(r.article_id, r.story_id, r.published_at, parse_stored(r.words)) for r in rows
    ]
    match = best_match(prints, row.published_at, candidates)
    copy_of = _copy_of(row, hashed, rows)
    story_id = copy_of.story_id if copy_of else match.story_id if match else None
    old_story = row.story_id
    if story_id is None and old_story is not None:
        others = connection.scalar(_OTHERS, {"story_id": old_story, "article_id": row.id})
        if not others:
            story_id = old_story  # alone already: its own story stays its story
    if story_id is None:
        story_id = connection.execute(
            _NEW_STORY,
            {
                "title": row.title,
                "member_count": 0,
                "source_count": 0,
                "version": 1,
                "first_seen_at": row.published_at,
                "last_seen_at": row.published_at,
            },
        ).scalar_one()
    if copy_of is not None:
        role = StoryRole.DUPLICATE
    elif old_story is None or row.role == StoryRole.DUPLICATE:
        role = StoryRole.COVERAGE
    else:
        role = row.role  # the refresh of its story says whether it leads
    member = {
        "story_id": story_id,
        "role": role,
        "words": prints.stored(),
        "body_simhash": hashed,
        "body_words": len(words),
        "similarity": match.score if match else None,
        "duplicate_of_id": copy_of.article_id if copy_of else None,
    }
    if old_story is None:
        connection.execute(_NEW_MEMBER, {"article_id": row.id, **member})
    elif any(getattr(row, name) != value for name, value in member.items()):
        connection.execute(_SET_MEMBER, {"member_id": row.id, **member})
    else:
        return story_id  # placed again where it was, as it was: nothing to do
    if old_story == story_id:
        changes.revised.add(story_id)
    else:
        changes.moved.add(row.id)
        changes.resized |= {story_id} if old_story is None else {story_id, old_story}
    return story_id


def _copy_of(article: Any, hashed: int | None, candidates: Iterable[Any]) -> Any:
    """The earlier article this one is a copy of (same text, another URL), if any:
    among the candidates, the earliest near-duplicate published before it."""
    if hashed is None:
        return None
    earlier = sorted(
        (
            c
            for c in candidates
            if c.role != StoryRole.DUPLICATE
            and (c.published_at, c.article_id) < (article.published_at, article.id)
        ),
        key=lambda c: (c.published_at, c.article_id),
    )
    return next((c for c in earlier if near_duplicates(hashed, c.body_simhash)), None)


def _remove(connection: Any, changes: _Changes, article_id: int, story_id: int) -> None:
    connection.execute(_REMOVE_MEMBER, {"article_id": article_id})
    changes.moved.add(article_id)
    changes.resized.add(story_id)


def lead_key(row: Any) -> tuple[Any, ...]:
    """Sorts the best lead first (see the module's docstring for the rule)."""
    original = row.role != StoryRole.DUPLICATE and row.body_words >= REWRITE_WORDS
    return (
        -(row.credibility or 0),
        -(row.importance or 0),
        not original,
        row.published_at,
        row.id,
    )


_STORIES = select(
    Story.id,
    Story.version,
    Story.lead_article_id,
    Story.lead_pinned,
    Story.title,
    Story.first_seen_at,
    Story.last_seen_at,
    Story.member_count,
    Story.publication_counts,
    Story.source_count,
    Story.credibility_counts,
    Story.top_credibility,
).where(Story.id.in_(_STORY_IDS))
_MEMBERS = (
    select(
        StoryMember.story_id,
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
    .where(StoryMember.story_id.in_(_STORY_IDS))
)
_SET_STORY = update(Story).where(Story.id == bindparam("story_id"))
_DELETE_STORIES = delete(Story).where(Story.id.in_(_STORY_IDS))


def refresh_stories(
    session: DbSession, story_ids: Collection[int], *, settled: Collection[int] = ()
) -> set[int]:
    """Recompute each story's lead, title and counts from its members (deleting it when
    it has none); returns the ids of articles whose role changed. A `settled` story (its
    members are the ones it had) keeps its version, and records no event, when nothing
    it shows changed."""
    if not story_ids:
        return set()
    connection = session.connection()
    ids = sorted(story_ids)
    stories = {r.id: r for r in connection.execute(_STORIES, {"story_ids": ids})}
    members: dict[int, list[Any]] = {story_id: [] for story_id in stories}
    for m in connection.execute(_MEMBERS, {"story_ids": list(stories)}):
        members[m.story_id].append(m)
    now, updates, roles, events = utcnow(), [], [], []
    empty = [story_id for story_id, found in members.items() if not found]
    for story_id, found in members.items():
        if not found:
            continue
        story = stories[story_id]
        shown = _shown(story, found)
        lead = shown["lead_article_id"]
        role_changes = [
            {"member_id": m.id, "role": role} for m in found if (role := _role(m, lead)) != m.role
        ]
        unchanged = all(getattr(story, name) == value for name, value in shown.items())
        if story_id in settled and unchanged and not role_changes:
            continue
        roles += role_changes
        updates.append(
            {"story_id": story_id, **shown, "version": story.version + 1, "updated_at": now}
        )
        events.append(Change("story", story_id, "updated", story.version + 1))
    if empty:
        connection.execute(_DELETE_STORIES, {"story_ids": empty})
        events += [Change("story", story_id, "deleted") for story_id in empty]
    if updates:
        connection.execute(_SET_STORY, updates)
    if roles:
        connection.execute(_SET_MEMBER, roles)
    if events:
        mark_content_changed(session)
        record_events(session, events)
    _forget(session, Story, ids)
    changed = {r["member_id"] for r in roles}
    _forget(session, StoryMember, changed)
    return changed


def refresh_story(session: DbSession, story_id: int) -> set[int]:
    """`refresh_stories` for one story, whatever changed (an editor's operation)."""
    return refresh_stories(session, {story_id})


def _shown(story: Any, members: list[Any]) -> dict[str, Any]:
    """What a story shows, from its members: the lead (by the rule, or pinned), the
    title, the times and the counts."""
    pinned = story.lead_pinned and any(m.id == story.lead_article_id for m in members)
    lead = (
        next(m for m in members if m.id == story.lead_article_id)
        if pinned
        else min(members, key=lead_key)
    )
    publications = Counter(str(m.publication_id) for m in members if m.publication_id)
    levels = Counter(str(m.credibility) for m in members if m.credibility)
    return {
        "lead_pinned": pinned,
        "lead_article_id": lead.id,
        "title": lead.title,
        "first_seen_at": min(m.published_at for m in members),
        "last_seen_at": max(m.published_at for m in members),
        "member_count": len(members),
        "publication_counts": dict(publications),
        "source_count": len(publications),
        "credibility_counts": dict(sorted(levels.items())),
        "top_credibility": max((m.credibility for m in members if m.credibility), default=None),
    }


def _role(member: Any, lead_id: int) -> StoryRole:
    if member.id == lead_id:
        return StoryRole.LEAD
    return StoryRole.DUPLICATE if member.role == StoryRole.DUPLICATE else StoryRole.COVERAGE


def _forget(session: DbSession, model: type[Any], ids: Collection[int]) -> None:
    """ORM objects the session holds for rows written here with Core (an editor's story,
    a test's member) read them again when next used."""
    for key in list(session.identity_map.keys()):
        if key[0] is model and key[1][0] in ids:
            session.expire(session.identity_map[key])


def touch_articles(session: DbSession, article_ids: set[int]) -> None:
    """Articles whose story reference changed get a new updated_at (their cached
    renderings and ETags change). No article event: nothing they say changed, and CDNs
    drop their pages by the story's key (`story-<id>`), which the story's event purges."""
    if not article_ids:
        return
    mark_content_changed(session)
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
    for start in range(0, len(ids), REBUILD_BATCH):
        batch = ids[start : start + REBUILD_BATCH]
        place_articles(session, batch)
        if progress is not None:
            progress(start + len(batch))
    return len(ids)
