"""The poll cycle over many feeds on loopback servers (issue 16's acceptance).

    python -m bench.poll_cycle [--feeds 1000] [--servers 50] [--deadline 5] [--database URL]

The feed servers run in a process of their own (they would otherwise share this one's
CPU and GIL with the cycle). A first cycle reads every feed (their items, ETags); then
every feed is made due again and the measured cycle runs over the mix the issue names:
70% answer 304, 20% answer 200 with the same items, 8% have a new item, and 2% are
slow (past the deadline), broken, or redirect to a private address. A third cycle over
the same documents must find nothing new, and no article may exist twice.
"""

import argparse
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import func, select, update

from bench.ingest import fresh_database
from cms import create_app
from cms.extensions import db
from cms.models import Article, Feed
from cms.services.polling import poll_feeds


def kind(n: int) -> str:
    """What feed n does in the measured cycle: 70/20/8/2 in every hundred."""
    slot = n % 100
    if slot < 70:
        return "not_modified"
    if slot < 90:
        return "unchanged"
    if slot < 98:
        return "new_items"
    return ("slow", "broken", "private")[(n // 100 + slot) % 3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=50, help="loopback hosts (ports)")
    parser.add_argument("--items", type=int, default=10, help="items per feed")
    parser.add_argument("--deadline", type=float, default=5.0, help="FETCH_TIMEOUT, seconds")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    with serving(args) as (ports, round_), fresh_database(args.database) as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench-" * 8,
                "QUEUE_URL": "memory://",
                "FETCH_ALLOW": ["127.0.0.1"],
                "FETCH_TIMEOUT": args.deadline,
                "POLL_WORKERS": args.workers,
                "POLL_PER_HOST": args.per_host,
            }
        )
        with app.app_context():
            upgrade()
            db.session.add_all(
                Feed(url=f"http://127.0.0.1:{ports[n % len(ports)]}/feed/{n}")
                for n in range(args.feeds)
            )
            db.session.commit()
            report("first cycle (every feed read)", cycle())
            round_.value = 1  # the 8% now have a new item
            report("measured cycle (the mix)", cycle())
            third = cycle()
            report("next cycle (same documents)", third)
            copies = db.session.scalar(
                select(func.count(Article.id) - func.count(Article.source_url.distinct()))
            )
            print(f"duplicate articles: {copies}; new items in the next cycle: {third[1]}")
            db.session.remove()
            db.engine.dispose()


def cycle() -> tuple[float, int, Counter[str]]:
    """Make every feed due, run one poll cycle; (seconds, new items, outcomes)."""
    db.session.execute(update(Feed).values(next_fetch_at=None, last_fetched_at=None))
    db.session.commit()
    started = time.perf_counter()
    poll_feeds()
    seconds = time.perf_counter() - started
    rows = db.session.execute(select(Feed.last_status, Feed.last_new_items)).all()
    db.session.rollback()
    outcomes = Counter(str(status.value if status else None) for status, _ in rows)
    return seconds, sum(new or 0 for _, new in rows), outcomes


def report(label: str, measured: tuple[float, int, Counter[str]]) -> None:
    seconds, new, outcomes = measured
    print(f"{label}: {seconds:.2f} s, {new} new items, {dict(outcomes)}")


@contextmanager
def serving(args: argparse.Namespace) -> Iterator[tuple[list[int], Any]]:
    context = multiprocessing.get_context("spawn")
    round_ = context.Value("i", 0)
    ports = context.Queue()
    process = context.Process(
        target=serve, args=(args.servers, args.items, args.deadline, round_, ports), daemon=True
    )
    process.start()
    try:
        yield [ports.get(timeout=30) for _ in range(args.servers)], round_
    finally:
        process.terminate()
        process.join()


def serve(servers: int, items: int, deadline: float, round_: Any, ports: Any) -> None:
    """Run `servers` feed servers until terminated (in the child process)."""
    handler = feed_handler(items, deadline, round_)
    for _ in range(servers):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.request_queue_size = 128
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ports.put(server.server_address[1])
    threading.Event().wait()


def feed_handler(items: int, deadline: float, round_: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            n = int(self.path.rsplit("/", 1)[-1])
            what = kind(n) if round_.value else "first"
            if what == "slow":
                time.sleep(deadline * 2)
            if what == "private":
                self.answer(302, b"", {"Location": "http://10.0.0.1/feed"})
            elif what == "broken" and round_.value:
                self.answer(200, b"<html>not a feed</html>", {})
            elif what == "not_modified" and self.headers.get("If-None-Match") == f'"{n}"':
                self.answer(304, b"", {"ETag": f'"{n}"'})
            else:
                etag = {"ETag": f'"{n}"'} if what in ("not_modified", "first") else {}
                self.answer(200, document(n, items, round_.value and what == "new_items"), etag)

        def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/rss+xml", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # a client past its deadline
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def document(n: int, items: int, fresh: bool) -> bytes:
    stories = [f"story-{k}" for k in range(items)] + (["story-new"] if fresh else [])
    entries = "".join(
        f"<item><title>Feed {n} {s}</title><link>https://news{n % 7}.example.com/{n}/{s}</link>"
        f"<guid>urn:{n}:{s}</guid><description>Item {s} of feed {n}.</description></item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {n}</title><link>https://news.example.com/</link>{entries}</channel></rss>"
    ).encode()


if __name__ == "__main__":
    main()
