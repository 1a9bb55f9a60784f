"""The trash empties itself: a periodic task purges articles trashed more than
TRASH_KEEP_DAYS ago (deleted for good, with their links, old slugs and search rows)."""

from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import select

from cms.extensions import db
from cms.jobs import periodic
from cms.models import Article, utcnow
from cms.services.articles import delete_article

BATCH = 200


@periodic("articles.purge_trash", crontab(minute="17"))
def purge_trash() -> None:
    cutoff = utcnow() - timedelta(days=current_app.config["TRASH_KEEP_DAYS"])
    while True:
        expired = db.session.scalars(
            select(Article).where(Article.trashed_at <= cutoff).order_by(Article.id).limit(BATCH)
        ).all()
        for article in expired:
            delete_article(db.session, article)
        db.session.commit()
        if len(expired) < BATCH:
            return
