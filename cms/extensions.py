"""The extension instances, created once. Nothing of the HTTP layer lives here (that is
cms.api.framework), and nothing of the project is imported, so models, services and
jobs can import it freely. The models declare themselves on cms.models.Base, not on
db.Model: the schema is cms.models.Base.metadata (db.metadata is not it)."""

from typing import Any

from flask_jwt_extended import JWTManager
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

db = SQLAlchemy()
jwt = JWTManager()

# The range of the database's INTEGER columns (PostgreSQL's int4, the narrowest id and
# count type): a larger number names no row and fits no column.
DB_INT_MAX = 2**31 - 1


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite only enforces foreign keys when asked; WAL lets workers read while one writes."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
