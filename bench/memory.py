"""Worker memory with large articles: every page of N articles of 1 MB bodies, listed
in every combination of includes, then the worker's RSS.

    python -m bench.memory [--articles 500] [--body-kb 1000] [--page-size 20]

Seeds a fresh SQLite database (bench/results/memory-instance), gives every article a
body of --body-kb kilobytes, and serves the app with gunicorn, one sync worker (so every
request lands on the process measured). It then lists every page with each of the 64
subsets of the six relations, reading each answer whole, and samples the worker's RSS
after each subset. Exits 1 when the peak passes --max-rss MiB (150: issue 13).
"""

import argparse
import http.client
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.server import (
    ROOT,
    die_with_parent,
    free_port,
    gunicorn_command,
    prepare,
    rss_of,
    stop_server,
    wait_for,
    wait_for_workers,
)

RESULTS = Path(__file__).parent / "results"
RELATIONS = ("authors", "category", "tags", "cover_image", "publication", "cited_by")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--body-kb", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--max-rss", type=float, default=150.0, help="MiB")
    args = parser.parse_args()
    instance = RESULTS / "memory-instance"
    shutil.rmtree(instance, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    env = {**os.environ, "CMS_INSTANCE_DIR": str(instance), "SECRET_KEY": secrets.token_urlsafe(48)}
    env.pop("DATABASE_URL", None)
    prepare(env, args.articles)
    enlarge_bodies(env, args.body_kb)
    port = free_port()
    server = subprocess.Popen(
        gunicorn_command(port, workers=1),
        env=env,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/bench/hello")
        [worker] = wait_for_workers(server.pid, 1)
        summary = walk(port, worker, args)
    finally:
        stop_server(server)
    summary["passed"] = summary["peak_rss_mib"] <= args.max_rss
    (RESULTS / "memory.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["passed"] else 1)


_ENLARGE = """
import os
from sqlalchemy import text
from bench.app import app
from cms.extensions import db
repeats = int(os.environ["BODY_KB"]) * 1000 // 12
with app.app_context():
    for i in db.session.scalars(text("SELECT id FROM articles")).all():
        body = "<p>" + ("article %d " % i) * repeats + "</p>"
        db.session.execute(
            text("UPDATE articles SET body_html = :b, body_format = 'html' WHERE id = :i"),
            {"b": body, "i": i},
        )
    db.session.commit()
"""


def enlarge_bodies(env: dict[str, str], body_kb: int) -> None:
    """Every article's body becomes ~body_kb KB of HTML (each a distinct string)."""
    started = time.perf_counter()
    environment = {**env, "BODY_KB": str(body_kb)}
    subprocess.run([sys.executable, "-c", _ENLARGE], env=environment, check=True, cwd=ROOT)
    print(f"bodies enlarged ({time.perf_counter() - started:.0f} s)")


def walk(port: int, worker: int, args: argparse.Namespace) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    pages = -(-args.articles // args.page_size)
    start_rss = rss_of([worker])[worker] / 1024
    peak, requests, received, started = start_rss, 0, 0, time.perf_counter()
    for size in range(len(RELATIONS) + 1):
        for combination in itertools.combinations(RELATIONS, size):
            include = f"&include={','.join(combination)}" if combination else ""
            for page in range(1, pages + 1):
                path = f"/api/v1/articles?page_size={args.page_size}&page={page}{include}"
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    sys.exit(f"{path}: {response.status}")
                requests, received = requests + 1, received + len(body)
            rss = rss_of([worker])[worker] / 1024
            peak = max(peak, rss)
            print(f"  include={','.join(combination) or '-':55} RSS {rss:6.1f} MiB")
    end_rss = rss_of([worker])[worker] / 1024
    return {
        "articles": args.articles,
        "body_kb": args.body_kb,
        "page_size": args.page_size,
        "requests": requests,
        "received_mib": round(received / 2**20),
        "seconds": round(time.perf_counter() - started),
        "start_rss_mib": round(start_rss, 1),
        "peak_rss_mib": round(peak, 1),
        "end_rss_mib": round(end_rss, 1),
        "max_rss_mib": args.max_rss,
    }


if __name__ == "__main__":
    main()
