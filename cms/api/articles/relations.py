"""Relations of articles, fetched for a page of them at once: one query per relation,
whatever the number of articles. Statements are built once, from the relation registry
(cms.services.article_relations); they run on the Core connection (no ORM layer) with
the page's ids as an expanding parameter."""

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from cms.services import DbSession
from cms.services.article_relations import IDS, TO_MANY, TO_ONE, ArticleRelation, link_condition


def by_id(session: DbSession, name: str, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Rows a to-one relation shows, in full, by id."""
    if not ids:
        return {}
    found = {item["id"]: item for item in _rows(session, _BY_ID[name], ids)}
    complete = _TO_ONE[name].complete
    if complete is not None:
        complete(session, found)
    return found


def related(session: DbSession, name: str, ids: list[int], *, full: bool) -> dict[int, list[Any]]:
    """Rows a list relation shows, per article id, in the relation's order."""
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in _rows(session, _LISTS[full][name], ids):
        grouped[item.pop("article_id")].append(item)
    return grouped


def _rows(session: DbSession, statement: Any, ids: Any) -> list[dict[str, Any]]:
    """Run a prebuilt statement for these ids on the Core connection (no ORM layer)."""
    result = session.connection().execute(statement, {"ids": list(ids)})
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def _list_query(relation: ArticleRelation, full: bool) -> Any:
    article_id = relation.article_column
    return (
        select(
            article_id.label("article_id"),
            *relation.compact,
            *(relation.full if full else ()),
        )
        .join(relation.model, link_condition(relation))
        .where(article_id.in_(IDS))
        .order_by(article_id, *relation.order_by)
    )


_TO_ONE = {relation.name: relation for relation in TO_ONE}
_BY_ID = {
    relation.name: select(*relation.compact, *relation.full).where(relation.compact[0].in_(IDS))
    for relation in TO_ONE
}
_LISTS = {
    full: {relation.name: _list_query(relation, full) for relation in TO_MANY}
    for full in (False, True)
}
