"""Probes for load balancers and orchestrators: /healthz answers while the process
lives; /readyz answers 503 when the database, Redis (if configured) or the job queue
cannot be reached. Neither needs a token, and neither is ever cached."""

from typing import Any

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy import text

from cms.api.framework import Blueprint, json_response
from cms.api.openapi import ResponseSchema
from cms.api.operation_docs import UNCACHED
from cms.auth.revocation import redis_client
from cms.extensions import db
from cms.jobs import huey
from cms.problems import problem_response

blp = Blueprint("health", __name__, url_prefix="", description="Health and readiness probes")
NOT_CACHED = {"Cache-Control": "no-store"}


class HealthSchema(ResponseSchema):
    status = ma.fields.String(metadata={"example": "ok"})


class ReadySchema(ResponseSchema):
    status = ma.fields.String(metadata={"example": "ready"})
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"example": {"database": "ok", "queue": "ok"}},
    )


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="health", security=[], **{UNCACHED: True})
    def get(self) -> Response:
        """Liveness: the process answers"""
        return json_response({"status": "ok"}, 200, NOT_CACHED)


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.errors("not_ready")
    @blp.doc(operationId="ready", security=[], **{UNCACHED: True})
    def get(self) -> Response:
        """Readiness: the database, Redis (if configured) and the job queue answer"""
        checks = {name: _check(probe) for name, probe in _probes().items()}
        failing = sorted(name for name, outcome in checks.items() if outcome != "ok")
        if failing:
            return problem_response(
                503, "not_ready", f"Unreachable: {', '.join(failing)}.", headers=NOT_CACHED
            )
        return json_response({"status": "ready", "checks": checks}, 200, NOT_CACHED)


def _probes() -> dict[str, Any]:
    probes: dict[str, Any] = {
        "database": lambda: db.session.execute(text("SELECT 1")),
        "queue": lambda: huey.storage.queue_size(),
    }
    url = current_app.config["REDIS_URL"]
    if url:
        probes["redis"] = lambda: _ping(url)
    return probes


def _ping(url: str) -> None:
    client = redis_client(url)
    try:
        client.ping()
    finally:
        client.close()


def _check(probe: Any) -> str:
    try:
        probe()
    except Exception as error:  # any failure means not ready; say which kind
        db.session.rollback()
        return type(error).__name__
    return "ok"
