import marshmallow as ma

from cms.api.common import Timestamps, http_url, slug_field


class AuthorSchema(Timestamps):
    """A byline. Admins link a byline to a login through the users API (`author_id`)."""

    slug = slug_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    bio = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=10_000))
    avatar_url = http_url(allow_none=True)
    website_url = http_url(allow_none=True)
