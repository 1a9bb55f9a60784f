import marshmallow as ma

from cms.api.common import Timestamps, http_url, json_boolean, slug_field
from cms.api.openapi import DOMAIN
from cms.services.credibility import LABELS


class PublicationSchema(Timestamps):
    """A venue articles come from, with its credibility rating."""

    slug = slug_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    url = http_url(allow_none=True)
    domain = ma.fields.String(
        allow_none=True,
        validate=[
            ma.validate.Length(max=253),
            ma.validate.Regexp(DOMAIN, error="Not a host name."),
        ],
        metadata={
            "description": "Matched against article source URLs; taken from url when omitted",
            "example": "techcrunch.com",
        },
    )
    credibility = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "; ".join(f"{k} {v}" for k, v in LABELS.items())},
    )
    credibility_label = ma.fields.Function(
        lambda publication: LABELS[publication.credibility],
        dump_only=True,
        metadata={"type": "string"},
    )
    peer_reviewed = json_boolean(load_default=False)
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=10_000))
