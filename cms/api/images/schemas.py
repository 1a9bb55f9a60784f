import marshmallow as ma

from cms.api.common import Timestamps


class ImageSchema(Timestamps):
    """Image metadata. Remote URLs (with CDN sizing parameters) are kept as they are."""

    url = ma.fields.Url(required=True, validate=ma.validate.Length(max=2048))
    width = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=100_000)
    )
    height = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=100_000)
    )
    alt = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=500),
        metadata={"description": "Text alternative; empty if decorative"},
    )
    caption = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    credit = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    license = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
