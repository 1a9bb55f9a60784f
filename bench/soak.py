"""Soak test: minutes of mixed reads and writes; every answer right, worker memory flat.

    python -m bench.soak [--minutes 5] [--workers 2] [--articles 2000] [--clients 4]

Seeds a fresh database (bench/results/soak-instance), creates an editor, and serves the
app with gunicorn (sync workers, no max-requests: each worker lives the whole run) on a
free loopback port, in a process group of its own that is killed at the end whatever
happens. Client threads, one keep-alive connection each, mix anonymous reads (home list
with includes, article by slug, category page, search, 304 revalidations) with the
editor's writes: articles created, patched with If-Match, refused without it (428) or
with a stale one (412), deleted; tags created, patched, deleted. The content stays the
size it started, so memory has no reason to grow with it.

Each worker's RSS is read after the warm-up (10% of the run, at least 30 s, at most
half; or --warmup seconds) and at the end. Exits 1 when any answer had an unexpected
status or any worker grew more than --max-growth percent; the summary is also written
to bench/results/soak.json. The growth over the second half is shown beside it: the
per-process caches (article renderings: --cache-entries, 256 here; list totals: 4,096)
fill for as long as writes make new versions, then hold; a leak keeps growing.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from bench.seed import RARE_WORD, WORDS, paragraph
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
    worker_pids,
)

RESULTS = Path(__file__).parent / "results"
INCLUDES = "authors,category,tags"
TEASER = "id,slug,title,excerpt,published_at,snippet"
EDITOR = "soak-editor@example.com"
SAMPLE_SECONDS = 15
SHOWN_ERRORS = 5


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Errors:
    """Unexpected answers of every thread: a count, and the first few in full."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[dict[str, Any]] = []

    def add(self, kind: str, request: str, status: int, body: str) -> None:
        with self.lock:
            if len(self.samples) < SHOWN_ERRORS:
                self.samples.append(
                    {"kind": kind, "request": request, "status": status, "body": body[:800]}
                )


