"""The write path, measured from outside: an editor's PATCH with If-Match, and a publish.

    python -m bench.writes [--articles 10000] [--seconds 8] [--clients 1] [--database URL]

Serves the CMS as bench.run does (gunicorn, 2 sync workers, the seeded database) and
drives it with plain HTTP clients, each in a thread of this process, keep-alive:
- "edit": GET an article (its ETag), then PATCH its title with If-Match, as an editor's
  form does; one operation is the pair;
- "publish": POST a draft, then POST /publish with its ETag as If-Match.
Reports operations/s and p50/p95 latency per operation. Every write is real: it records
its revision, its content event and its audit entry, and it bumps the content generation.
"""

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time

from bench.run import RESULTS, sqlalchemy_url
from bench.server import ROOT, gunicorn_command, prepare, wait_for

# Code that prints a new editor token (the bench's own; nothing here is a secret).
_MAKE_TOKEN = (
    "from bench.app import app\n"  # noqa: S105
    "from cms.auth.tokens import create_api_token\n"
    "from cms.extensions import db\n"
    "from cms.models import Role\n"
    "with app.app_context():\n"
    "    _, secret = create_api_token(db.session, name='bench', role=Role.EDITOR,"
    " expires_at=None, created_by=None)\n"
    "    db.session.commit(); print(secret)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--database", help="DATABASE_URL (default: a SQLite file here)")
    parser.add_argument("--port", type=int, default=5097)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "CMS_INSTANCE_DIR": str(RESULTS / f"instance-{args.articles}"),
        "SECRET_KEY": secrets.token_urlsafe(48),
    }
    if args.database:
        env["DATABASE_URL"] = sqlalchemy_url(args.database)
    prepare(env, args.articles)
    made = subprocess.run(
        [sys.executable, "-c", _MAKE_TOKEN], env=env, cwd=ROOT, check=True, capture_output=True
    )
    token = made.stdout.decode().split()[-1]
    server = subprocess.Popen(gunicorn_command(args.port), env=env, cwd=ROOT)
    try:
        wait_for(f"http://127.0.0.1:{args.port}/bench/hello")
        for name, operation in (("edit", edit), ("publish", publish)):
            times = drive(operation, args.port, token, args.seconds, args.clients)
            report(name, times, args)
    finally:
        server.terminate()
        server.wait(timeout=30)


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], object]:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers={**self.auth, **(headers or {})})
        response = self.connection.getresponse()
        raw = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else None


def edit(client: Client, n: int) -> None:
    path = f"/api/v1/articles/{1 + n % 1000}"
    _, headers, _ = client.call("GET", path)
    client.call("PATCH", path, {"title": f"Edited {n}"}, {"If-Match": headers["ETag"]})


def publish(client: Client, n: int) -> None:
    _, headers, created = client.call("POST", "/api/v1/articles", {"title": f"Draft {n}"})
    path = f"/api/v1/articles/{created['id']}/publish"  # type: ignore[index]
    client.call("POST", path, {}, {"If-Match": headers["ETag"]})


def drive(operation: object, port: int, token: str, seconds: float, clients: int) -> list[float]:
    """Run `operation` back to back in each client thread for `seconds`; its durations."""
    times: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def loop(offset: int) -> None:
        client, n, mine = Client(port, token), offset, []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            operation(client, n)  # type: ignore[operator]
            mine.append(time.perf_counter() - started)
            n += clients
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def report(name: str, times: list[float], args: argparse.Namespace) -> None:
    cut = statistics.quantiles(times, n=20)
    p50 = statistics.median(times) * 1000
    line = (
        f"{name:8} {len(times) / args.seconds:7.1f} ops/s  p50 {p50:6.1f} ms"
        f"  p95 {cut[18] * 1000:6.1f} ms  ({args.clients} client(s), {len(times)} ops)"
    )
    print(line)
    out = RESULTS / "writes.txt"
    with out.open("a") as file:
        file.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {args.database or 'sqlite'} {line}\n")


if __name__ == "__main__":
    main()
