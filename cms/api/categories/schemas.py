import marshmallow as ma

from cms.api.common import Timestamps, slug_field


class CategorySchema(Timestamps):
    """A category: the one section an article belongs to."""

    slug = slug_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
