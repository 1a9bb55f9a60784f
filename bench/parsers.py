"""Parse speed of the feed parsers on one generated RSS 2.0 feed, in one process.

    python -m bench.parsers [--items 2000] [--rounds 3]

The feed is bench.ingest's (title, link, guid, pubDate, author, two categories and an
escaped-HTML description per item). Each parser is given bytes, best of the rounds; then
our own parse_feed, which maps the fast parser's output into entries (and sanitizes).
fastfeedparser, the other candidate, is measured when installed (it is not a dependency:
`pip install fastfeedparser==0.6.5`).
"""

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

import feedparser
import feedparser_rs

from bench.ingest import feed_document
from cms.services.feeds import parse_feed

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "feedparser (sanitize, relative URIs off)": lambda body: (
        feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False).entries
    ),
    "feedparser-rs (sanitize, relative URIs off)": lambda body: (
        feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False).entries
    ),
    "cms parse_feed (fast path + mapping + nh3)": lambda body: (
        parse_feed(body, "https://news.example.com/feed").entries
    ),
}


try:
    import fastfeedparser

    PARSERS["fastfeedparser (lxml)"] = lambda body: fastfeedparser.parse(body).entries
except ImportError:
    pass


def best_of(rounds: int, work: Callable[[], Any]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(rounds):
        started = time.perf_counter()
        count = len(work())
        best = min(best, time.perf_counter() - started)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = feed_document(args.items)
    print(f"feed: {args.items} items, {len(body) / 1e6:.1f} MB, best of {args.rounds}")
    for name, parse in PARSERS.items():
        seconds, count = best_of(args.rounds, lambda parse=parse: parse(body))
        assert count == args.items, (name, count)
        print(f"  {name:<45} {seconds:7.3f} s  {args.items / seconds:9.0f} items/s", flush=True)


if __name__ == "__main__":
    main()
