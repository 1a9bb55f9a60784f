"""The purge hook: content events become CDN purges, within seconds of the commit.

Each dispatched batch of events names the cache keys it made stale
(services/purging.py). Those go out two ways: as a `cache.purge` webhook event (for
anything subscribed), and, with CACHE_PURGE_URL set, as jobs that POST them to the
CDN's purge API, `{"tags": [...]}` in batches (Cloudflare's shape; Fastly and others
take the same keys through a small adapter). A purge is idempotent, so the at-least-
once dispatch may repeat one harmlessly.
"""

from collections.abc import Sequence

import orjson
from flask import current_app

from cms.extensions import db
from cms.jobs import enqueue, job
from cms.models import ContentEvent
from cms.services.dispatch import consumer
from cms.services.fetching import FetchError, FetchPolicy, post
from cms.services.purging import purge_keys
from cms.services.webhooks import announce


@consumer("cdn_purge")
def purge_stale(events: Sequence[ContentEvent]) -> None:
    keys = purge_keys(events)
    if not keys:
        return
    announce(db.session, "cache.purge", {"keys": keys})
    if current_app.config["CACHE_PURGE_URL"]:
        size = current_app.config["CACHE_PURGE_BATCH"]
        for start in range(0, len(keys), size):
            enqueue(db.session, send_purge, keys[start : start + size])


@job("cdn.purge", attempts=5, retry_delay=5)
def send_purge(keys: list[str]) -> None:
    """POST the keys to the purge URL (through the SSRF rules of every outgoing call);
    any answer but a 2xx fails the run, which is retried with backoff."""
    config = current_app.config
    headers = {}
    if config["CACHE_PURGE_TOKEN"]:
        headers["Authorization"] = f"Bearer {config['CACHE_PURGE_TOKEN']}"
    answer = post(
        config["CACHE_PURGE_URL"],
        FetchPolicy.from_config(config),
        body=orjson.dumps({"tags": keys}),
        headers=headers,
    )
    if not 200 <= answer.status < 300:
        raise FetchError("http_status", f"The purge URL answered HTTP {answer.status}.")
