import marshmallow as ma

from cms.api.common import Timestamps, slug_field


class AuthorSchema(Timestamps):
    """A byline. `user_id` links it to a login (set by admins, not here)."""

    slug = slug_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    bio = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=10_000))
    avatar_url = ma.fields.Url(allow_none=True, validate=ma.validate.Length(max=2048))
    website_url = ma.fields.Url(allow_none=True, validate=ma.validate.Length(max=2048))
    user_id = ma.fields.Integer(dump_only=True, allow_none=True)
