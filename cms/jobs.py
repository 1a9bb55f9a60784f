"""Work that must wait for the transaction: after commit (start a job, delete files of
rows that are gone) or after rollback (remove files written for rows that never were).

Background jobs run on a small thread pool in the same process: the request that
starts one answers at once, and the worker goes on serving. A job that a restart
interrupts leaves its image `processing`; `flask cms render-images` finishes such
leftovers. (A Redis-backed queue with separate workers is the scale-out step: jobs
take ids, not objects, for that reason.)
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import structlog
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from cms.services import DbSession

log = structlog.get_logger(__name__)
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cms-job")


def after_commit(session: DbSession, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(session: DbSession, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_rollback", []).append(callback)


def run_later(job: Callable[..., None], *args: Any) -> Future[None]:
    """Run `job(*args)` on the pool, inside an app context of its own."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def call() -> None:
        with app.app_context():
            try:
                job(*args)
            except Exception:
                log.exception("job_failed", job=job.__name__, args=args)
                raise

    return _pool.submit(call)


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
