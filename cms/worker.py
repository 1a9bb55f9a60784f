"""`flask cms worker` runs the queue's jobs and periodic tasks; `flask cms jobs` shows
and steers them. Workers are processes of their own: start as many as the queue needs
(with REDIS_URL, on as many machines)."""

import logging
from datetime import UTC, datetime

import click
from flask import current_app
from huey.consumer import Consumer
from sqlalchemy import select

from cms.cli import cms_cli
from cms.extensions import db
from cms.jobs import huey, nudge, recover_jobs, retry, run_queued
from cms.models import Job, JobState
from cms.services.dispatch import dispatch_events
from cms.services.polling import poll_feeds
from cms.services.publishing import publish_due


@cms_cli.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at once.")
@click.option("--once", is_flag=True, help="Run what is queued now, then exit.")
def worker_command(threads: int, once: bool) -> None:
    """Run queued jobs and the periodic tasks (feed polling, scheduled publishing,
    outbox dispatch, job recovery) until stopped. SIGTERM lets running jobs finish
    (JOB_SHUTDOWN_SECONDS); Ctrl-C stops at once (the next worker reruns what it cut)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    recovered = recover_jobs()  # runs a dead worker left behind, at once
    db.session.remove()
    for task in (dispatch_events, publish_due, poll_feeds):
        nudge(task)  # what piled up while no worker ran, without waiting a minute
    if once:
        click.echo(f"Recovered {recovered} jobs; ran {run_queued()} tasks.")
        return
    consumer(threads).run()


def consumer(threads: int) -> Consumer:
    """Huey's consumer as the configuration asks: its idle workers poll a queue that
    cannot block (SQLite) at least every JOB_POLL_SECONDS."""
    return huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=True,
        scheduler_interval=1,
        max_delay=current_app.config["JOB_POLL_SECONDS"],
        # What docker, systemd and Kubernetes send: finish running jobs, then exit.
        graceful_signal="TERM",
        shutdown_timeout=current_app.config["JOB_SHUTDOWN_SECONDS"],
    )


@cms_cli.group("jobs", invoke_without_command=True)
@click.option(
    "--state", type=click.Choice([s.value for s in JobState]), help="Only jobs in this state."
)
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def jobs_group(context: click.Context, state: str | None, limit: int) -> None:
    """List recent jobs (newest first); `jobs retry ID` queues a failed one again."""
    if context.invoked_subcommand is not None:
        return
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if state:
        query = query.where(Job.state == JobState(state))
    for row in db.session.scalars(query):
        when = _short(row.finished_at or row.started_at or row.created_at)
        error = f"  {row.error.splitlines()[-1][:80]}" if row.error else ""
        click.echo(
            f"{row.id}  {row.state.value:<8} {row.name:<22} {row.attempts}/{row.max_attempts}"
            f"  {when}  {row.args}{error}"
        )


@jobs_group.command("retry")
@click.argument("job_id")
def retry_command(job_id: str) -> None:
    """Queue a failed job again, with all its attempts."""
    if not retry(job_id):
        raise click.ClickException(f"No failed job with id {job_id}.")
    click.echo(f"Job {job_id} queued again.")


def _short(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
