"""Jobs (admins): what the workers have queued, run and failed; a failed job can be
queued again. `flask cms jobs` shows the same."""

from typing import Any

from flask import url_for
from flask.views import MethodView
from sqlalchemy import select

from cms.api.common import envelope, page_envelope, paginate_scalars
from cms.api.framework import Blueprint
from cms.api.jobs.schemas import JobListArgs, JobSchema
from cms.extensions import db
from cms.jobs import retry
from cms.models import Job, Role
from cms.problems import fail

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Background jobs (admin)")


def job_location(job: Job) -> str:
    return url_for("jobs.JobById", job_id=job.id)


def _job_or_404(job_id: str) -> Job:
    job = db.session.get(Job, job_id) if len(job_id) <= 32 else None
    if job is None:
        fail(404, detail=f"No job with id {job_id}.")
    return job


@blp.route("")
class Jobs(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.arguments(JobListArgs, location="query")
    @blp.response(200, envelope(JobSchema))
    @blp.doc(operationId="listJobs")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List jobs, newest first"""
        query = select(Job).order_by(Job.created_at.desc(), Job.id)
        if "state" in args:
            query = query.where(Job.state == args["state"])
        if "name" in args:
            query = query.where(Job.name == args["name"])
        items, total = paginate_scalars(
            db.session, query, page=args["page"], page_size=args["page_size"]
        )
        return page_envelope(items, page=args["page"], page_size=args["page_size"], total=total)


@blp.route("/<job_id>")
class JobById(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(200, JobSchema)
    @blp.errors(404)
    @blp.doc(operationId="getJob")
    def get(self, job_id: str) -> Job:
        """Get a job: its state, attempts, last error and result"""
        return _job_or_404(job_id)


@blp.route("/<job_id>/retry")
class JobRetry(MethodView):
    @blp.requires(Role.ADMIN)
    @blp.response(202, JobSchema)
    @blp.errors(404, "job_not_failed")
    @blp.doc(operationId="retryJob")
    def post(self, job_id: str) -> Any:
        """Queue a failed job again, with all its attempts"""
        job = _job_or_404(job_id)
        if not retry(job.id):
            fail(409, "job_not_failed", f"Job {job_id} is {job.state.value}, not failed.")
        db.session.refresh(job)
        return job, 202, {"Location": job_location(job)}
