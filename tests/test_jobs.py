"""The job queue in one process: jobs recorded with the write that asks for them, runs
claimed once, retries with backoff, recovery of lost runs, the operators' endpoint, and
the periodic tasks (feed polling, scheduled publishing, outbox dispatch).

The queue is Huey's memory storage here; `run_queued` runs it as a worker would (same
Huey execute, retries and schedule). Worker processes are tests/test_workers.py."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from huey.storage import RedisStorage
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cms import job_runs, jobs
from cms.extensions import db
from cms.job_runs import WORKER, claim, failed, finished, task_lock
from cms.jobs import (
    enqueue,
    flush_queue,
    huey,
    job,
    nudge,
    push,
    queue_storage,
    recover_jobs,
    retry,
)
from cms.models import Article, ArticleStatus, ContentEvent, Feed, Job, JobState, utcnow
from cms.services import dispatch
from cms.services.polling import fetch_feed, poll_feeds
from cms.services.publishing import publish_due
from cms.worker import consumer
from tests.conftest import run_jobs
from tests.feed_server import FeedServer
from tests.test_feeds import item, rss

RUNS: list[int] = []
FAILING: set[int] = set()


@job("tests.flaky", attempts=3, retry_delay=5)
def flaky(n: int) -> dict[str, Any]:
    """A job of these tests: records each run, fails while its number is in FAILING."""
    RUNS.append(n)
    if n in FAILING:
        raise RuntimeError(f"job {n} failed")
    return {"n": n}


@pytest.fixture(autouse=True)
def _fresh() -> None:
    RUNS.clear()
    FAILING.clear()


def queued(n: int) -> Job:
    row = enqueue(db.session, flaky, n)
    db.session.commit()
    return row


def state_of(job_id: str) -> Job:
    db.session.expire_all()
    row = db.session.get(Job, job_id)
    assert row is not None
    return row


def test_a_job_is_pushed_only_when_its_write_commits(app: Flask) -> None:
    enqueue(db.session, flaky, 1)
    db.session.rollback()
    assert db.session.scalars(select(Job)).all() == []
    assert huey.pending_count() == 0

    row = queued(2)
    assert huey.pending_count() == 1
    assert run_jobs() == 1
    done = state_of(row.id)
    assert (done.state, done.attempts, done.result, RUNS) == (JobState.DONE, 1, {"n": 2}, [2])


def test_a_job_pushed_twice_runs_once(app: Flask) -> None:
    row = queued(3)
    push(row.id, row.name, row.args)  # a duplicate delivery (a recovery racing the run)
    assert run_jobs() == 2
    assert RUNS == [3]
    assert state_of(row.id).attempts == 1


def test_failures_are_retried_with_backoff_then_failed(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    run_jobs(until=utcnow() + timedelta(seconds=2))  # what the admin's login queued
    FAILING.add(4)
    row = queued(4)
    with time_machine.travel(utcnow(), tick=False) as clock:
        run_jobs()
        first = state_of(row.id)
        assert (first.state, first.attempts) == (JobState.QUEUED, 1)
        assert first.error == "RuntimeError: job 4 failed"
        assert first.run_after == utcnow() + timedelta(seconds=5)
        assert run_jobs(until=utcnow() + timedelta(seconds=4)) == 0  # not yet

        clock.shift(5)
        run_jobs()
        second = state_of(row.id)
        assert (second.attempts, second.run_after) == (2, utcnow() + timedelta(seconds=10))
        clock.shift(10)
        run_jobs()
    failed = state_of(row.id)
    assert (failed.state, failed.attempts, RUNS) == (JobState.FAILED, 3, [4, 4, 4])

    listed = client.get("/api/v1/jobs", query_string={"state": "failed"}, headers=admin).json
    assert [j["id"] for j in listed["data"]] == [row.id]
    assert listed["data"][0]["error"] == "RuntimeError: job 4 failed"

    FAILING.clear()  # the cause is fixed: an operator retries it
    retried = client.post(f"/api/v1/jobs/{row.id}/retry", headers=admin)
    assert retried.status_code == 202, retried.json
    assert (retried.json["state"], retried.json["attempts"]) == ("queued", 0)
    assert retried.headers["Location"].endswith(f"/api/v1/jobs/{row.id}")
    run_jobs()
    assert client.get(f"/api/v1/jobs/{row.id}", headers=admin).json["state"] == "done"

    again = client.post(f"/api/v1/jobs/{row.id}/retry", headers=admin)
    assert (again.status_code, again.json["code"]) == (409, "job_not_failed")
    assert client.get("/api/v1/jobs/nope", headers=admin).status_code == 404


def test_jobs_are_for_admins(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.get("/api/v1/jobs", headers=auth).status_code == 403
    assert client.get("/api/v1/jobs").status_code == 401


def test_a_run_whose_worker_died_is_run_again(app: Flask) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = WORKER.rpartition(":")[0]
    lost, alive = queued(5), queued(6)
    huey.flush()  # their deliveries went with the worker
    for row, worker in ((lost, f"{host}:{dead.stdout.strip()}"), (alive, WORKER)):
        db.session.get(Job, row.id).state = JobState.RUNNING  # type: ignore[union-attr]
        db.session.get(Job, row.id).worker = worker  # type: ignore[union-attr]
        db.session.get(Job, row.id).started_at = utcnow()  # type: ignore[union-attr]
    db.session.commit()

    assert recover_jobs() == 1  # a live worker's run is left alone
    assert run_jobs() == 1
    assert (RUNS, state_of(lost.id).state) == ([5], JobState.DONE)
    assert state_of(alive.id).state is JobState.RUNNING

    lease = app.config["JOB_LEASE_SECONDS"]
    with time_machine.travel(utcnow() + timedelta(seconds=lease + 1)):
        assert recover_jobs() == 1  # its lease ran out: silent too long
        run_jobs()
    assert (RUNS, state_of(alive.id).state) == ([5, 6], JobState.DONE)


def dead_worker() -> str:
    """The "host:pid" of a process on this host that has exited."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"{WORKER.rpartition(':')[0]}:{dead.stdout.strip()}"


