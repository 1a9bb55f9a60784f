"""The migrations (Alembic, through Flask-Migrate), loaded only when something uses them.

Serving never migrates, and importing Flask-Migrate brings Alembic with it: 11.6 MiB in
every web worker (issue 13 bounds a worker at 150 MB). So the app gets a stand-in under
`app.extensions["migrate"]`, which Flask-Migrate's functions (`upgrade()`, the
migrations' env.py) read, and a `flask db` group that loads the real commands when the
CLI asks for them. Either sets up Flask-Migrate on first use.
"""

from typing import Any

import click
from flask import Flask

from cms import config
from cms.extensions import db


class MigrationsOnDemand:
    """`app.extensions["migrate"]` until first used; then Flask-Migrate's own config."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(_set_up(self.app), name)


def _set_up(app: Flask) -> Any:
    found = app.extensions["migrate"]
    if isinstance(found, MigrationsOnDemand):
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(config.MIGRATIONS_DIR))  # replaces the stand-in
        found = app.extensions["migrate"]
    return found


class _DbCommands(click.Group):
    """`flask db ...`: Flask-Migrate's command group, loaded when the CLI runs it."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        from flask_migrate.cli import db as commands

        group: click.Group = commands
        return group.make_context(info_name, args, parent=parent, **extra)


def init_schema(app: Flask) -> None:
    app.extensions["migrate"] = MigrationsOnDemand(app)
    app.cli.add_command(_DbCommands("db", help="Database migrations (Alembic)."))
