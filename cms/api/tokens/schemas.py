import marshmallow as ma

from cms.api.common import AwareUTCDateTime
from cms.models import Role


class ApiTokenSchema(ma.Schema):
    """A machine token. The secret itself is only ever in the creation response."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    expires_at = AwareUTCDateTime(allow_none=True, load_default=None)
    prefix = ma.fields.String(dump_only=True, metadata={"example": "cms_Ab3xYz"})
    created_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CreatedApiTokenSchema(ApiTokenSchema):
    token = ma.fields.String(
        dump_only=True, metadata={"description": "The secret: shown once, store it now"}
    )