def started_then_lost(job_id: str) -> None:
    """A worker claims the job's run, then dies with it (killed by a deploy, by the
    kernel for its memory, or by the job itself)."""
    huey.flush()  # its delivery went with the worker
    assert claim(job_id) is not None
    stored = db.session.get(Job, job_id)
    assert stored is not None
    db.session.refresh(stored)
    stored.worker = dead_worker()
    db.session.commit()


def test_a_run_cut_off_on_its_only_attempt_runs_again(app: Flask) -> None:
    """A lost run did not fail: a feed fetch (one attempt) that a deploy cut off is run
    again by the next worker."""
    row = enqueue(db.session, once, 13)
    db.session.commit()
    started_then_lost(row.id)
    assert recover_jobs() == 1
    run_jobs()
    done = state_of(row.id)
    assert (done.state, done.attempts, done.lost_runs, RUNS) == (JobState.DONE, 2, 1, [13])


def test_a_job_that_keeps_killing_its_worker_fails(app: Flask) -> None:
    """Recovery pushed a lost run again however often it had been lost: a job that kills
    its worker took down every worker after it, for ever."""
    limit = app.config["JOB_LOST_RUNS"]
    row = queued(8)
    for crash in range(1, limit + 1):
        started_then_lost(row.id)
        assert recover_jobs() == (1 if crash < limit else 0)
    given_up = state_of(row.id)
    assert (given_up.state, given_up.attempts, given_up.lost_runs) == (
        JobState.FAILED,
        limit,
        limit,
    )
    assert given_up.error == (
        f"Lost with its worker {limit} times (the process died, was killed or went silent): "
        "not run again"
    )
    assert recover_jobs() == 0  # and it stays failed
    assert run_jobs() == 0
    assert RUNS == []

    assert retry(row.id)  # an operator, the cause fixed: all its attempts and losses again
    assert (state_of(row.id).attempts, state_of(row.id).lost_runs) == (0, 0)
    started_then_lost(row.id)
    assert recover_jobs() == 1  # one loss is not the end of it


