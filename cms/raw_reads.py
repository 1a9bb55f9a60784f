"""Reads straight from a pooled DB-API connection, for the hottest requests only.

Validators (a 304 then costs about what a hello-world answer does) and the stamps of an
anonymous list: a SQLAlchemy round trip through the session (begin, execute, typed
result, close) was measured to cost a fifth of a whole list request. SQLAlchemy's events
(and the tests' query counters) do not see these reads.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Select

from cms.extensions import db


def raw_fetchone(sql: str, *params: Any, engine: Engine | None = None) -> Any:
    """One row of `sql` (`?` placeholders)."""
    engine = engine or db.engine
    if engine.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    rows = _run(engine, sql, params, one=True)
    return rows[0] if rows else None


@dataclass(frozen=True)
class RawSelect:
    """A SELECT compiled once for a dialect, run with only some of its parameters given
    per call (`now`): the rest were fixed when it was built, and are bound processed."""

    sql: str
    order: tuple[str, ...] | None  # positional parameter names; None: named parameters
    fixed: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    per_call: frozenset[str]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect, **per_call: Any) -> "RawSelect":
        """`per_call`: an example value of each parameter given per call (`rows`)."""
        # Expanded as SQLAlchemy's execute would (IN lists become one placeholder per
        # value: their values are fixed), with its conversion of each parameter (an
        # enum to its value, a datetime to SQLite's text): the expansion names only the
        # new parameters' converters, the compiled statement the others (no public
        # name; tuple-valued ones, which no statement here binds, are lists of them).
        compiled = statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(per_call)
        processors = cast(
            dict[str, Callable[[Any], Any]],
            {**compiled._bind_processors, **expanded.processors},
        )
        fixed = {
            name: processors[name](value) if name in processors else value
            for name, value in expanded.parameters.items()
        }
        order = tuple(expanded.positiontup) if expanded.positiontup is not None else None
        return cls(expanded.statement, order, fixed, processors, frozenset(per_call))

    def rows(self, engine: Engine, **given: Any) -> list[tuple[Any, ...]]:
        """All rows, as the DB-API returns them (no result types applied)."""
        if given.keys() != self.per_call:  # else the example value would be used
            raise TypeError(f"give exactly {sorted(self.per_call)}, not {sorted(given)}")
        values = dict(self.fixed)
        for name, value in given.items():
            processor = self.processors.get(name)
            values[name] = processor(value) if processor else value
        params: Any = values if self.order is None else tuple(values[n] for n in self.order)
        return _run(engine, self.sql, params, one=False)


def _run(engine: Engine, sql: str, params: Any, *, one: bool) -> list[Any]:
    dialect = engine.dialect
    connection: PoolProxiedConnection | None = None
    try:
        connection = engine.raw_connection()
        cursor = connection.cursor()
        cursor.execute(sql, params)
        rows = [cursor.fetchone()] if one else cursor.fetchall()
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy does: a connection that dropped leaves the pool, and the error
        # is raised as its kind, so the app's handlers see one kind of database error
        # (an unreachable database is a 503 here too, not a 500).
        dropped = connection is not None and dialect.is_disconnect(
            error, connection.dbapi_connection, None
        )
        if connection is not None and dropped:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, connection_invalidated=dropped
        ) from error
    finally:
        if connection is not None:
            connection.close()  # back to the pool
    return [row for row in rows if row is not None]
