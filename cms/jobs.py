"""Work after a write: callbacks that wait for the transaction, and the job queue.

The queue is Huey. Its storage is SQLite beside the database by default (no service),
Redis with `REDIS_URL` (workers on several machines share it), or memory in tests. Jobs
run in worker processes (`flask cms worker`), never in the web process.

A job is asked for with `enqueue`, inside the transaction of the write it follows: its
row (cms.models.job) commits with that write, and only then is its id pushed to the
queue. So a rolled-back write starts nothing, and a push lost to a process dying right
after the commit, or a run lost with its worker, is found by `recover_jobs` (at worker
start and every minute) and pushed again. A run starts only by moving its row from
`queued` to `running`, so a job pushed twice runs once. Jobs take ids, not objects, and
must be idempotent: a run cut off half-way is run again from the start.
"""

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import structlog
from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.exceptions import RetryTask
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import delete, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cms.extensions import db
from cms.job_runs import beat_job, claim, failed, finished, heartbeat, task_lock, worker_died
from cms.models import Job, JobState, utcnow
from cms.services import DbSession

log = structlog.get_logger(__name__)

huey = Huey("cms", storage_class=MemoryStorage, results=False, utc=True)
RETRY_BACKOFF = 2  # each retry waits twice as long as the one before
CLAIM_RETRY_SECONDS = 5  # a run that could not reach its row tries again after this


@dataclass(frozen=True)
class Registered:
    run: Any  # the Huey task wrapper
    attempts: int
    retry_delay: int


JOBS: dict[str, Registered] = {}
_apps: list[Flask] = []  # the app a worker serves (the last one initialised)


def init_queue(app: Flask) -> None:
    huey.storage = queue_storage(app.config, app.instance_path)
    _apps[:] = [app]
    app.extensions["queue"] = huey


def queue_storage(config: dict[str, Any], instance_path: str) -> Any:
    """The Huey storage QUEUE_URL names (or REDIS_URL, or a SQLite file in the instance)."""
    url = config["QUEUE_URL"] or config["REDIS_URL"] or f"sqlite:///{instance_path}/queue.sqlite3"
    name = "".join(c for c in config["REDIS_KEY_PREFIX"] + "queue" if c.isalnum() or c == "_")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return UtcRedisStorage(name, url=url, read_timeout=1)
    if url.startswith("sqlite:"):
        return UtcSqliteStorage(name, filename=make_url(url).database, timeout=5)
    if url == "memory://":
        return MemoryStorage(name)
    raise ValueError(f"QUEUE_URL {url!r}: use redis://, sqlite:///<file> or memory://")


# Huey keeps times as naive UTC, and its stores turn them into epoch seconds as if they
# were local time: a web process and a worker in different time zones then disagreed by
# hours about when a scheduled task was due (and one zone across a daylight-saving
# change, by an hour). These read them as what they are.
class UtcSqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey has no types
    def add_to_schedule(self, data: bytes, ts: datetime) -> None:
        super().add_to_schedule(data, ts.replace(tzinfo=UTC))

    def read_schedule(self, ts: datetime) -> list[bytes]:
        return super().read_schedule(ts.replace(tzinfo=UTC))  # type: ignore[no-any-return]


class UtcRedisStorage(RedisStorage):  # type: ignore[misc]
    def convert_ts(self, ts: datetime) -> float:
        return ts.replace(tzinfo=UTC).timestamp()


