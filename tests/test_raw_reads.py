"""Statements run raw (cms.raw_reads) find what SQLAlchemy's execute finds: the same
conversions of each parameter (aware datetimes, enums) and the same IN expansion."""

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import bindparam, select

from cms.extensions import db
from cms.models import Article, ArticleStatus
from cms.raw_reads import RawSelect
from tests.factories import ArticleFactory

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_raw_select_finds_the_rows_sqlalchemy_finds(app: Flask) -> None:
    # Whole seconds and microseconds: SQLite compares datetimes as text, so a parameter
    # bound in another format than the stored one would cut at the wrong place.
    times = [START + timedelta(seconds=n // 2, microseconds=(n % 2) * 500) for n in range(12)]
    articles = [ArticleFactory(published_at=at) for at in times]
    articles[3].status = ArticleStatus.DRAFT
    db.session.commit()
    statement = (
        select(Article.id, Article.published_at)
        .where(
            Article.status == ArticleStatus.PUBLISHED,
            Article.published_at <= bindparam("now"),
            Article.published_at > times[2],
            Article.id.not_in([articles[5].id, articles[6].id]),
        )
        .order_by(Article.published_at.desc(), Article.id.desc())
    )
    raw = RawSelect.of(statement, db.engine.dialect, now=START)

    for now in (times[4], times[7], times[11], START + timedelta(days=1)):
        expected = [row.id for row in db.session.execute(statement, {"now": now})]
        assert [row[0] for row in raw.rows(db.engine, now=now)] == expected
    assert [row[0] for row in raw.rows(db.engine, now=times[8])] == [
        articles[n].id for n in (8, 7, 4)
    ]
