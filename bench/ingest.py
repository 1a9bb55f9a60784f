"""Ingest throughput: a 10 000-item RSS feed from a loopback HTTP server into a fresh
database, through the same service `POST /feeds/<id>/fetch` and `flask cms ingest` use.

    python -m bench.ingest [--items 10000] [--rounds 3] [--database URL]

Reports articles/s end to end (fetch + parse + store + commit) and each stage alone,
medians over the rounds, each round on a new database (a SQLite file here, or a
throw-away PostgreSQL database next to DATABASE_URL's, dropped after).
"""

import argparse
import json
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import psycopg
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from cms import create_app
from cms.extensions import db
from cms.models import Feed
from cms.services.feeds import parse_feed
from cms.services.fetching import AllowedAddress, FetchPolicy, fetch
from cms.services.ingest import ingest_feed, store_entries

RESULTS = Path(__file__).parent / "results"
T = TypeVar("T")
WORDS = [
    "market",
    "policy",
    "court",
    "vote",
    "climate",
    "energy",
    "trade",
    "health",
    "science",
    "budget",
    "city",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL DATABASE_URL (default: SQLite)")
    args = parser.parse_args()
    body = feed_document(args.items)
    print(f"feed: {args.items} items, {len(body) / 1e6:.1f} MB")
    with serving(body) as (url, port):
        policy = FetchPolicy(allowed=(_loopback(port),), max_bytes=64 * 1024 * 1024)
        rounds = [one_round(args, url, policy) for _ in range(args.rounds)]
    result = {stage: statistics.median(r[stage] for r in rounds) for stage in rounds[0] if stage}
    backend = "postgresql" if args.database else "sqlite"
    print(f"\n{backend}, {args.items} items, medians of {args.rounds} rounds:")
    for stage, seconds in result.items():
        print(f"  {stage:<28} {seconds:7.2f} s  {args.items / seconds:8.0f} items/s")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"ingest-{backend}-{args.items}-{stamp}.json"
    out.write_text(json.dumps({"items": args.items, "seconds": result, "rounds": rounds}))
    print(f"written to {out}")


def one_round(args: argparse.Namespace, url: str, policy: FetchPolicy) -> dict[str, float]:
    fetched, fetch_s = timed(lambda: fetch(url, policy))
    parsed, parse_s = timed(lambda: parse_feed(fetched.body, url, "application/rss+xml"))
    with migrated(args.database, url) as feed:
        created, store_s = timed(lambda: commit(store_entries(db.session, feed, parsed.entries)))
        assert len(created[0]) == args.items
        # Every item again, from another feed: the dedup path (found by source URL).
        other = add_feed(url + "?again")
        _, seen_s = timed(lambda: commit(store_entries(db.session, other, parsed.entries)))
    with migrated(args.database, url) as feed:
        result, total_s = timed(lambda: commit(ingest_feed(db.session, feed, policy)))
        assert result.new_items == args.items, result.error
    print(f"  round: end to end {total_s:.2f} s ({args.items / total_s:.0f}/s)")
    return {
        "end to end (ingest_feed)": total_s,
        "fetch only": fetch_s,
        "parse only (parse_feed)": parse_s,
        "store only, new items": store_s,
        "store only, items seen": seen_s,
    }


@contextmanager
def migrated(database: str | None, feed_url: str) -> Iterator[Feed]:
    """A fresh, migrated database with one feed, inside an app context."""
    with fresh_database(database) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(48)})
        with app.app_context():
            upgrade()
            try:
                yield add_feed(feed_url)
            finally:
                db.session.remove()
                db.engine.dispose()


def add_feed(url: str) -> Feed:
    feed = Feed(url=url)
    db.session.add(feed)
    db.session.commit()
    return feed


def commit(value: T) -> T:
    db.session.commit()
    return value


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def feed_document(items: int) -> bytes:
    rng = random.Random(6)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    entries = []
    for n in range(items):
        words = " ".join(rng.choice(WORDS) for _ in range(80))
        body = f"&lt;p&gt;{words} &lt;a href=&quot;/related/{n}&quot;&gt;more&lt;/a&gt;&lt;/p&gt;"
        entries.append(
            f"<item><title>Story {n}: {rng.choice(WORDS)} {rng.choice(WORDS)}</title>"
            f"<link>https://news.example.com/{n // 100}/story-{n}</link>"
            f"<guid isPermaLink='false'>urn:story:{n}</guid>"
            f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate>"
            f"<author>desk@example.com (Reporter {rng.randrange(200)})</author>"
            f"<category>Topic {rng.randrange(500)}</category>"
            f"<category>Topic {rng.randrange(500)}</category>"
            f"<description>{body}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed</title><link>https://news.example.com/</link>{''.join(entries)}"
        "</channel></rss>"
    ).encode()


@contextmanager
def serving(body: bytes) -> Iterator[tuple[str, int]]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        yield f"http://127.0.0.1:{port}/feed.xml", port
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fresh_database(base: str | None) -> Iterator[str]:
    if not base:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/ingest.sqlite3"
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"cms_bench_{secrets.token_hex(4)}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _loopback(port: int) -> AllowedAddress:
    return AllowedAddress.parse(f"127.0.0.1:{port}")


if __name__ == "__main__":
    main()