def job(name: str, *, attempts: int = 3, retry_delay: int = 10) -> Callable[[Any], Any]:
    """Register `fn` as the job `name`, run with its row recorded; a failing run is
    retried after retry_delay seconds, then twice as long, until `attempts` are spent."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(job_id: str, *args: Any, task: Any) -> None:
            _run_recorded(name, fn, job_id, args, retries_left=task.retries)

        wrapper = huey.task(
            retries=attempts - 1,
            retry_delay=retry_delay,
            retry_backoff=RETRY_BACKOFF,
            context=True,
            name=name,
        )(run)
        JOBS[name] = Registered(wrapper, attempts, retry_delay)
        fn.job_name = name  # type: ignore[attr-defined]
        return fn

    return decorate


def periodic(name: str, schedule: Any = None) -> Callable[[Any], Any]:
    """Register `fn` to run in the workers every minute (or on a Huey crontab), and on
    demand with `nudge(fn)`. One run at a time across every worker (a lock row in the
    database, kept by its holder's heartbeat); a scheduled run that finds it held is
    skipped, a nudge tries again a little later (the holder may have looked before what
    the nudge is for). Make it idempotent: runs in turn still repeat each other."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run() -> bool:
            with _app_context(), task_lock(name) as held:
                if held:
                    try:
                        fn()
                    finally:
                        db.session.rollback()
                return held

        def run_nudged(tries: int = 0) -> None:
            if not run() and tries < NUDGE_TRIES:
                nudges[name].schedule(args=(tries + 1,), delay=NUDGE_RETRY_SECONDS)

        huey.periodic_task(schedule or crontab(minute="*"), name=name)(run)
        nudges[name] = huey.task(name=f"{name}.now")(run_nudged)
        fn.job_name = name  # type: ignore[attr-defined]
        return fn

    return decorate


nudges: dict[str, Any] = {}
NUDGE_TRIES, NUDGE_RETRY_SECONDS = 30, 2


def enqueue(
    session: DbSession, fn: Callable[..., Any], *args: Any, eta: datetime | None = None
) -> Job:
    """Ask for the job `fn` (one registered with @job) with JSON-able args, pushed to
    the queue once this transaction commits."""
    name: str = fn.job_name  # type: ignore[attr-defined]
    registered = JOBS[name]
    row = Job(
        id=uuid4().hex,
        name=name,
        args=list(args),
        state=JobState.QUEUED,
        attempts=0,
        max_attempts=registered.attempts,
        run_after=eta,
        created_at=utcnow(),
    )
    session.add(row)
    after_commit(session, lambda: push(row.id, name, list(args), eta))
    return row


def push(job_id: str, name: str, args: list[Any], eta: datetime | None = None) -> None:
    task = JOBS[name].run
    if eta is not None and eta > utcnow():
        task.schedule(args=(job_id, *args), eta=eta)
    else:
        task(job_id, *args)


def nudge(fn: Callable[..., Any], eta: datetime | None = None, *, coalesce: float = 0) -> None:
    """Run the periodic task `fn` soon (or at eta), without waiting for its minute.
    Nothing is lost if the nudge is: the periodic run does the same work. With
    `coalesce` (seconds), a nudge is skipped while one this process sent is still due
    within that long (it runs after, and covers, whatever asked for this one). A nudge
    for a time this process already asked for is skipped too: runs that each ask for
    the next time due (scheduled publishing) would otherwise start a chain of runs
    apiece, and every chain would ask again."""
    name: str = fn.job_name  # type: ignore[attr-defined]
    now = time.monotonic()
    if coalesce and now < _pending_nudges.get(name, 0):
        return
    at = eta if eta is not None and eta > utcnow() else None
    if at is not None and not _first_ask(name, at):
        return
    if coalesce:
        wait = (at - utcnow()).total_seconds() if at else 0
        _pending_nudges[name] = now + min(wait, coalesce)
    if at is None:
        nudges[name]()
        return
    try:
        nudges[name].schedule(eta=at)
    except Exception:
        _forget_ask(name, at)  # not asked after all: the next ask for it goes through
        raise


def _first_ask(name: str, at: datetime) -> bool:
    """Whether this process has not yet asked for a run of `name` at `at` (the times
    that have passed are forgotten)."""
    with _asked_lock:
        passed = utcnow()
        asked = {t for t in _asked_at.get(name, ()) if t > passed}
        first = at not in asked
        _asked_at[name] = asked | {at}
        return first


def _forget_ask(name: str, at: datetime) -> None:
    with _asked_lock:
        _asked_at.get(name, set()).discard(at)


_pending_nudges: dict[str, float] = {}  # task name: monotonic time its nudge runs by
_asked_at: dict[str, set[datetime]] = {}  # task name: the future times its nudges run at
_asked_lock = threading.Lock()


def flush_queue() -> None:
    """Forget everything queued (tests, between cases): jobs, schedule, and the nudges
    this process believes are pending."""
    huey.flush()
    _pending_nudges.clear()
    _asked_at.clear()


def retry(job_id: str) -> bool:
    """Queue a failed job again, with all its attempts; False when it had not failed."""
    with db.engine.begin() as connection:
        moved = connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.FAILED)
            .values(
                state=JobState.QUEUED, attempts=0, lost_runs=0, run_after=None, finished_at=None
            )
        ).rowcount
        row = connection.execute(select(Job.name, Job.args).where(Job.id == job_id)).first()
    if moved and row is not None:
        push(job_id, row.name, row.args)
    return bool(moved)


def _run_recorded(
    name: str, fn: Callable[..., Any], job_id: str, args: tuple[Any, ...], retries_left: int
) -> None:
    with _app_context():
        try:
            claimed = claim(job_id)
        except OperationalError as error:  # busy or away: no attempt was made
            log.warning("job_claim_failed", job_id=job_id, error=str(error.orig))
            # Spends no retry; spread out, so runs that met a busy database together
            # do not meet it together again.
            jitter = 0.5 + random.random()  # noqa: S311 - a delay, not a secret
            raise RetryTask(delay=CLAIM_RETRY_SECONDS * jitter) from error
        if claimed is None:
            return  # done, failed, running elsewhere, spent, or its row is gone
        attempt = claimed.attempt
        try:
            with heartbeat(lambda: beat_job(job_id, attempt)):
                result = fn(*args)
        except Exception as error:
            db.session.rollback()
            # The row counts the attempts (a recovered run came back as a new Huey task,
            # with all of Huey's retries again).
            final = retries_left == 0 or claimed.last
            # Huey waits retry_delay, then twice as long each time: the row says when.
            delay = JOBS[name].retry_delay * RETRY_BACKOFF ** (attempt - 1)
            failed(job_id, attempt, error, None if final else delay)
            raise
        finished(job_id, attempt, result if isinstance(result, dict) else None)


