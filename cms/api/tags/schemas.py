import marshmallow as ma

from cms.api.common import Timestamps, slug_field


class TagSchema(Timestamps):
    """A tag: a fine-grained topic label."""

    slug = slug_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
