import marshmallow as ma

from cms.api.common import PageArgs
from cms.api.openapi import ResponseSchema
from cms.models import JobState


class JobSchema(ResponseSchema):
    """A queued job and how it went (admins; feed fetches answer with one)."""

    id = ma.fields.String(metadata={"example": "5f0c2a9e8b7d4e6f9a1b2c3d4e5f6a7b"})
    name = ma.fields.String(metadata={"example": "feeds.fetch"})
    args = ma.fields.List(
        ma.fields.Raw(), metadata={"description": "Its arguments, as JSON values (ids)"}
    )
    state = ma.fields.Enum(JobState, by_value=True)
    attempts = ma.fields.Integer(metadata={"description": "Runs started so far"})
    max_attempts = ma.fields.Integer()
    lost_runs = ma.fields.Integer(
        metadata={
            "description": "Runs lost with their worker (killed, or silent past the lease): "
            "each was run again, with one attempt more"
        }
    )
    run_after = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Not before (a delay, or the next retry)"}
    )
    error = ma.fields.String(allow_none=True, metadata={"description": "The last run's error"})
    result = ma.fields.Dict(
        keys=ma.fields.String(),
        allow_none=True,
        metadata={"description": "What a finished run reported (a fetch: its counts)"},
    )
    created_at = ma.fields.AwareDateTime()
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)


class JobListArgs(PageArgs):
    state = ma.fields.Enum(JobState, by_value=True, metadata={"description": "Only these"})
    name = ma.fields.String(
        validate=ma.validate.Length(max=80), metadata={"example": "images.render"}
    )
