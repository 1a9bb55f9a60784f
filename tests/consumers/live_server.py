"""The app served on loopback for its real consumers (generated clients, schemathesis, a
browser): a throw-away instance, migrated, with an admin, on a free 127.0.0.1 port."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Only this run's instance: no database, Redis, storage or key from the caller's shell.
INHERITED_NOT = ("DATABASE_URL", "REDIS_URL", "STORAGE_URL", "SECRET_KEY", "JWT_SECRET_KEY")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "consumer-admin-password"  # a throw-away instance's


@dataclass(frozen=True)
class LiveServer:
    origin: str
    instance: Path
    settings: dict[str, str] | None = None

    def flask(self, *args: str) -> None:
        """A `flask` command against the served instance."""
        _run_flask(self.instance, *args, settings=self.settings)


def _environment(instance: Path, settings: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT}
    # Renditions before the upload answers: consumers see a ready image at once.
    return env | {
        "CMS_ENV": "development",
        "CMS_INSTANCE_DIR": str(instance),
        "IMAGE_RENDERING": "request",
        **(settings or {}),
    }


def _run_flask(instance: Path, *args: str, settings: dict[str, str] | None = None) -> None:
    log_path = instance / "server.log"
    with log_path.open("a") as log:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command,
            env=_environment(instance, settings),
            cwd=ROOT,
            stdout=log,
            stderr=log,
            check=False,
        )
    if done.returncode:
        sys.exit(f"{log_path.read_text()}\nflask {' '.join(args)} failed")


@contextmanager
def serve_app(
    instance: Path,
    *,
    gunicorn: bool = False,
    worker: bool = False,
    settings: dict[str, str] | None = None,
    set_up: bool = True,
) -> Iterator[LiveServer]:
    """The app on a free 127.0.0.1 port over a freshly migrated database with an admin
    (ADMIN_EMAIL). `flask run` by default; gunicorn (sync workers) for load; with
    `worker`, one `flask cms worker` beside it (as `make run` starts). `settings` are
    environment variables of the server and worker (cms.config). `set_up=False` serves
    an instance already set up (another machine of the same deployment)."""
    instance.mkdir(parents=True, exist_ok=True)
    if set_up:
        _run_flask(instance, "db", "upgrade", settings=settings)
        _run_flask(instance, "cms", "create-user", "--email", ADMIN_EMAIL, "--role", "admin",
                   "--password", ADMIN_PASSWORD, settings=settings)  # fmt: skip
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    if gunicorn:
        command = [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "2",
                   "-b", f"127.0.0.1:{port}", "wsgi:app"]  # fmt: skip
    else:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "run",
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    log_path = instance / "server.log"
    env = _environment(instance, settings)
    with log_path.open("a") as log:
        processes = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, env=env, cwd=ROOT, stdout=log, stderr=log
            )
        ]
        if worker:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "cms", "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                )
            )
        try:
            _wait_until_up(origin, processes[0], log_path)
            yield LiveServer(origin, instance, settings)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)


def _wait_until_up(origin: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            get_json(f"{origin}/api/v1/openapi.json")
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{log_path.read_text()}\nthe app did not answer on {origin}")
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own http URL)
        return json.load(response)
