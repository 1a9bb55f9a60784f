"""Scheduled articles go live: a periodic task publishes every `scheduled` article whose
published_at has come (an ORM write: versioned, indexed and announced in the outbox like
an editor's). Saving a scheduled article also asks for a run at its
time, so it goes live within the scheduler's second, not at the next minute."""

from datetime import timedelta

from sqlalchemy import func, select

from cms.extensions import db
from cms.jobs import after_commit, nudge, periodic
from cms.models import Article, ArticleStatus, utcnow
from cms.services import DbSession
from cms.services.search import index_articles

BATCH = 200
NUDGE_HORIZON = timedelta(hours=1)


@periodic("articles.publish_due")
def publish_due() -> None:
    while True:
        due = db.session.scalars(
            select(Article)
            .where(Article.status == ArticleStatus.SCHEDULED, Article.published_at <= utcnow())
            .order_by(Article.published_at, Article.id)
            .limit(BATCH)
        ).all()
        for article in due:
            article.status = ArticleStatus.PUBLISHED
        db.session.flush()
        index_articles(db.session, due)
        db.session.commit()
        if len(due) < BATCH:
            break
    upcoming = db.session.scalar(
        select(func.min(Article.published_at)).where(
            Article.status == ArticleStatus.SCHEDULED,
            Article.published_at <= utcnow() + timedelta(minutes=1),
        )
    )
    if upcoming is not None:
        nudge(publish_due, eta=upcoming)


def publish_when_due(session: DbSession, article: Article) -> None:
    """After this commit, have the workers publish `article` at its time (call it when
    its status or published_at changed)."""
    eta = article.published_at
    if (
        article.status is ArticleStatus.SCHEDULED
        and eta is not None
        and eta <= utcnow() + NUDGE_HORIZON
    ):
        after_commit(session, lambda: nudge(publish_due, eta=eta))
