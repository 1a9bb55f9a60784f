"""Migrations go down and back up with content in the tables, and keep what survives.

A downgrade is the way back from a bad deploy: it runs against a live database, so it
is tested with demo content in every table, on SQLite and (with DATABASE_URL) PostgreSQL.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from cms import config
from cms.auth.tokens import create_api_token
from cms.demo import load_demo
from cms.extensions import db
from cms.models import (
    Article,
    ArticleTag,
    Feed,
    FeedItem,
    Image,
    Rendition,
    RevokedToken,
    Role,
    SourceCopy,
    utcnow,
)
from cms.models.auth import LoginFailure
from cms.services.users import create_user
from tests.conftest import make_app
from tests.databases import database_url
from tests.test_migrations import schema_drift

# Newest first: the order a step-by-step downgrade takes.
REVISIONS = [
    script.revision for script in ScriptDirectory(str(config.MIGRATIONS_DIR)).walk_revisions()
]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own, migrated to head and holding demo content."""
    with database_url(tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            load_content()
            yield app
            db.session.remove()
            db.engine.dispose()


def load_content() -> None:
    """The demo, plus a row in each table the demo leaves empty."""
    load_demo(db.session)
    user = create_user(
        db.session, email="editor@example.com", password="correct horse battery", role=Role.EDITOR
    )
    create_api_token(db.session, name="robot", role=Role.AUTHOR, expires_at=None, created_by=user)
    later = utcnow() + timedelta(days=1)
    db.session.add(RevokedToken(key="family:demo", expires_at=later))
    db.session.add(LoginFailure(guess="0" * 32, key="account:editor@example.com", expires_at=later))
    image = Image(url="/media/images/p/640.jpeg", width=640, height=360, storage_prefix="p")
    image.renditions = [
        Rendition(kind="width", format="jpeg", width=640, height=360, bytes=1, key="images/p/1")
    ]
    article = db.session.scalars(select(Article).order_by(Article.id)).first()
    assert article is not None
    article.cover_image = image
    feed = Feed(url="https://feeds.example/rss")
    db.session.add(feed)
    db.session.flush()
    db.session.add(FeedItem(feed_id=feed.id, guid_hash="a" * 64, article_id=article.id))
    db.session.add(SourceCopy(article_id=article.id, text="The source, as fetched."))
    db.session.commit()


def row_counts() -> dict[str, int]:
    """Rows per table that exists now (the FTS index's own tables on SQLite included)."""
    with db.engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()  # noqa: S608
            for name in names
            if name != "alembic_version"
        }


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def article_links() -> set[tuple[str, str | None, int]]:
    """Each article's slug, cover and number of tags: what the joins between tables keep."""
    query = (
        select(Article.slug, Image.url, func.count(ArticleTag.tag_id))
        .outerjoin(Image, Article.cover_image_id == Image.id)
        .outerjoin(ArticleTag, ArticleTag.article_id == Article.id)
        .group_by(Article.slug, Image.url)
    )
    links = {(slug, cover, tags) for slug, cover, tags in db.session.execute(query)}
    db.session.rollback()  # its read locks would stall the migrations on PostgreSQL
    return links


def test_each_downgrade_keeps_the_rows_of_the_tables_it_leaves(fresh: Flask) -> None:
    for revision in REVISIONS:
        assert current_revision() == revision
        before = row_counts()
        downgrade(revision="-1")
        after = row_counts()
        kept = {name: before[name] for name in after if name in before}
        assert {name: after[name] for name in kept} == kept, f"downgrade of {revision}"
    assert current_revision() is None
    assert row_counts() == {}


def test_upgrade_after_a_full_downgrade_rebuilds_the_shipped_schema(fresh: Flask) -> None:
    downgrade(revision="base")
    upgrade()
    assert current_revision() == REVISIONS[0]
    assert schema_drift() == []
    load_content()  # and it takes content again


# Down to each older revision (REVISIONS[2] is `downgrade -2`), then back to head.
@pytest.mark.parametrize("target", REVISIONS[1:])
def test_down_and_up_again_keeps_the_content(fresh: Flask, target: str) -> None:
    """Tables the downgrade dropped come back empty (or re-derived, like the search
    index); every other table keeps every row, and the articles their links."""
    links, before = article_links(), row_counts()
    downgrade(revision=target)
    survived = {name: before[name] for name in row_counts()}
    upgrade()
    after = row_counts()
    assert {name: after[name] for name in survived} == survived
    assert article_links() == links
