"""Time one URL in-process: the WSGI app called directly, no server and no network, so
what is left is the app's own cost per request. With --profile, where it goes.

    python -m bench.inprocess URL [--app cms|bare] [--requests 2000] [--profile]
                              [--header 'Name: value' ...]

The database is the CMS's as configured (CMS_INSTANCE_DIR, DATABASE_URL, as for
bench.run; seed it with bench.run first). `--app bare` times bench/bare.py on the same
database instead (BARE_DATABASE_URL, defaulting to the CMS's).
"""

import argparse
import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import EnvironBuilder

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="path and query, e.g. /api/v1/articles?include=tags")
    parser.add_argument("--app", choices=("cms", "bare"), default="cms")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--profile", action="store_true", help="print a cProfile too")
    args = parser.parse_args()
    app = _app(args.app)
    path, _, query = args.url.partition("?")
    headers = dict(header.split(": ", 1) for header in args.header)
    environ = EnvironBuilder(path=path, query_string=query, headers=headers).get_environ()

    def call() -> str:
        statuses: list[str] = []
        body = app({**environ, "wsgi.input": io.BytesIO(b"")}, lambda s, *_: statuses.append(s))
        b"".join(body)
        getattr(body, "close", lambda: None)()
        return statuses[0]

    print(f"{args.url}: {call()}")
    for _ in range(min(200, args.requests)):  # warm the caches
        call()
    started = time.perf_counter()
    for _ in range(args.requests):
        call()
    print(f"{(time.perf_counter() - started) / args.requests * 1000:.3f} ms per request")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [call() for _ in range(args.requests)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


def _app(name: str) -> WSGIApp:
    if name == "cms":
        from bench.app import app  # each app is built from the environment on import

        return app
    if "BARE_DATABASE_URL" not in os.environ:
        from bench.app import app as cms

        os.environ["BARE_DATABASE_URL"] = str(cms.config["SQLALCHEMY_DATABASE_URI"])
    from bench.bare import app as bare

    return bare


if __name__ == "__main__":
    main()
