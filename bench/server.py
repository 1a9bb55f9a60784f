"""Serving the app for a benchmark: its database seeded, gunicorn's command line,
readiness, its workers and their memory, and stopping it."""

import ctypes
import os
import signal
import socket
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when this harness dies, even by SIGKILL (a
    master gone, gunicorn's workers notice their new parent and stop)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def worker_pids(master: int) -> list[int]:
    """The master's children: /proc/<pid>/stat has the parent's pid after the name."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            children.append(int(entry.name))
    return sorted(children)


def wait_for_workers(master: int, count: int) -> list[int]:
    for _ in range(300):
        if len(pids := worker_pids(master)) == count:
            return pids
        time.sleep(0.1)
    sys.exit(f"gunicorn did not start {count} workers")


def rss_of(pids: list[int]) -> dict[int, int]:
    """VmRSS in KiB of each process (0 when it is gone)."""
    rss = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            rss[pid] = 0
            continue
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        rss[pid] = int(line.split()[1])
    return rss


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, SIGKILL if it is not gone within 30 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass
