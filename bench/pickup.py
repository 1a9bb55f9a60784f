"""How long work after a write waits for an idle worker, measured from outside.

    python -m bench.pickup [--idle 45] [--rounds 5] [--setting JOB_POLL_SECONDS=10]

A fresh instance (SQLite, the SQLite queue: `make run`'s default) served by gunicorn,
with one `flask cms worker` beside it. Each round leaves both idle for --idle seconds,
uploads a small photo (rendered in the background) and polls the image until it is
ready: the figure is the time from the upload's answer to `ready`, most of which is the
worker noticing the job (the render itself takes milliseconds). A Redis queue blocks on
its read instead, so only the SQLite queue is measured.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from bench.server import ROOT, die_with_parent, free_port, gunicorn_command, stop_server, wait_for

ADMIN = ("bench@example.com", "bench-admin-password")  # a throw-away instance's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=45, help="seconds idle before each upload")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--setting", action="append", default=[], help="NAME=VALUE for both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
            "CMS_INSTANCE_DIR": instance,
            "SECRET_KEY": uuid.uuid4().hex,
            "IMAGE_RENDERING": "background",
            **dict(setting.split("=", 1) for setting in args.setting),
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True)
        subprocess.run(
            [*flask, "cms", "create-user", "--email", ADMIN[0], "--password", ADMIN[1],
             "--role", "admin"],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        port = free_port()
        commands = [gunicorn_command(port, workers=1, app="wsgi:app"), [*flask, "cms", "worker"]]
        with Path(instance, "processes.log").open("wb") as log:
            processes = [start(command, env, log) for command in commands]
            origin = f"http://127.0.0.1:{port}"
            try:
                wait_for(f"{origin}/healthz")
                waits = measure(origin, args.idle, args.rounds)
            finally:
                for process in processes:
                    stop_server(process)
    print(
        f"after {args.idle:.0f} s idle, ready in: "
        + ", ".join(f"{w:.2f}" for w in waits)
        + f" s (median {statistics.median(waits):.2f}, max {max(waits):.2f})"
    )


def start(command: list[str], env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        preexec_fn=die_with_parent,  # killed with this harness
        start_new_session=True,  # stop_server signals the whole group
    )


def measure(origin: str, idle: float, rounds: int) -> list[float]:
    token = call(origin, "POST", "/api/v1/auth/login", {"email": ADMIN[0], "password": ADMIN[1]})
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    waits = []
    for _ in range(rounds):
        time.sleep(idle)
        image = upload(origin, headers)
        started = time.monotonic()
        while (
            call(origin, "GET", f"/api/v1/images/{image['id']}", headers=headers)["status"]
            != "ready"
        ):
            time.sleep(0.01)
        waits.append(time.monotonic() - started)
        print(f"round {len(waits)}: {waits[-1]:.2f} s", flush=True)
    return waits


def upload(origin: str, headers: dict[str, str]) -> Any:
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(photo, "JPEG")
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    image = call(origin, "POST", "/api/v1/images/upload", body, headers, content_type)
    assert image["status"] == "processing", image
    return image


def call(
    origin: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our loopback server
        origin + path, data, {**(headers or {}), "Content-Type": content_type}, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.load(response)


if __name__ == "__main__":
    main()
