"""What the public sees, decided against the clock, to the second.

An article is public while it is published, its published_at has come and its
unpublish_at (if any) has not. Reads test that against the current time, so nothing is
early or late whether the scheduler has run or not. Lists go further, since they are
cached by validators: the content timeline (the times at which some article appears or
goes) names the next instant the public lists change. It is part of every list's ETag,
and no public max-age reaches past it, so a CDN never keeps a home page past a scheduled
publish. A `scheduled` article whose time came before the scheduler flipped it is
flipped by the first read that needs it (`catch_up`).
"""

import bisect
from dataclasses import dataclass
from datetime import datetime

import structlog
from flask import g
from sqlalchemy import BindParameter, ColumnElement, and_, func, or_, select, union
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from cms.caching import CACHES, LRU, content_generation, fresh_until, list_etag
from cms.models import Article, ArticleStatus, utcnow
from cms.models.outbox import as_system
from cms.services import DbSession
from cms.services.publishing import flip_due

log = structlog.get_logger(__name__)

# Upcoming times read at once; past the last of a full window, the next are read.
WINDOW = 100


def public_now(now: datetime | BindParameter[datetime] | None = None) -> ColumnElement[bool]:
    """Published, its time come, its takedown (if any) not yet."""
    now = utcnow() if now is None else now
    return and_(
        Article.status == ArticleStatus.PUBLISHED,
        Article.published_at <= now,
        or_(Article.unpublish_at.is_(None), Article.unpublish_at > now),
    )


@dataclass(frozen=True)
class Timeline:
    generation: int
    due_scheduled: datetime | None  # the earliest `scheduled` article's time
    upcoming: tuple[datetime, ...]  # times after `read_at` at which the public set changes
    complete: bool  # fewer than WINDOW: there is nothing after the last
    read_at: datetime

    def next_change(self, now: datetime) -> datetime | None:
        """The first instant after `now` at which some article appears or goes. For a
        `now` before the timeline was read (a request whose clock was taken before
        another read it), the read: what changed between the two is not in it."""
        if now < self.read_at:
            return self.read_at
        position = bisect.bisect_right(self.upcoming, now)
        return self.upcoming[position] if position < len(self.upcoming) else None

    def exhausted(self, now: datetime) -> bool:
        return not self.complete and now >= self.upcoming[-1]


_timelines = LRU(size=8)
CACHES.append(_timelines)


def timeline(session: DbSession) -> Timeline:
    """The content timeline as of this content generation (read once per generation,
    and again only when the clock passes a full window)."""
    generation = content_generation()
    found: Timeline | None = _timelines.get(generation)
    if found is None or found.exhausted(utcnow()):
        found = _read_timeline(session, generation)
        _timelines.put(generation, found)
    return found


def _read_timeline(session: DbSession, generation: int) -> Timeline:
    now = utcnow()
    showing = and_(
        Article.status.in_((ArticleStatus.PUBLISHED, ArticleStatus.SCHEDULED)),
        Article.trashed_at.is_(None),
    )
    times = union(
        select(Article.published_at.label("at")).where(showing, Article.published_at > now),
        select(Article.unpublish_at.label("at")).where(showing, Article.unpublish_at > now),
    ).subquery()
    upcoming = session.scalars(select(times.c.at).order_by(times.c.at).limit(WINDOW)).all()
    due = session.scalar(
        select(func.min(Article.published_at)).where(Article.status == ArticleStatus.SCHEDULED)
    )
    return Timeline(generation, due, tuple(upcoming), len(upcoming) < WINDOW, now)


def epoch(session: DbSession, now: datetime | None = None) -> str:
    """Names the public state of lists as of `now` (by default, now): changes at each
    timeline instant. What is kept under it must be read as of the same instant."""
    upcoming = timeline(session).next_change(now or utcnow())
    return upcoming.isoformat() if upcoming else "-"


def public_list_etag(session: DbSession, scope: str, *parts: object) -> str:
    """A list's validator as of now (article lists, feeds, sitemaps): scheduled
    articles that came due are published first, and the next instant anything appears
    or goes names the state (and bounds how long the list may be kept)."""
    catch_up(session)
    fresh_until(next_change(session))
    return list_etag(scope, epoch(session), *parts)


def next_change(session: DbSession) -> datetime | None:
    """Until when the public lists stay as they are (None: until the next write)."""
    return timeline(session).next_change(utcnow())


def catch_up(session: DbSession) -> bool:
    """Publish the scheduled articles whose time has come, if the scheduler has not yet
    (the worker may be down or a second late). True when something was published.

    Only from a read with nothing of its own to write (its commit must not carry a
    caller's half-done change), a batch at most, and never failing the read: a
    database that refuses the write leaves it to the scheduler."""
    due = timeline(session).due_scheduled
    if due is None or due > utcnow() or session.new or session.dirty or session.deleted:
        return False
    try:
        with as_system():
            published = flip_due(session, batches=1)
    except StaleDataError:  # another process (the scheduler) flipped them first
        session.rollback()
        published = True
    except DBAPIError:
        session.rollback()
        log.warning("catch_up_failed", exc_info=True)
        return False
    g.pop("content_generation", None)  # the commit moved it
    return published