def test_a_recovered_run_keeps_the_attempts_it_had_left(app: Flask) -> None:
    """The recovered run is a new Huey task with all of Huey's retries: the row decides.
    A job of three attempts whose first failed and second was lost fails twice more."""
    FAILING.add(10)
    row = queued(10)
    run_jobs()  # the first attempt fails
    started_then_lost(row.id)  # the second is lost
    assert recover_jobs() == 1
    run_jobs(until=utcnow() + timedelta(hours=1))  # and every retry Huey would still make
    failed = state_of(row.id)
    assert (failed.state, failed.attempts, failed.lost_runs) == (JobState.FAILED, 4, 1)
    assert RUNS == [10, 10, 10]  # three failures: the lost run was not one
    assert failed.error == "RuntimeError: job 10 failed"


def test_a_duplicate_delivery_does_not_run_a_job_past_its_attempts(app: Flask) -> None:
    row = queued(11)
    stored = db.session.get(Job, row.id)
    assert stored is not None
    stored.attempts = stored.max_attempts  # spent, yet queued (a delivery raced its end)
    db.session.commit()
    run_jobs()
    assert RUNS == []
    assert state_of(row.id).attempts == stored.max_attempts


@job("tests.once", attempts=1)
def once(n: int) -> None:
    """A job of these tests with a single attempt (as a feed fetch has)."""
    RUNS.append(n)