@contextmanager
def _app_context() -> Iterator[None]:
    """Each run gets an app context (and so a database session) of its own."""
    app = current_app._get_current_object() if has_app_context() else _apps[-1]  # type: ignore[attr-defined]
    with app.app_context():
        yield


def recover_jobs() -> int:
    """Push again the jobs whose run was lost: running in a worker that died (or past the
    lease), or queued long ago and never started. A lost run is not a failed attempt,
    but a job lost JOB_LOST_RUNS times fails: one that kills its worker (an image that
    crashes the decoder, a render killed for its memory) would take the next worker down
    with it, and the next, for ever. Returns how many were pushed again."""
    config = current_app.config
    now = utcnow()
    lease = timedelta(seconds=config["JOB_LEASE_SECONDS"])
    resend = timedelta(seconds=config["JOB_RESEND_AFTER_SECONDS"])
    recovered = 0
    rows = db.session.execute(
        select(Job.id, Job.name, Job.args, Job.state, Job.worker, Job.started_at, Job.heartbeat_at)
        .add_columns(Job.run_after, Job.created_at, Job.lost_runs)
        .where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .order_by(Job.created_at)
    ).all()
    db.session.rollback()
    for row in rows:
        if row.state is JobState.RUNNING:
            alive_at = row.heartbeat_at or row.started_at or now
            lost = worker_died(row.worker) or alive_at + lease < now
            condition = (Job.state == JobState.RUNNING, Job.worker == row.worker)
            losses = row.lost_runs + 1
        else:  # due (or pushed again) long ago and never started
            lost = (row.run_after or row.created_at) + resend < now
            same_push = (
                Job.run_after.is_(None) if row.run_after is None else Job.run_after == row.run_after
            )
            condition = (Job.state == JobState.QUEUED, same_push)
            losses = row.lost_runs  # its message was lost, not a run
        if not lost:
            continue
        if losses >= config["JOB_LOST_RUNS"]:
            _give_up(row, condition, losses, now)
            continue
        with db.engine.begin() as connection:  # one recoverer wins each job
            won = connection.execute(
                update(Job)
                .where(Job.id == row.id, *condition)
                .values(state=JobState.QUEUED, worker=None, run_after=now, lost_runs=losses)
            ).rowcount
        if won and row.name in JOBS:
            push(row.id, row.name, row.args)
            recovered += 1
    if recovered:
        log.info("jobs_recovered", count=recovered)
    return recovered


def _give_up(row: Any, condition: tuple[Any, ...], losses: int, now: datetime) -> None:
    error = (
        f"Lost with its worker {losses} times (the process died, was killed or went "
        "silent): not run again"
    )
    with db.engine.begin() as connection:
        given_up = connection.execute(
            update(Job)
            .where(Job.id == row.id, *condition)
            .values(state=JobState.FAILED, finished_at=now, error=error, lost_runs=losses)
        ).rowcount
    if given_up:
        log.warning("job_lost_for_good", job_id=row.id, name=row.name, lost_runs=losses)


def after_commit(session: DbSession, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(session: DbSession, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_rollback", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop("after_rollback", None)
    _run_each(session.info.pop("after_commit", []))


@event.listens_for(Session, "after_rollback")
def _run_after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)
    _run_each(session.info.pop("after_rollback", []))


def _run_each(callbacks: list[Callable[[], None]]) -> None:
    """The transaction is over either way: a failing callback (storage unreachable, say)
    is logged, and neither undoes it nor stops the others."""
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after_transaction_callback_failed")


@periodic("jobs.recover")
def recover_and_prune() -> None:
    recover_jobs()
    before = utcnow() - timedelta(days=current_app.config["JOB_KEEP_DAYS"])
    with db.engine.begin() as connection:
        connection.execute(
            delete(Job).where(
                Job.state.in_([JobState.DONE, JobState.FAILED]), Job.finished_at < before
            )
        )


def run_queued(until: datetime | None = None, limit: int = 10_000) -> int:
    """Run what the queue holds, in this process, until it is empty: what is due now,
    or with `until`, what is due by then (tasks set for later wait in the schedule).
    For tests (the memory queue) and `flask cms worker --once`. Returns how many ran."""
    by = (until or utcnow()).astimezone(UTC).replace(tzinfo=None)  # Huey's naive UTC
    ran = 0
    while ran < limit:
        for task in huey.read_schedule(by):
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            return ran
        if task.eta is not None and task.eta > by:
            huey.add_schedule(task)  # for later
            continue
        huey.execute(task, timestamp=by)  # as if it were `by` (a retry waits from then)
        ran += 1
    return ran
