import marshmallow as ma

from cms.api.common import one_of
from cms.api.openapi import ResponseSchema
from cms.models import Role


class LoginSchema(ma.Schema):
    # Not checked as an address: whatever names no account is a 401 like a wrong
    # password, so the answer never depends on how validators read an address.
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024)
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=10, max=1024)
    )


class TokenSchema(ResponseSchema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds until the access token expires"}
    )


class MeSchema(ResponseSchema):
    """The caller: a user, or a machine token (then `id` and `email` are null)."""

    id = ma.fields.Integer(allow_none=True)
    email = ma.fields.String(allow_none=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.Enum(Role, by_value=True, required=True)
    kind = one_of(("user", "api_token"), enum_name="PrincipalKind")