def test_a_run_that_cannot_claim_its_row_tries_again_without_spending_an_attempt(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database busy (SQLite's lock held past its timeout) or away when a run claims
    its row: Huey counted that as a failed attempt, and dropped a one-attempt job. Its
    row stayed queued until the resend, ten minutes on, and its feed's polls waited."""
    row = enqueue(db.session, once, 12)
    db.session.commit()
    claims: list[str] = []

    def busy_once(job_id: str) -> int | None:
        claims.append(job_id)
        if len(claims) == 1:
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("UPDATE jobs", {}, locked)
        return claim(job_id)

    monkeypatch.setattr(jobs, "claim", busy_once)
    with time_machine.travel(utcnow(), tick=False) as clock:
        run_jobs()
        assert (RUNS, state_of(row.id).state, state_of(row.id).attempts) == (
            [],
            JobState.QUEUED,
            0,
        )
        clock.shift(jobs.CLAIM_RETRY_SECONDS * 1.5)  # its delay, spread by up to half
        run_jobs()
    assert (RUNS, state_of(row.id).state, claims) == ([12], JobState.DONE, [row.id, row.id])


def test_a_push_lost_after_the_commit_is_sent_again(app: Flask) -> None:
    row = queued(7)
    huey.flush()  # the process died between the commit and the push
    assert recover_jobs() == 0  # too early to call it lost
    resend = app.config["JOB_RESEND_AFTER_SECONDS"]
    with time_machine.travel(utcnow() + timedelta(seconds=resend + 1)):
        assert recover_jobs() == 1
        assert recover_jobs() == 0  # pushed again once, not on every sweep
    run_jobs()
    assert (RUNS, state_of(row.id).state) == ([7], JobState.DONE)


def test_polling_fetches_due_feeds_without_a_request(app: Flask, server: FeedServer) -> None:
    server.serve("/due", rss(item(1), item(2)))
    server.serve("/recent", rss(item(3)))
    server.serve("/queued", rss(item(4)))
    due = Feed(url=server.url("/due"))
    recent = Feed(url=server.url("/recent"), last_fetched_at=utcnow())
    paused = Feed(url=server.url("/recent") + "?paused", is_active=False)
    queued = Feed(url=server.url("/queued"))
    db.session.add_all([due, recent, paused, queued])
    db.session.flush()
    enqueue(db.session, fetch_feed, queued.id)  # a fetch asked for: the poll leaves it
    db.session.commit()

    poll_feeds()
    poll_feeds()  # a second poll (another worker's): nothing is due any more
    titles = db.session.scalars(select(Article.title).order_by(Article.title)).all()
    assert titles == ["Story 1", "Story 2"]
    assert [len(server.hits(p)) for p in ("/due", "/recent", "/queued")] == [1, 0, 0]

    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        run_jobs()
        poll_feeds()  # both are due an hour on
    assert [len(server.hits(p)) for p in ("/due", "/recent", "/queued")] == [2, 1, 1]


def schedule(client: FlaskClient, admin: dict[str, str], title: str, when: datetime) -> int:
    """A scheduled article, through the API; its id."""
    created = client.post(
        "/api/v1/articles",
        json={"title": title, "status": "scheduled", "published_at": when.isoformat()},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    return int(created.json["id"])


def test_a_scheduled_article_goes_live_at_its_time(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        article_id = schedule(client, admin, "Embargoed", utcnow() + timedelta(hours=1))
        url = f"/api/v1/articles/{article_id}"
        run_jobs()
        assert client.get(url).status_code == 404  # not before its time

        clock.shift(timedelta(hours=1))
        assert run_jobs() >= 1  # the run asked for at its time (no minute to wait)
        article = client.get(url)
    assert article.status_code == 200
    assert article.json["status"] == "published"
    flipped = db.session.scalars(
        select(ContentEvent).where(ContentEvent.type == "article.published")
    ).all()
    assert [e.changed for e in flipped] == [["status"]]
    assert flipped[0].actor is None  # the system, not a user


def test_events_reach_consumers_at_least_once(
    client: FlaskClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    broken = [True]

    def consumer(events: Any) -> None:
        seen.extend(f"{e.type}:{e.resource_id}" for e in events)
        if broken[0]:
            raise RuntimeError("consumer down")

    run_jobs(until=utcnow() + timedelta(seconds=2))  # the admin's login, dispatched
    flush_queue()  # and its nudge forgotten, so the tag's is not coalesced into it
    monkeypatch.setitem(dispatch.CONSUMERS, "test", consumer)
    tag = client.post("/api/v1/tags", json={"name": "Queued"}, headers=admin).json
    soon = utcnow() + timedelta(seconds=2)
    with pytest.raises(RuntimeError):
        dispatch.dispatch_events()
    assert seen == [f"tag.created:{tag['id']}"]
    pending = select(ContentEvent).where(ContentEvent.dispatched_at.is_(None))
    assert len(db.session.scalars(pending).all()) == 1  # not marked: handed over again

    broken[0] = False
    assert run_jobs(until=soon) == 1  # the nudge its commit asked for
    assert seen == [f"tag.created:{tag['id']}"] * 2
    db.session.expire_all()
    assert db.session.scalars(pending).all() == []


def test_probes(app: Flask, client: FlaskClient) -> None:
    health = client.get("/healthz")
    assert (health.status_code, health.json, health.headers["Cache-Control"]) == (
        200,
        {"status": "ok"},
        "no-store",
    )
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["database"] == ready.json["checks"]["queue"] == "ok"

    storage = huey.storage
    from huey.storage import RedisStorage

    huey.storage = RedisStorage("down", url="redis://127.0.0.1:1/0", read_timeout=1)
    try:
        down = client.get("/readyz")
    finally:
        huey.storage = storage
    assert down.status_code == 503
    assert (down.json["code"], down.json["detail"]) == ("not_ready", "Unreachable: queue.")
    assert down.headers["Cache-Control"] == "no-store"


def test_a_stale_run_cannot_overwrite_the_run_after_it(app: Flask) -> None:
    row = queued(8)
    huey.flush()
    claimed = claim(row.id)  # a run whose worker then went silent
    assert claimed is not None
    stale = claimed.attempt
    assert stale == 1
    lease = app.config["JOB_LEASE_SECONDS"]
    with time_machine.travel(utcnow() + timedelta(seconds=lease + 1)):
        assert recover_jobs() == 1
    run_jobs()
    finished(row.id, stale, {"stale": True})  # the old run comes back to life, too late
    failed(row.id, stale, RuntimeError("late"), None)
    done = state_of(row.id)
    assert (done.state, done.attempts, done.result) == (JobState.DONE, 2, {"n": 8})


@job("tests.waits_for_its_heartbeat", attempts=1)
def waits_for_its_heartbeat() -> dict[str, Any]:
    """Runs until its own heartbeat has moved (another thread's doing)."""
    deadline = time.monotonic() + 10
    while True:
        row = db.session.scalars(select(Job).where(Job.name == "tests.waits_for_its_heartbeat"))
        current = row.one()
        if (
            current.heartbeat_at
            and current.started_at
            and current.heartbeat_at > current.started_at
        ):
            return {"heartbeat": True}
        assert time.monotonic() < deadline, "no heartbeat"
        db.session.rollback()
        time.sleep(0.02)


def test_a_long_run_keeps_its_job_by_its_heartbeat(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_runs, "HEARTBEAT_SECONDS", 0.05)
    row = enqueue(db.session, waits_for_its_heartbeat)
    db.session.commit()
    run_jobs()
    assert state_of(row.id).result == {"heartbeat": True}

    # Started long ago but beating now: not lost, however long it runs.
    long_ago = utcnow() - timedelta(hours=2)
    running = queued(9)
    huey.flush()
    claim(running.id)
    db.session.get(Job, running.id).started_at = long_ago  # type: ignore[union-attr]
    db.session.commit()
    assert recover_jobs() == 0


def test_a_nudge_that_finds_the_lock_held_tries_again(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        article_id = schedule(client, admin, "Racing", utcnow() + timedelta(seconds=10))
        clock.shift(10)
        with task_lock("articles.publish_due") as held:  # another worker's run holds it
            assert held
            run_jobs()
        assert stored_status(article_id) is ArticleStatus.SCHEDULED  # not run under the lock
        assert run_jobs(until=utcnow() + timedelta(seconds=3)) >= 1  # it tried again
        assert stored_status(article_id) is ArticleStatus.PUBLISHED


def stored_status(article_id: int) -> ArticleStatus:
    """As stored (a read through the API would publish a due article itself)."""
    db.session.expire_all()
    return db.session.get_one(Article, article_id).status


def publish_nudges() -> int:
    waiting = [*huey.pending(), *huey.scheduled()]
    return sum(task.name.endswith("articles.publish_due.now") for task in waiting)


def publish_nudge_times() -> list[Any]:
    waiting = [*huey.pending(), *huey.scheduled()]
    return sorted(t.eta for t in waiting if t.name.endswith("articles.publish_due.now"))


def test_scheduled_publishing_asks_once_for_each_time(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    """Each publishing run asks for a run at the next time due within a minute, and so
    did the save of that article and the minute's periodic run: every run at that time
    then asked for the next, and the runs at each time grew by one per article."""
    with time_machine.travel(utcnow(), tick=False) as clock:
        start = utcnow()
        ids = [
            schedule(client, admin, f"Slot {n}", start + timedelta(seconds=10 + 30 * n))
            for n in range(12)
        ]
        for _ in range(7):  # seven minutes: each starts with the periodic run
            nudge(publish_due)
            for _ in range(2):
                run_jobs()
                times = publish_nudge_times()
                assert len(times) == len(set(times)), times  # one run asked for each time
                clock.shift(30)
        assert {stored_status(article_id) for article_id in ids} == {ArticleStatus.PUBLISHED}


def test_a_published_article_comes_down_at_its_unpublish_at(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        takedown = utcnow() + timedelta(minutes=30)
        created = client.post(
            "/api/v1/articles",
            json={
                "title": "Embargo ends",
                "status": "published",
                "unpublish_at": takedown.isoformat(),
            },
            headers=admin,
        )
        assert created.status_code == 201, created.json
        url = f"/api/v1/articles/{created.json['id']}"
        run_jobs()
        assert client.get(url).json["status"] == "published"  # not before its time

        clock.shift(timedelta(minutes=30))
        assert run_jobs() >= 1  # the run asked for at its time
    assert client.get(url).status_code == 404  # gone from public reads
    assert client.get(url, headers=admin).json["status"] == "archived"
    flipped = db.session.scalars(
        select(ContentEvent).where(ContentEvent.type == "article.unpublished")
    ).all()
    assert [e.changed for e in flipped] == [["status"]]


def test_unpublish_at_must_come_after_published_at(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    when = utcnow() + timedelta(days=1)
    refused = client.post(
        "/api/v1/articles",
        json={
            "title": "Backwards",
            "status": "scheduled",
            "published_at": when.isoformat(),
            "unpublish_at": (when - timedelta(seconds=1)).isoformat(),
        },
        headers=admin,
    )
    assert refused.status_code == 422
    assert "unpublish_at" in refused.json["errors"]
    assert client.get("/api/v1/articles", headers=admin).json["data"] == []


def test_saving_a_schedule_queues_one_message_at_most(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    far, near = utcnow() + timedelta(days=30), utcnow() + timedelta(minutes=10)
    ids = [schedule(client, admin, "Far", far), schedule(client, admin, "Near", near)]
    assert publish_nudges() == 1  # the far one is the periodic run's, in its last minute
    for n in range(5):
        for article_id in ids:
            url = f"/api/v1/articles/{article_id}"
            headers = {**admin, "If-Match": client.get(url, headers=admin).headers["ETag"]}
            assert (
                client.patch(url, json={"title": f"Edit {n}"}, headers=headers).status_code == 200
            )
    assert publish_nudges() == 1  # edits that keep the schedule ask for nothing more


def test_asking_twice_for_a_fetch_gives_the_same_job(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    feed = client.post("/api/v1/feeds", json={"url": "https://example.com/rss"}, headers=admin)
    url = f"/api/v1/feeds/{feed.json['id']}/fetch"
    first, second = client.post(url, headers=admin), client.post(url, headers=admin)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json["id"] == second.json["id"]
    assert len(db.session.scalars(select(Job).where(Job.name == "feeds.fetch")).all()) == 1


class Naps:
    """Stands in for the consumer's stop flag: records each nap instead of taking it."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.taken.append(seconds)
        return False


def test_an_idle_worker_asks_a_sqlite_queue_for_work_every_poll_interval(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Huey's idle workers back off up to 10 s by default: with the SQLite queue (no
    blocking read) an upload's render or a WebSub push then waited seconds for a worker.
    Driven through Huey's own worker loop on a real, empty SQLite queue; its naps are
    counted rather than slept."""
    saved = huey.storage, huey._timeout_handler  # a consumer sets its handler on our Huey
    settings = {"QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}", "REDIS_URL": None}
    huey.storage = queue_storage({**app.config, **settings}, app.instance_path)
    try:
        monkeypatch.setitem(app.config, "JOB_POLL_SECONDS", 0.5)
        workers = [worker for worker, _ in consumer(threads=2).worker_threads]
        for worker in workers:
            naps = worker.stop_flag = Naps()
            for _ in range(200):  # what an idle minute or more asks of the queue
                worker.loop()
            assert len(naps.taken) == 200  # a nap after each empty read: no busy loop
            assert naps.taken[0] == pytest.approx(0.1)  # soon after work, sooner again
            assert max(naps.taken) == pytest.approx(0.5)
    finally:
        huey.storage, huey._timeout_handler = saved


@contextmanager
def local_zone(zone: str) -> Iterator[None]:
    """This process's local time zone, as another host's would be."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_hosts_in_different_time_zones_agree_when_a_scheduled_task_is_due(
    app: Flask, services: dict[str, str], tmp_path: Path, kind: str
) -> None:
    """A web process on a New York host schedules (a publishing time, a webhook retry);
    a worker on a UTC host reads the schedule. Huey's stores took its naive UTC times
    for local time: the worker saw the task five hours late."""
    if kind == "redis" and not services:
        pytest.skip("needs REDIS_URL (CI's PostgreSQL + Redis pass runs it)")
    url = services["REDIS_URL"] if kind == "redis" else f"sqlite:///{tmp_path / 'q.sqlite3'}"
    config = {**app.config, **services, "QUEUE_URL": url}
    config["REDIS_KEY_PREFIX"] += uuid4().hex[:8]
    storage = queue_storage(config, app.instance_path)
    due = datetime(2026, 12, 7, 12, 0)  # naive UTC, as Huey keeps it
    try:
        with local_zone("America/New_York"):
            storage.add_to_schedule(b"publish", due)
        with local_zone("UTC"):
            assert storage.read_schedule(due - timedelta(seconds=1)) == []
            assert storage.read_schedule(due) == [b"publish"]
    finally:
        storage.flush_all()


def test_a_nudge_the_queue_refused_is_asked_for_again(app: Flask) -> None:
    """A time is remembered as asked for only once the queue took the nudge."""
    with socket.socket() as probe:  # a port nothing listens on: the queue is down
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    saved = huey.storage
    huey.storage = RedisStorage("down", url=f"redis://127.0.0.1:{closed}/0", read_timeout=1)
    at = utcnow() + timedelta(minutes=5)
    try:
        with pytest.raises(redis.ConnectionError):
            nudge(publish_due, eta=at)
    finally:
        huey.storage = saved
    nudge(publish_due, eta=at)  # the queue is back: this one goes through
    nudge(publish_due, eta=at)  # and this one is the same ask again
    assert len(publish_nudge_times()) == 1
