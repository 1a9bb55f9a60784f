"""Alembic environment, run through Flask-Migrate (`flask db upgrade`)."""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

from cms.models import Base

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    # Only when run from the command line; never reconfigure an app's or pytest's logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
# The schema is the models' metadata (cms.models.Base), not the Flask-SQLAlchemy db's.
target_metadata = Base.metadata
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def render_item(type_, obj, _autogen_context):  # type: ignore[no-untyped-def]
    """Write the app's UTCDateTime as a plain timezone-aware DateTime in migrations."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Leave the full-text index (created by hand in the migrations) out of autogenerate."""
    from cms.models.search import is_migration_only

    return not is_migration_only(name, type_)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_autogenerate(_context, _revision, directives):  # type: ignore[no-untyped-def]
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    with target_db.engine.connect() as connection, _foreign_keys_unenforced(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # Flask-Migrate already passes render_as_batch and compare_type.
            **{"render_item": render_item, "include_object": include_object, **conf_args},
        )
        with context.begin_transaction():
            context.run_migrations()


@contextmanager
def _foreign_keys_unenforced(connection):  # type: ignore[no-untyped-def]
    """SQLite's batch migrations rebuild a table (copy, drop, rename). Dropping a table
    that others refer to, with foreign keys enforced, runs their ON DELETE: it fails
    (RESTRICT: images under covers) or empties them (CASCADE: a tag's article links).
    So enforcement is off while migrations run (it can only change outside a
    transaction), and what they leave is checked before it is turned back on."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise RuntimeError(f"migrations left rows referring to nothing: {dangling[:5]}")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