class Client:
    """One thread's connection, tallies, and what it has seen (validators, a token)."""

    def __init__(self, port: int, password: str, seed: int, articles: int, errors: Errors):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.password = password
        self.rng = random.Random(seed)
        self.articles = articles
        self.errors = errors
        self.latencies: defaultdict[str, list[float]] = defaultdict(list)
        self.failures: Counter[str] = Counter()
        self.slug_etags: dict[str, str] = {}
        self.list_etag = ""
        self.token = ""
        self.token_renew_at = 0.0
        self.serial = 0
        self.name = f"t{seed}"

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        expected: tuple[int, ...],
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply | None:
        """The reply, or None when it was not one of the expected statuses (counted)."""
        sent = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, payload, sent)
            response = self.connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()  # reconnects on the next request
            reply = Reply(0, Message(), repr(error).encode())
        self.latencies[kind].append(time.perf_counter() - started)
        if reply.status not in expected:
            self.fail(kind, f"{method} {path}", reply.status, reply.body.decode(errors="replace"))
            return None
        return reply

    def fail(self, kind: str, request: str, status: int, detail: str) -> None:
        self.failures[kind] += 1
        self.errors.add(kind, request, status, detail)

    # Anonymous reads

    def published_slug(self) -> str:
        n = self.rng.randrange(self.articles)
        return f"article-{n if n % 20 else n + 1}"  # bench.seed: every 20th is a draft

    def home_list(self) -> None:
        page = self.rng.randint(1, 5)
        self.call("home list", "GET", f"/api/v1/articles?include={INCLUDES}&page={page}", (200,))

    def by_slug(self) -> None:
        slug = self.published_slug()
        reply = self.call("article by slug", "GET", f"/api/v1/articles/slug/{slug}", (200,))
        if reply is not None:
            self.slug_etags[slug] = reply.headers["ETag"]

    def category_page(self) -> None:
        category, page = self.rng.randrange(20), self.rng.randint(1, 3)
        path = f"/api/v1/articles?category=category-{category}&page={page}"
        self.call("category page", "GET", path, (200,))

    def search(self) -> None:
        term = RARE_WORD if self.rng.random() < 0.5 else self.rng.choice(WORDS)
        self.call("search", "GET", f"/api/v1/articles?q={term}&fields={TEASER}", (200,))

    def revalidate_article(self) -> None:
        """Seeded articles never change: the validator of a 200 must earn a 304."""
        if not self.slug_etags:
            self.by_slug()
            return
        slug = self.rng.choice(list(self.slug_etags))
        headers = {"If-None-Match": self.slug_etags[slug]}
        self.call(
            "304 article by slug", "GET", f"/api/v1/articles/slug/{slug}", (304,), None, headers
        )

    def revalidate_list(self) -> None:
        """A 304 unless some write came in between; then a 200 with a new validator."""
        path = f"/api/v1/articles?include={INCLUDES}"
        headers = {"If-None-Match": self.list_etag} if self.list_etag else {}
        reply = self.call("revalidate home list", "GET", path, (200, 304), None, headers)
        if reply is None or reply.status == 304:
            return
        if reply.headers["ETag"] == self.list_etag:
            self.fail("revalidate home list", f"GET {path}", 200, "200 for a current ETag")
        self.list_etag = reply.headers["ETag"]

    # The editor's writes: each cycle leaves nothing behind

    def editor(self) -> dict[str, str]:
        """The Authorization header, logging in again before the access token expires."""
        if time.monotonic() >= self.token_renew_at:
            credentials = {"email": EDITOR, "password": self.password}
            reply = self.call("login", "POST", "/api/v1/auth/login", (200,), credentials)
            if reply is not None:
                tokens = reply.json()
                self.token = tokens["access_token"]
                self.token_renew_at = time.monotonic() + tokens["expires_in"] * 0.8
        return {"Authorization": f"Bearer {self.token}"}

    def article_cycle(self) -> None:
        auth, rng = self.editor(), self.rng
        self.serial += 1
        created = self.call(
            "article create",
            "POST",
            "/api/v1/articles",
            (201,),
            {
                "title": f"Soak {self.name} {self.serial}",
                "excerpt": paragraph(rng, 20),
                "body_html": "".join(f"<p>{paragraph(rng)}</p>" for _ in range(4)),
                "status": "published",
                "category_id": rng.randint(1, 20),
                "tag_ids": rng.sample(range(1, 501), 3),
            },
            auth,
        )
        if created is None:
            return
        path, first = f"/api/v1/articles/{created.json()['id']}", created.headers["ETag"]
        change = {
            "title": f"Soak {self.name} {self.serial} revised",
            "tag_ids": [rng.randint(1, 500)],
        }
        patched = self.call(
            "article patch", "PATCH", path, (200,), change, {**auth, "If-Match": first}
        )
        if patched is None:
            return
        self.call("article patch, no If-Match", "PATCH", path, (428,), change, auth)
        self.call(
            "article patch, stale", "PATCH", path, (412,), change, {**auth, "If-Match": first}
        )
        current = {**auth, "If-Match": patched.headers["ETag"]}
        self.call("article delete", "DELETE", path, (204,), None, current)

    def tag_cycle(self) -> None:
        auth = self.editor()
        self.serial += 1
        name = {"name": f"Soak tag {self.name} {self.serial}"}
        created = self.call("tag create", "POST", "/api/v1/tags", (201,), name, auth)
        if created is None:
            return
        path = f"/api/v1/tags/{created.json()['id']}"
        change = {"description": paragraph(self.rng, 12)}
        patched = self.call(
            "tag patch",
            "PATCH",
            path,
            (200,),
            change,
            {**auth, "If-Match": created.headers["ETag"]},
        )
        if patched is not None:
            current = {**auth, "If-Match": patched.headers["ETag"]}
            self.call("tag delete", "DELETE", path, (204,), None, current)

    def run(self, stop: threading.Event) -> None:
        actions = [
            (self.home_list, 20),
            (self.by_slug, 20),
            (self.category_page, 12),
            (self.search, 8),
            (self.revalidate_article, 15),
            (self.revalidate_list, 8),
            (self.article_cycle, 3),
            (self.tag_cycle, 1),
        ]
        functions, weights = zip(*actions, strict=True)
        while not stop.is_set():
            action = self.rng.choices(functions, weights)[0]
            try:
                action()
            except Exception:  # a reply of an unexpected shape: count it, go on
                self.fail(action.__name__, "(harness)", 0, traceback.format_exc())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--warmup", type=float, help="seconds before the first RSS reading")
    parser.add_argument("--max-growth", type=float, default=10.0, help="percent of RSS")
    parser.add_argument(
        "--cache-entries",
        type=int,
        default=256,
        help="ARTICLE_CACHE_ENTRIES of the workers: small, so the bounded cache is full "
        "within the warm-up and growth after it means a leak (the default 4,096 fills "
        "for the whole of a 5-minute run)",
    )
    args = parser.parse_args()
    duration = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(max(duration * 0.1, 30), duration / 2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still run the finally below

    instance = RESULTS / "soak-instance"
    shutil.rmtree(instance, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "CMS_INSTANCE_DIR": str(instance),
        # A server outside development needs a key; nothing it signs outlives the run.
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ARTICLE_CACHE_ENTRIES": str(args.cache_entries),
    }
    env.pop("DATABASE_URL", None)  # always the fresh SQLite file in the instance dir
    prepare(env, args.articles)
    create_editor = ["create-user", "--email", EDITOR, "--password", password, "--role", "editor"]
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "cms", *create_editor],
        env=env,
        cwd=ROOT,
        check=True,
    )
    port = free_port()
    server = subprocess.Popen(
        gunicorn_command(port, args.workers),
        env=env,
        cwd=ROOT,
        start_new_session=True,  # its own process group, killed as one
        preexec_fn=die_with_parent,  # before any thread exists: fork-safe
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/bench/hello")
        workers = wait_for_workers(server.pid, args.workers)
        print(f"soak: {args.minutes:g} min, {args.clients} clients, warm-up {warmup:.0f} s")
        summary = soak(server.pid, workers, port, password, args, duration, warmup)
    finally:
        stop_server(server)
    summary["passed"] = report(summary, args.max_growth)
    (RESULTS / "soak.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwritten to {RESULTS / 'soak.json'}")
    sys.exit(0 if summary["passed"] else 1)


def soak(
    master: int,
    workers: list[int],
    port: int,
    password: str,
    args: argparse.Namespace,
    duration: float,
    warmup: float,
) -> dict[str, Any]:
    errors = Errors()
    clients = [Client(port, password, n, args.articles, errors) for n in range(args.clients)]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    samples: list[dict[str, Any]] = []
    baseline: dict[int, int] = {}
    next_sample = started + warmup
    while (now := time.monotonic()) < started + duration:
        if now >= next_sample:
            rss = rss_of(workers)
            samples.append({"t": round(now - started), "rss_kib": rss})
            baseline = baseline or rss
            done = sum(len(x) for c in clients for x in c.latencies.values())
            failed = sum(sum(c.failures.values()) for c in clients)
            mib = " ".join(f"{kib / 1024:.1f}" for kib in rss.values())
            print(f"  {now - started:5.0f} s  {done:8d} requests  {failed} errors  RSS MiB {mib}")
            next_sample += SAMPLE_SECONDS
        time.sleep(min(1.0, max(0.0, started + duration - now)))
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    end = rss_of(workers)
    samples.append({"t": round(elapsed), "rss_kib": end})
    halfway: dict[int, int] = samples[len(samples) // 2]["rss_kib"]
    kinds: dict[str, dict[str, Any]] = {}
    everything: list[float] = []
    for kind in sorted({k for c in clients for k in (*c.latencies, *c.failures)}):
        times = sorted(t for c in clients for t in c.latencies.get(kind, []))
        everything += times
        kinds[kind] = {
            "requests": len(times),
            "errors": sum(c.failures[kind] for c in clients),
            **latency(times),
        }
    everything.sort()
    now_workers = sorted(worker_pids(master))
    return {
        "minutes": args.minutes,
        "workers": args.workers,
        "articles": args.articles,
        "clients": args.clients,
        "warmup_s": round(warmup),
        "elapsed_s": round(elapsed, 1),
        "requests": len(everything),
        "errors": sum(k["errors"] for k in kinds.values()),
        "rps": round(len(everything) / elapsed, 1),
        **latency(everything),
        "kinds": kinds,
        "error_samples": errors.samples,
        "workers_replaced": now_workers != workers,
        "rss_kib": {
            str(pid): {
                "after_warmup": baseline.get(pid, 0),
                "end": end.get(pid, 0),
                "growth_pct": growth(baseline.get(pid, 0), end.get(pid, 0)),
                "second_half_growth_pct": growth(halfway.get(pid, 0), end.get(pid, 0)),
            }
            for pid in workers
        },
        "rss_samples": samples,
    }


def latency(times: list[float]) -> dict[str, float]:
    """p50 and p99 in ms of sorted durations in seconds."""
    if not times:
        return {"p50_ms": 0.0, "p99_ms": 0.0}

    def at(q: float) -> float:
        return round(times[min(len(times) - 1, int(q * len(times)))] * 1000, 2)

    return {"p50_ms": at(0.5), "p99_ms": at(0.99)}


def growth(before: int, after: int) -> float:
    return round((after - before) / before * 100, 2) if before else float("inf")


def report(summary: dict[str, Any], max_growth: float) -> bool:
    print(f"\n{'requests by kind':30} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, row in summary["kinds"].items():
        print(
            f"{kind:30} {row['requests']:9d} {row['errors']:7d} "
            f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f}"
        )
    print(
        f"{'total':30} {summary['requests']:9d} {summary['errors']:7d} "
        f"{summary['p50_ms']:8.1f} {summary['p99_ms']:8.1f}"
    )
    print(f"\n{summary['rps']:.0f} requests/s over {summary['elapsed_s']:.0f} s")
    for sample in summary["error_samples"]:
        print(f"\nERROR {sample['kind']}: {sample['request']} -> {sample['status']}")
        print(f"  {sample['body']}")
    print(
        f"\n{'worker RSS (MiB)':20} {'after warm-up':>14} {'at end':>8} {'growth':>8}"
        f" {'2nd half':>9}"
    )
    grown = False
    for pid, rss in summary["rss_kib"].items():
        grown = grown or rss["growth_pct"] > max_growth
        print(
            f"{'pid ' + pid:20} {rss['after_warmup'] / 1024:14.1f} "
            f"{rss['end'] / 1024:8.1f} {rss['growth_pct']:+7.1f}% "
            f"{rss['second_half_growth_pct']:+8.1f}%"
        )
    if summary["workers_replaced"]:
        print("\nworkers were replaced during the run (a crash or a timeout)")
    passed = not summary["errors"] and not grown and not summary["workers_replaced"]
    print(f"\n{'PASS' if passed else 'FAIL'} (errors: 0, RSS growth <= {max_growth:g}%)")
    return passed


if __name__ == "__main__":
    main()
