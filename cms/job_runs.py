"""Runs of jobs and periodic tasks, as the database records them: claims, heartbeats,
outcomes and locks. Every write here is its own short transaction on the engine, apart
from the job's own session, so the record stays true whatever the job does.

A run is the row's (worker, attempt): a stale run (one whose job was recovered and
started again elsewhere) can no longer change the row. While a job runs, or a periodic
task holds its lock, a thread moves its heartbeat every HEARTBEAT_SECONDS; recovery
(cms.jobs.recover_jobs) only takes over a run whose heartbeat stopped for the lease."""

import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NamedTuple

import structlog
from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cms.extensions import db
from cms.models import Job, JobState, TaskLock, utcnow

log = structlog.get_logger(__name__)

WORKER = f"{socket.gethostname()}:{os.getpid()}"
HEARTBEAT_SECONDS = 15
LOCK_SECONDS = 60  # a lock whose holder's heartbeat stopped this long ago lapses


@contextmanager
def heartbeat(beat: Callable[[], bool]) -> Iterator[None]:
    """Call `beat` every HEARTBEAT_SECONDS in a thread while the block runs (until it
    says False: the run is no longer ours)."""
    stop = threading.Event()
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def loop() -> None:
        with app.app_context():  # the thread's own (and so its own database session)
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    if not beat():
                        return
                except SQLAlchemyError:  # the database is busy or away: next beat
                    log.warning("heartbeat_failed", exc_info=True)

    thread = threading.Thread(target=loop, name="cms-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Claim(NamedTuple):
    attempt: int  # this run's number, from 1
    last: bool  # no attempt is left after it: a failure is final


def claim(job_id: str) -> Claim | None:
    """Start a run of a queued job, or None when it is not queued (done, failed, running
    elsewhere, or gone) or has spent its attempts (a duplicate delivery must not run it
    once more than it may). Each run lost with its worker gave it one attempt more."""
    now = utcnow()
    allowed = Job.max_attempts + Job.lost_runs
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED, Job.attempts < allowed)
            .values(
                state=JobState.RUNNING,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                worker=WORKER,
            )
        ).rowcount
        if not claimed:
            return None
        row = connection.execute(select(Job.attempts, allowed).where(Job.id == job_id)).one()
        return Claim(row[0], row[0] >= row[1])


def _this_run(job_id: str, attempt: int) -> tuple[Any, ...]:
    return (
        Job.id == job_id,
        Job.state == JobState.RUNNING,
        Job.worker == WORKER,
        Job.attempts == attempt,
    )


def beat_job(job_id: str, attempt: int) -> bool:
    with db.engine.begin() as connection:
        return bool(
            connection.execute(
                update(Job).where(*_this_run(job_id, attempt)).values(heartbeat_at=utcnow())
            ).rowcount
        )


def finished(job_id: str, attempt: int, result: Any) -> None:
    _record(job_id, attempt, state=JobState.DONE, finished_at=utcnow(), result=result)


def failed(job_id: str, attempt: int, error: Exception, retry_in: float | None) -> None:
    """Record a failed run: queued again after `retry_in` seconds, or failed for good."""
    message = "".join(traceback.format_exception_only(error)).strip()[:2000]
    log.warning("job_failed", job_id=job_id, attempt=attempt, error=message, retry_in=retry_in)
    if retry_in is None:
        _record(job_id, attempt, state=JobState.FAILED, finished_at=utcnow(), error=message)
    else:
        run_after = utcnow() + timedelta(seconds=retry_in)
        _record(job_id, attempt, state=JobState.QUEUED, error=message, run_after=run_after)


def _record(job_id: str, attempt: int, **values: Any) -> None:
    with db.engine.begin() as connection:  # the worker stays: who ran it last
        connection.execute(update(Job).where(*_this_run(job_id, attempt)).values(**values))


def worker_died(worker: str | None) -> bool:
    """Whether the process named "host:pid" is gone (on this host; others' runs wait
    for their lease to end)."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _holder() -> str:
    return f"{WORKER}:{threading.get_ident()}"


@contextmanager
def task_lock(name: str) -> Iterator[bool]:
    """Hold the lock of periodic task `name` for the block (True), or find it held by
    another run (False). Its heartbeat keeps it while the holder lives."""
    if not _lock(name):
        yield False
        return
    holder = _holder()
    try:
        with heartbeat(lambda: _renew(name, holder)):
            yield True
    finally:
        with db.engine.begin() as connection:
            connection.execute(
                delete(TaskLock).where(TaskLock.name == name, TaskLock.holder == holder)
            )


def _lock(name: str) -> bool:
    now = utcnow()
    try:
        with db.engine.begin() as connection:
            connection.execute(
                delete(TaskLock).where(TaskLock.name == name, TaskLock.expires_at < now)
            )
            connection.execute(
                insert(TaskLock).values(
                    name=name, holder=_holder(), expires_at=now + timedelta(seconds=LOCK_SECONDS)
                )
            )
    except IntegrityError:
        return False
    return True


def _renew(name: str, holder: str) -> bool:
    with db.engine.begin() as connection:
        return bool(
            connection.execute(
                update(TaskLock)
                .where(TaskLock.name == name, TaskLock.holder == holder)
                .values(expires_at=utcnow() + timedelta(seconds=LOCK_SECONDS))
            ).rowcount
        )
