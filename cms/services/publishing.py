"""Scheduled articles go live: a periodic task publishes every `scheduled` article whose
published_at has come (an ORM write: versioned, indexed and announced in the outbox like
an editor's). Saving a scheduled article also asks for a run at its
time, so it goes live within the scheduler's second, not at the next minute."""

from sqlalchemy import select

from cms.extensions import db
from cms.jobs import after_commit, nudge, periodic
from cms.models import Article, ArticleStatus, utcnow
from cms.services import DbSession
from cms.services.search import index_articles

BATCH = 200


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
            return


def publish_when_due(session: DbSession, article: Article) -> None:
    """After this commit, have the workers publish `article` at its time."""
    if article.status is ArticleStatus.SCHEDULED and article.published_at is not None:
        eta = article.published_at
        after_commit(session, lambda: nudge(publish_due, eta=eta))
