"""Throughput of the hot public reads, as ratios to baselines measured in the same run.

    python -m bench.run [--articles 10000] [--seconds 8] [--database URL] [--rounds 3]

Seeds (once) a database of N articles, serves the app with gunicorn (2 sync workers,
no control socket) on loopback and drives each endpoint with wrk -t2 -c32. Needs wrk
(`make bench` installs it). Results go to bench/results/ (not committed).

The ratios that count are to the bare baselines (bench/bare.py): a Flask app that
imports nothing of ours, in its own gunicorn on the next port, same settings, same
database. The in-app baselines (bench/app.py) pay every hook of the CMS; they stay,
labelled, so earlier figures remain comparable.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench.server import ROOT, gunicorn_command, prepare, rss_of, wait_for, worker_pids

RESULTS = Path(__file__).parent / "results"
INCLUDES = "authors,category,tags,cover_image"
TEASER = "id,slug,title,excerpt,published_at,snippet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", help="DATABASE_URL (default: a SQLite file here)")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--only", default="", help="measure only cases whose name has this")
    parser.add_argument(
        "--search-cache",
        choices=("on", "off"),
        default="on",
        help="off: every search ranks and highlights anew (SEARCH_CACHE=0), as distinct "
        "queries or a write between two searches make it do",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every case this often, interleaved; report medians",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (make bench does it)")
    RESULTS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "CMS_INSTANCE_DIR": str(RESULTS / f"instance-{args.articles}"),
        # A server outside development needs a key; nothing it signs outlives the run.
        "SECRET_KEY": secrets.token_urlsafe(48),
    }
    if args.database:
        env["DATABASE_URL"] = args.database
    if args.search_cache == "off":
        env["SEARCH_CACHE"] = "0"
    database = args.database or f"sqlite:///{Path(env['CMS_INSTANCE_DIR']) / 'cms.sqlite3'}"
    bare_env = {**os.environ, "BARE_DATABASE_URL": sqlalchemy_url(database)}
    prepare(env, args.articles)
    bare_port = args.port + 1
    servers = [
        subprocess.Popen(gunicorn_command(args.port), env=env, cwd=ROOT),
        subprocess.Popen(gunicorn_command(bare_port, app="bench.bare:app"), env=bare_env, cwd=ROOT),
    ]
    try:
        base, bare = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{bare_port}"
        wait_for(f"{base}/bench/hello")
        wait_for(f"{bare}/hello")
        rows = measure(base, bare, args)
        rss = {
            pid: round(kib / 1024, 1) for pid, kib in rss_of(worker_pids(servers[0].pid)).items()
        }
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    report(rows, args, rss)


def sqlalchemy_url(url: str) -> str:
    """The URL with psycopg 3 named, as the CMS reads it (postgres:// is accepted there)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def cursor_at(url: str, pages: int) -> str:
    """The next_cursor after walking `pages` pages of 100 (a deep page, keyset-paged)."""
    cursor = ""
    for _ in range(pages):
        with urllib.request.urlopen(f"{url}&cursor={cursor}" if cursor else url) as response:  # noqa: S310
            cursor = json.load(response)["meta"]["next_cursor"]
    return urllib.parse.quote(cursor)


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return str(response.headers["ETag"])


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", output)
    return {
        "rps": rps,
        "errors": float(bad.group(1)) if bad else 0.0,
        "p50_ms": _ms(p50.group(1), p50.group(2)) if p50 else 0.0,
    }


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


BARE_HELLO, BARE_QUERY = "hello JSON (bare baseline)", "one text() query (bare baseline)"
APP_HELLO, APP_QUERY = "hello JSON (in-app baseline)", "one Core query (in-app baseline)"


def measure(base: str, bare: str, args: argparse.Namespace) -> list[dict[str, object]]:
    slug = f"article-{args.articles - 1}"
    list_url = f"{base}/api/v1/articles?include={INCLUDES}"
    teaser, uncached = f"&fields={TEASER}", " (no cache)" if args.search_cache == "off" else ""
    cases = [
        (BARE_HELLO, f"{bare}/hello", {}),
        (BARE_QUERY, f"{bare}/one-query", {}),
        (APP_HELLO, f"{base}/bench/hello", {}),
        (APP_QUERY, f"{base}/bench/one-query", {}),
        ("home list, includes", list_url, {}),
        ("home list, includes, count=false", f"{list_url}&count=false", {}),
        ("category page", f"{base}/api/v1/articles?category=category-3", {}),
        ("article by slug", f"{base}/api/v1/articles/slug/{slug}", {}),
        (
            "cursor page 50",
            f"{base}/api/v1/articles?page_size=20&count=false&cursor="
            + cursor_at(f"{base}/api/v1/articles?page_size=100&count=false", 49),
            {},
        ),
        (f"search, selective term{uncached}", f"{base}/api/v1/articles?q=zephyrine{teaser}", {}),
        (f"search, common term{uncached}", f"{base}/api/v1/articles?q=market{teaser}", {}),
        ("304 home list", list_url, {"If-None-Match": etag_of(list_url)}),
        (
            "304 article by slug",
            f"{base}/api/v1/articles/slug/{slug}",
            {"If-None-Match": etag_of(f"{base}/api/v1/articles/slug/{slug}")},
        ),
    ]
    cases = [c for c in cases if not args.only or args.only in c[0] or "baseline" in c[0]]
    for _, url, headers in cases:
        wrk(url, 2, args.connections, headers)  # warm-up
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in cases}
    for round_ in range(args.rounds):
        for name, url, headers in cases:  # interleaved: machine noise hits all alike
            result = wrk(url, args.seconds, args.connections, headers)
            runs[name].append(result)
            print(
                f"[{round_ + 1}/{args.rounds}] {name:36} {result['rps']:9.0f} rps  "
                f"p50 {result['p50_ms']:6.1f} ms"
                f"{'  ERRORS ' + str(int(result['errors'])) if result['errors'] else ''}"
            )
    rows = []
    for name, url, headers in cases:
        rps = sorted(r["rps"] for r in runs[name])
        rows.append(
            {
                "name": name,
                "url": url.removeprefix(base).removeprefix(bare),
                "wrk": " ".join(
                    [
                        f"wrk -t2 -c{args.connections} -d{args.seconds}s",
                        *(f"-H '{key}: {value}'" for key, value in headers.items()),
                        f"'{url}'",
                    ]
                ),
                "rps": rps[len(rps) // 2],
                "rps_runs": rps,
                "errors": sum(r["errors"] for r in runs[name]),
            }
        )
    return rows


def report(rows: list[dict[str, object]], args: argparse.Namespace, rss: dict[int, float]) -> None:
    by_name = {str(r["name"]): float(r["rps"]) for r in rows}  # type: ignore[arg-type]
    bases = [by_name[name] for name in (BARE_QUERY, BARE_HELLO, APP_QUERY, APP_HELLO)]
    heads = ["/ bare query", "/ bare hello", "/ app query", "/ app hello"]
    print(f"\n{'endpoint (median rps)':36} {'rps':>9} " + " ".join(f"{h:>12}" for h in heads))
    for row in rows:
        rps = float(row["rps"])  # type: ignore[arg-type]
        ratios = " ".join(f"{rps / b:12.2f}" for b in bases)
        print(f"{row['name']!s:36} {rps:9.0f} {ratios}")
    print(f"\nCMS worker RSS after the run (MiB): {sorted(rss.values())}")
    command = " ".join(["python -m bench.run", *sys.argv[1:]])
    print(f"\nreproduce the table: {command}\none row, with both servers up (same run):")
    for row in rows:
        print(f"  {row['name']}: {row['wrk']}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"throughput-{args.articles}-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "articles": args.articles,
                "seconds": args.seconds,
                "database": args.database or "sqlite",
                "worker_rss_mib": sorted(rss.values()),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
