"""The record of each queued job: what runs, its arguments, and how it went.

The queue (Huey) carries only the job's id. The row is written in the transaction that
asks for the job, so a job is never started for a write that rolled back, and one whose
push to the queue was lost (the process died right after the commit), or whose worker
died while it ran, is found here and pushed again (cms.jobs.recover_jobs).
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, UTCDateTime, string_enum, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting, or waiting for its retry
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # out of attempts; an operator may retry it


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[JobState] = mapped_column(string_enum(JobState, "job_state"))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    max_attempts: Mapped[int] = mapped_column(SmallInteger, default=1)
    # Runs lost with their worker: each gives the job one more attempt (it did not
    # fail), up to JOB_LOST_RUNS; a job that keeps killing its worker then fails.
    lost_runs: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "host:pid" of the worker running it: a dead pid on the same host is a lost run.
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moved by the running worker every few seconds: a run silent past the lease is lost.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskLock(Base):
    """Who runs a periodic task now, until when: one run at a time across workers and
    machines, on any queue storage. A holder that died loses it when it expires."""

    __tablename__ = "task_locks"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
