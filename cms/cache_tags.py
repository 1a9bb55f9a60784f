"""Cache-Tag / Surrogate-Key headers: each public response names what it shows, so a
CDN can purge it when any of that changes (the keys: services/purging.py).

Views name what they show with `show`; a public GET that named nothing is named by
its blueprint (the docs, the spec), or for a content collection by its list key, which
any change of that kind purges (coarse, never stale). Only a 200 carries them: a 304 without
them leaves the CDN's stored keys as they were, and one with fewer would narrow them.
"""

from collections.abc import Iterable

from flask import current_app, g, request
from werkzeug.datastructures import Headers

from cms.services.purging import header_values, unnamed_key


def show(keys: Iterable[str]) -> None:
    """Name what this response shows (called by views, as they load it)."""
    shown: list[str] | None = g.get("cache_tags")
    if shown is None:
        shown = g.cache_tags = []
    shown.extend(keys)


def write_cache_tags(headers: Headers) -> None:
    keys = g.get("cache_tags") or [unnamed_key(request.blueprint or request.endpoint or "site")]
    budget = current_app.config["CACHE_TAG_BYTES"]
    headers["Cache-Tag"], headers["Surrogate-Key"] = header_values(keys, budget)
