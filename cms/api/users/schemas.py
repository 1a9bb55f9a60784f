import marshmallow as ma

from cms.api.common import Timestamps, json_boolean
from cms.models import Role


class UserSchema(Timestamps):
    """A login. Only admins see or change users; passwords are write-only."""

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=10, max=1024)
    )
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    is_active = json_boolean(
        load_default=True,
        metadata={"description": "false deactivates the user and revokes their tokens"},
    )
    author_id = ma.fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"description": "The byline this user writes as (article ownership)"},
    )
