"""Migrations are the schema: the models must not drift from them."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from cms.extensions import db
from cms.models import Base
from cms.models.search import is_migration_only
from tests.conftest import make_app


def schema_drift() -> list[object]:
    """How the current app's database differs from the models (empty: not at all)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, kind, *_: not is_migration_only(name, kind),
            },
        )
        return list(compare_metadata(context, Base.metadata))


def test_models_match_the_migrated_schema(app: Flask) -> None:
    assert schema_drift() == []


def test_search_migration_indexes_existing_articles(tmp_path: Path) -> None:
    """Articles written before the search migration are found after it."""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO articles (slug, stable_id, title, body_format, body_source, "
                    "body_html, status, key_points, version, published_at) VALUES ('old', "
                    "'sid_0123456789', 'Old news', 'html', '', '<p>A <b>walrus</b> story</p>', "
                    "'published', '[]', 1, CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        found = app.test_client().get("/api/v1/articles?q=walrus").json["data"]
        db.engine.dispose()
    assert [a["slug"] for a in found] == ["old"]
