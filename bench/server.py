"""Serving the app for a benchmark: its database seeded, gunicorn's command line, readiness."""

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parent.parent


def prepare(env: dict[str, str], articles: int) -> None:
    code = (
        "from flask_migrate import upgrade\n"
        "from bench.app import app\n"
        "from bench.seed import seed\n"
        "with app.app_context():\n"
        f"    upgrade(); seed({articles})\n"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    print(f"database ready ({time.perf_counter() - started:.0f} s)")


def gunicorn_command(port: int, workers: int = 2, app: str = "bench.app:app") -> list[str]:
    """An app (by default bench.app: the CMS and its in-app baselines) on loopback, sync
    workers (gthread splits connections unevenly between processes), no control socket
    (gunicorn 27 opens one under the home directory by default)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        "sync",
        "--no-control-socket",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - our loopback server
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"server did not answer at {url}")
