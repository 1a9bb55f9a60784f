"""Worker processes (`flask cms worker`), for real: killed mid-render, sharing a Redis
queue, dispatching an event whose writer died, and a fresh instance whose web process
and one worker (what `make run` starts) ingest, render and publish with no command.

The queue is a SQLite file (or Redis, with REDIS_URL) shared with the test's app."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as Pillow
from sqlalchemy import func, select

from cms.extensions import db
from cms.jobs import enqueue, flush_queue, huey, queue_storage
from cms.models import ContentEvent, Image, Job, JobState, Tag, utcnow
from cms.services.polling import fetch_feed
from tests.consumers.live_server import ADMIN_EMAIL, ADMIN_PASSWORD, INHERITED_NOT, serve_app
from tests.feed_server import FeedServer
from tests.test_feeds import item, rss
from tests.test_media import upload

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 60  # seconds a worker gets for what a test waits on


def eventually(check: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll `check` (a worker in another process is doing the work) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


class Workers:
    """`flask cms worker` processes over the test's database, storage and queue."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, list[subprocess.Popen[bytes]]()

    def start(self, **settings: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.running)}.log").open("wb") as log:
            process = self._spawn(settings, log)
        self.running.append(process)
        return process

    def _spawn(self, settings: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "cms", "worker", "--threads", "2"],
            env={**self.env, **settings},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return (self.logs / f"worker-{self.running.index(process)}.log").read_text()

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(
    app: Flask, database: str, media_root: Path, services: dict[str, str], tmp_path: Path
) -> Iterator[Workers]:
    queue_url = services.get("REDIS_URL") or f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    saved = huey.storage, app.config["QUEUE_URL"]
    app.config["QUEUE_URL"] = queue_url
    huey.storage = queue_storage(app.config, app.instance_path)
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT} | {
        "DATABASE_URL": database,
        "QUEUE_URL": queue_url,
        "STORAGE_URL": f"file://{media_root}",
        "CMS_INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": app.config["SECRET_KEY"],
        **services,
    }
    pool = Workers(env, tmp_path)
    yield pool
    pool.stop()
    flush_queue()
    huey.storage, app.config["QUEUE_URL"] = saved


def fresh(model: Any, key: Any) -> Any:
    db.session.rollback()  # a new snapshot: the workers write from other processes
    return db.session.get(model, key)


def big_photo() -> bytes:
    """24 megapixels: its 15 renditions (AVIF among them) take the worker seconds."""
    gradient = Pillow.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    out = io.BytesIO()
    gradient.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_render_cut_off_by_a_killed_worker_finishes_on_the_next(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    workers: Workers,
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "IMAGE_RENDERING", "background")
    first = workers.start()
    image_id = upload(client, auth, big_photo()).json["id"]
    job = eventually(
        lambda: (
            db.session.rollback()
            or db.session.scalars(select(Job).where(Job.state == JobState.RUNNING)).first()
        ),
        "the render to start",
    )
    time.sleep(0.5)  # well into the render (it takes seconds), not before it
    first.send_signal(signal.SIGKILL)
    first.wait()
    image = fresh(Image, image_id)
    assert image.status.value == "processing", "the render finished before the kill"
    assert fresh(Job, job.id).state is JobState.RUNNING  # as the dead worker left it

    second = workers.start()
    eventually(lambda: fresh(Image, image_id).status.value == "ready", "the render to finish")
    image = fresh(Image, image_id)
    assert len(image.renditions) == 18  # 5 widths and a thumbnail, x 3 formats
    # The job's own row is finished after the render's commit, in a transaction of its own.
    done = eventually(
        lambda: (row := fresh(Job, job.id)).state is not JobState.RUNNING and row,
        "the job to be recorded",
    )
    assert (done.state, done.attempts) == (JobState.DONE, 2)
    assert done.worker is not None
    assert done.worker.endswith(f":{second.pid}")
    on_disk = {
        str(p.relative_to(media_root))
        for p in (media_root / "images" / image.storage_prefix).rglob("*")
        if p.is_file()
    }
    assert on_disk == {r.key for r in image.renditions}  # none orphaned, none twice


