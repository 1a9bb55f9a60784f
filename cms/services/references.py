"""Resolve ids sent by clients into rows, reporting the ones that do not exist."""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select

from cms.models import Base
from cms.services import DbSession

M = TypeVar("M", bound=Base)


def resolve_many(
    session: DbSession, model: type[M], ids: Sequence[int], field: str, errors: dict[str, list[str]]
) -> list[M]:
    """The rows for `ids` in the given order (one query); problems go into `errors`."""
    if len(set(ids)) != len(ids):
        errors[field] = ["Each id may appear only once."]
        return []
    found = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}  # type: ignore[attr-defined]
    missing = [i for i in ids if i not in found]
    if missing:
        errors[field] = [f"No {model.__tablename__} with id {', '.join(map(str, missing))}."]
        return []
    return [found[i] for i in ids]


def resolve_one(
    session: DbSession, model: type[M], id_: int | None, field: str, errors: dict[str, list[str]]
) -> M | None:
    if id_ is None:
        return None
    row = session.get(model, id_)
    if row is None:
        errors[field] = [f"No {model.__tablename__} with id {id_}."]
    return row
