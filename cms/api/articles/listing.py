"""Article lists: filter, sort, search, shape and page. Statements of anonymous lists
are planned once per argument set (the clock is a bound parameter), and each article is
rendered from the per-process cache (read.py)."""

import time
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app

from cms.api.articles import query as q
from cms.api.articles.read import count_query, load_articles, stamp_query, stamps_of
from cms.api.common import AnySelect, list_envelope
from cms.auth.permissions import NOW, article_visibility
from cms.auth.principal import Principal
from cms.cache_tags import show
from cms.caching import CACHES, LRU, remember
from cms.extensions import db
from cms.models import Article, utcnow
from cms.problems import fail
from cms.raw_reads import RawSelect
from cms.services.purging import list_key
from cms.services.search import ranked_matches, search_terms, snippets
from cms.services.visibility import epoch


def shape(args: dict[str, Any]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(fields asked for, or None for all; relations to include in full)."""
    fields = frozenset(args["field_names"]) if "field_names" in args else None
    return fields, frozenset(args.get("include", ()))


def project(article: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """Only the fields asked for (and the id)."""
    if fields is None:
        return article
    return {name: value for name, value in article.items() if name == "id" or name in fields}


LIST_KEY = list_key("article")


@dataclass(frozen=True)
class ListPlan:
    """The statements of one list request, built without the clock: `now` is a bound
    parameter, so one plan serves every request with the same arguments."""

    query: AnySelect | None  # None: a search with nothing searchable matches nothing
    counted: AnySelect | None
    keys: list[q.SortKey]
    raw: RawSelect | None = None  # the query, compiled to run raw (anonymous lists)


# Anonymous lists, by their arguments: building the statements (visibility, filters,
# sort, search join) cost more than running them; the plans do not depend on content.
# A search's depends on the database's statistics of its words (services/search.py), so
# it is built again after SEARCH_PLAN_SECONDS.
SEARCH_PLAN_SECONDS = 600
_plans = LRU(size=256)
CACHES.append(_plans)


def _plan(args: dict[str, Any], principal: Principal | None) -> ListPlan:
    if principal is not None:
        return _build_plan(args, principal)
    key: tuple[Any, ...] = tuple(sorted((name, repr(value)) for name, value in args.items()))
    if "q" in args:
        key += (int(time.monotonic() // SEARCH_PLAN_SECONDS),)
    found: ListPlan | None = _plans.get(key)
    if found is None:
        found = _build_plan(args, None)
        if found.query is not None:
            raw = RawSelect.of(found.query, db.engine.dialect, now=utcnow())
            found = replace(found, raw=raw)
        _plans.put(key, found)
    return found


def _build_plan(args: dict[str, Any], principal: Principal | None) -> ListPlan:
    page, page_size, cursor = args["page"], args["page_size"], args.get("cursor")
    visible = article_visibility(principal, now=NOW)
    where = [*visible, *q.filters(args)]
    keys = q.sort_keys(args.get("sort"))
    rated = "min_credibility" in args or any(k.name == "credibility" for k in keys)
    query = stamp_query(rated=rated)
    if cursor is not None:  # what the public sees has a published_at
        never_null = frozenset({"published_at"}) if principal is None else frozenset()
        query = query.where(*q.cursor_range(keys, cursor, never_null))
    query = query.where(*where)
    counted = count_query(rated=rated).where(*where)
    if "q" in args:
        window = current_app.config["SEARCH_RANK_WINDOW"]
        hits = ranked_matches(db.session, search_terms(args["q"]), window, visible)
        if hits is None:  # nothing searchable in what was typed: nothing matches
            return ListPlan(None, None, keys)
        query = query.join(hits, hits.c.article_id == Article.id)
        counted = counted.join(hits, hits.c.article_id == Article.id)
        if "sort" not in args:  # by relevance: a computed score, so no keyset cursor
            if cursor is not None:
                fail(
                    400,
                    "invalid_cursor",
                    "Relevance-ranked results page with `page`; "
                    "give `sort` to page them with a cursor.",
                )
            keys = []
            query = query.order_by(hits.c.score.desc(), Article.id.desc())
    query = query.order_by(*q.order_by(keys))
    if cursor is not None:
        query = query.where(q.after_cursor(keys, cursor))
    else:
        query = query.offset((page - 1) * page_size)
    return ListPlan(query.limit(page_size + 1), counted, keys)


def list_articles(args: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    show([LIST_KEY])  # and each article, as it is loaded
    fields, include = shape(args)
    page, page_size, cursor = args["page"], args["page_size"], args.get("cursor")
    plan = _plan(args, principal)
    if plan.query is None or plan.counted is None:
        return list_envelope(
            [], page=page, page_size=page_size, total=0 if args["count"] else None, more=False
        )
    clock = {"now": utcnow()}
    stamps = _page_stamps(plan.query, plan.raw, clock, args, principal)
    more = len(stamps) > page_size
    rows = load_articles(db.session, stamps[:page_size], include=include)
    if "q" in args and (fields is None or "snippet" in fields):
        ids, kept = [row["id"] for row in rows], current_app.config["SEARCH_CACHE"]
        found = snippets(db.session, search_terms(args["q"]), ids, cached=kept)
        for row in rows:
            row["snippet"] = found.get(row["id"])
    keys = plan.keys
    return list_envelope(
        [project(row, fields) for row in rows],
        page=None if cursor is not None else page,
        page_size=page_size,
        total=_total(plan.counted, clock, args, principal) if args["count"] else None,
        more=more,
        next_cursor=q.encode_cursor(keys, rows[-1]) if more and keys else None,
    )


def _page_stamps(
    query: AnySelect,
    raw: RawSelect | None,
    clock: dict[str, Any],
    args: dict[str, Any],
    principal: Principal | None,
) -> list[Any]:
    """The page's stamps. An anonymous search's are remembered like its total, until the
    next content change or timeline instant: ranking the window costs more than the rest
    of the request (FTS5's bm25 first counts every document each term matches, so a
    common word costs in proportion to the index), and every reader gets the same page."""

    def run() -> list[Any]:
        if raw is not None:
            engine = db.engine
            return stamps_of(raw.rows(engine, **clock), engine.dialect)
        return list(db.session.connection().execute(query, clock).all())

    if "q" not in args or principal is not None or not current_app.config["SEARCH_CACHE"]:
        return run()
    arguments = tuple(sorted((k, repr(v)) for k, v in args.items()))
    key = ("search page", arguments, epoch(db.session, clock["now"]))
    return remember(key, run)


_NOT_FILTERS = {"page", "page_size", "cursor", "sort", "field_names", "include", "count"}


def _total(counted: AnySelect, clock: dict[str, Any], args: dict[str, Any], principal: Any) -> int:
    """The number of matches, remembered until the next content change (counting a
    large table on every page view costs more than the page itself)."""
    filters = tuple(sorted((k, str(v)) for k, v in args.items() if k not in _NOT_FILTERS))
    scope = principal.scope if principal else "anonymous"
    key = ("articles", scope, filters, epoch(db.session, clock["now"]))
    return remember(key, lambda: int(db.session.connection().scalar(counted, clock) or 0))