def test_two_workers_share_a_redis_queue_and_run_each_job_once(
    app: Flask, workers: Workers, services: dict[str, str]
) -> None:
    if not services:
        pytest.skip("needs REDIS_URL (CI's PostgreSQL + Redis pass runs it)")
    started = [workers.start(), workers.start()]
    for process in started:
        eventually(lambda p=process: "consumer started" in workers.log(p), "a worker to start")
    missing_feeds = range(2_000_000, 2_000_200)  # each run records its claim, then ends
    for feed_id in missing_feeds:
        enqueue(db.session, fetch_feed, feed_id)
    db.session.commit()

    def finished() -> bool:
        db.session.rollback()
        return db.session.scalar(
            select(func.count()).where(Job.name == "feeds.fetch", Job.state == JobState.DONE)
        ) == len(missing_feeds)

    eventually(finished, "200 jobs")
    jobs = db.session.scalars(select(Job).where(Job.name == "feeds.fetch")).all()
    assert {j.attempts for j in jobs} == {1}  # each ran exactly once
    assert {j.worker.rpartition(":")[2] for j in jobs if j.worker} == {
        str(p.pid) for p in started
    }  # and both workers took part


def test_an_event_whose_writer_died_after_the_commit_is_dispatched(
    app: Flask, workers: Workers, database: str
) -> None:
    name = f"Orphan {uuid.uuid4().hex[:8]}"
    # The writer commits a tag, then dies before any nudge reaches the queue (its queue
    # is its own memory): only the outbox row knows.
    writer = (
        "import os, sys\n"
        "from cms import create_app\n"
        "from cms.extensions import db\n"
        "from cms.models import Tag\n"
        "app = create_app({'QUEUE_URL': 'memory://'})\n"
        "with app.app_context():\n"
        f"    db.session.add(Tag(name={name!r}, slug={name.lower().replace(' ', '-')!r}))\n"
        "    db.session.commit()\n"
        "    os._exit(0)\n"
    )
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", writer], env=workers.env, cwd=ROOT, check=True
    )
    tag_id = db.session.scalar(select(Tag.id).where(Tag.name == name))
    event = db.session.scalars(
        select(ContentEvent).where(
            ContentEvent.resource_id == tag_id, ContentEvent.resource == "tag"
        )
    ).one()
    assert event.dispatched_at is None

    worker = workers.start()
    eventually(lambda: fresh(ContentEvent, event.id).dispatched_at, "the event to be dispatched")
    logged = [
        json.loads(line) for line in workers.log(worker).splitlines() if '"content_event"' in line
    ]
    assert {"event_id": event.id, "type": "tag.created"}.items() <= next(
        e for e in logged if e["event_id"] == event.id
    ).items()


def multipart(fields: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b""
    for name, (filename, data, content_type) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (
            (
                f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def call(origin: str, method: str, path: str, body: Any = None, token: str = "", **kw: Any) -> Any:
    data, content_type = kw.get("raw") or (
        (json.dumps(body).encode(), "application/json") if body is not None else (None, "")
    )
    request = urllib.request.Request(f"{origin}{path}", data=data, method=method)  # noqa: S310
    if content_type:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_a_fresh_instance_runs_its_jobs_with_no_command(tmp_path: Path) -> None:
    """What `make run` starts (the web server and one worker), over HTTP only."""
    feeds = FeedServer()
    feeds.serve("/news.xml", rss(item(1), item(2)))
    settings = {"IMAGE_RENDERING": "background", "FETCH_ALLOW": f"127.0.0.1:{feeds.port}"}
    try:
        with serve_app(tmp_path / "instance", settings=settings, worker=True) as live:
            origin = live.origin
            status, tokens = call(
                origin,
                "POST",
                "/api/v1/auth/login",
                {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            )
            assert status == 200, tokens
            token = tokens["access_token"]

            photo = io.BytesIO()
            Pillow.new("RGB", (1200, 800), "teal").save(photo, "JPEG")
            raw = multipart({"file": ("p.jpg", photo.getvalue(), "image/jpeg")})
            status, image = call(origin, "POST", "/api/v1/images/upload", token=token, raw=raw)
            assert (status, image["status"]) == (201, "processing"), image

            status, feed = call(
                origin, "POST", "/api/v1/feeds",
                {"url": feeds.url("/news.xml"), "interval_minutes": 1, "item_status": "published"},
                token,
            )  # fmt: skip
            assert status == 201, feed

            when = (utcnow() + timedelta(seconds=3)).isoformat()
            status, article = call(
                origin, "POST", "/api/v1/articles",
                {"title": "At three", "status": "scheduled", "published_at": when}, token,
            )  # fmt: skip
            assert status == 201, article

            eventually(
                lambda: (
                    call(origin, "GET", f"/api/v1/images/{image['id']}", token=token)[1]["status"]
                    == "ready"
                ),
                "the upload to be rendered",
            )
            eventually(
                lambda: (
                    {"Story 1", "Story 2"}
                    <= {a["title"] for a in call(origin, "GET", "/api/v1/articles")[1]["data"]}
                ),
                "the feed's items",
            )
            eventually(
                lambda: call(origin, "GET", f"/api/v1/articles/{article['id']}")[0] == 200,
                "the scheduled article to go live",
            )
    finally:
        feeds.close()
