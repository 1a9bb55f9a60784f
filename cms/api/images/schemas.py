import marshmallow as ma

from cms.api.common import JsonNumber, Timestamps, http_url
from cms.api.openapi import NO_NUL, ResponseSchema
from cms.models import ImageStatus
from cms.services.media import CONTENT_TYPES
from cms.storage import storage

_TEXT = {
    "alt": ma.validate.Length(max=500),
    "caption": ma.validate.Length(max=5000),
    "credit": ma.validate.Length(max=500),
    "license": ma.validate.Length(max=200),
}


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ma.ValidationError("Contains a NUL character.")


class RenditionSchema(ResponseSchema):
    """One stored rendition: a srcset candidate, or the fixed-ratio thumbnail."""

    url = ma.fields.Function(
        lambda rendition: storage().url(rendition.key), metadata={"type": "string"}
    )
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    format = ma.fields.String(required=True, metadata={"example": "webp"})
    type = ma.fields.Function(
        lambda rendition: CONTENT_TYPES[rendition.format],
        metadata={"type": "string", "example": "image/webp"},
    )
    bytes = ma.fields.Integer(required=True)


class ImageSchema(Timestamps):
    """An image: remote (its URL kept as given, CDN sizing parameters and all) or
    uploaded (re-encoded into renditions: `srcset` per width and format, `thumbnails`)."""

    url = http_url(
        required=True,
        metadata={"description": "Uploads: the largest rendition (empty while processing)"},
    )
    width = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=100_000)
    )
    height = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=100_000)
    )
    alt = ma.fields.String(
        load_default="",
        validate=_TEXT["alt"],
        metadata={"description": "Text alternative; empty if decorative"},
    )
    caption = ma.fields.String(allow_none=True, validate=_TEXT["caption"])
    credit = ma.fields.String(allow_none=True, validate=_TEXT["credit"])
    license = ma.fields.String(allow_none=True, validate=_TEXT["license"])
    status = ma.fields.Enum(
        ImageStatus,
        by_value=True,
        dump_only=True,
        metadata={"description": "Uploads are `processing` until their renditions exist"},
    )
    error = ma.fields.String(dump_only=True, allow_none=True)
    format = ma.fields.String(
        dump_only=True, allow_none=True, attribute="source_format", metadata={"example": "jpeg"}
    )
    bytes = ma.fields.Integer(dump_only=True, allow_none=True, attribute="source_bytes")
    focal_x = ma.fields.Float(dump_only=True)
    focal_y = ma.fields.Float(dump_only=True)
    srcset = ma.fields.List(
        ma.fields.Nested(RenditionSchema),
        dump_only=True,
        metadata={"description": "Width renditions, narrowest first, in every format"},
    )
    thumbnails = ma.fields.List(
        ma.fields.Nested(RenditionSchema),
        dump_only=True,
        metadata={"description": "16:9 crops around the focal point, one per format"},
    )


class ImageUploadSchema(ma.Schema):
    """What an upload says of its file: the JSON `metadata` part of the form."""

    alt = ma.fields.String(load_default="", validate=[_TEXT["alt"], _no_nul])
    caption = ma.fields.String(validate=[_TEXT["caption"], _no_nul])
    credit = ma.fields.String(validate=[_TEXT["credit"], _no_nul])
    license = ma.fields.String(validate=[_TEXT["license"], _no_nul])
    focal_x = JsonNumber(load_default=0.5, validate=ma.validate.Range(min=0, max=1))
    focal_y = JsonNumber(load_default=0.5, validate=ma.validate.Range(min=0, max=1))


# Two parts: the file, and what is said of it as one JSON object (as Strapi's fileInfo
# and Payload's _payload do). Text fields beside a file would be untyped on the wire: a
# credit of 2024 and "2024" are the same bytes, so the spec could not say what is meant.
UPLOAD_REQUEST_BODY = {
    "schema": {
        "type": "object",
        "required": ["file"],
        "additionalProperties": False,  # other parts are refused
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "JPEG, PNG, WebP, AVIF or GIF (read from the bytes, not the name)",
            },
            "metadata": {
                "type": "object",
                "additionalProperties": False,
                "description": "JSON: alt text, caption, credit, license and focal point",
                "properties": {
                    "alt": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
                    "caption": {"type": "string", "maxLength": 5000, "pattern": NO_NUL},
                    "credit": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
                    "license": {"type": "string", "maxLength": 200, "pattern": NO_NUL},
                    "focal_x": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                    "focal_y": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                },
            },
        },
    },
    "encoding": {"metadata": {"contentType": "application/json"}},
}
