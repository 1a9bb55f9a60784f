"""Articles go live and come down on time: a periodic task publishes every `scheduled`
article whose published_at has come, and archives every published one whose
unpublish_at has passed (ORM writes: versioned, indexed and announced in the outbox like
an editor's). Saving an article with a time within the hour also asks for a run at that
time, so it flips within the scheduler's second, not at the next minute."""

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from cms.extensions import db
from cms.jobs import after_commit, nudge, periodic
from cms.models import Article, ArticleStatus, utcnow
from cms.services import DbSession
from cms.services.search import index_articles

BATCH = 200
NUDGE_HORIZON = timedelta(hours=1)

# (status it leaves, the time column that says when, status it takes)
_FLIPS = (
    (ArticleStatus.SCHEDULED, Article.published_at, ArticleStatus.PUBLISHED),
    (ArticleStatus.PUBLISHED, Article.unpublish_at, ArticleStatus.ARCHIVED),
)


@periodic("articles.publish_due")
def publish_due() -> None:
    flip_due(db.session)
    upcoming = min(
        (
            time
            for current, when, _ in _FLIPS
            if (time := _next_time(current, when, utcnow() + timedelta(minutes=1)))
        ),
        default=None,
    )
    if upcoming is not None:
        nudge(publish_due, eta=upcoming)


def flip_due(session: DbSession, batches: int | None = None) -> bool:
    """Publish and archive what is due (up to `batches` batches of each), committing per
    batch; True if anything was."""
    # Publishing first: an article whose both times have passed goes live, then down.
    flips = [_flip(session, *flip, batches=batches) for flip in _FLIPS]
    return any(flips)


def _flip(
    session: DbSession,
    current: ArticleStatus,
    when: Any,
    becomes: ArticleStatus,
    *,
    batches: int | None,
) -> bool:
    flipped = False
    for _ in itertools.count() if batches is None else range(batches):
        due = session.scalars(
            select(Article)
            .where(Article.status == current, when <= utcnow())
            .order_by(when, Article.id)
            .limit(BATCH)
        ).all()
        for article in due:
            article.status = becomes
        session.flush()
        index_articles(session, due)
        session.commit()
        flipped = flipped or bool(due)
        if len(due) < BATCH:
            break
    return flipped


def _next_time(current: ArticleStatus, when: Any, before: datetime) -> datetime | None:
    soonest = select(func.min(when)).where(Article.status == current, when <= before)
    return db.session.scalar(soonest)


def publish_when_due(session: DbSession, article: Article) -> None:
    """After this commit, have the workers publish or archive `article` at its time
    (call it when its status, published_at or unpublish_at changed)."""
    soon = utcnow() + NUDGE_HORIZON
    for current, when, _ in _FLIPS:
        eta = getattr(article, when.key)
        if article.status in (current, ArticleStatus.SCHEDULED) and eta is not None and eta <= soon:
            after_commit(session, _nudge_at(eta))


def _nudge_at(eta: datetime) -> Callable[[], None]:
    return lambda: nudge(publish_due, eta=eta)
