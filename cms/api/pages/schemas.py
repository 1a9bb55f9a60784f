import marshmallow as ma

from cms.api.common import JsonNumber, Timestamps, slug_field


class CitedArticleSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)


class PageSchema(Timestamps):
    """An evergreen topic page and the articles it cites."""

    slug = slug_field()
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    type = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=60), metadata={"example": "Approach"}
    )
    quality = JsonNumber(allow_none=True, validate=ma.validate.Range(min=0, max=100))
    summary = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20_000))
    body_html = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=1_000_000),
        metadata={"description": "Sanitized on the way in"},
    )
    article_ids = ma.fields.List(
        ma.fields.Integer(strict=True),
        load_only=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "The articles this page cites"},
    )
    cited_articles = ma.fields.List(
        ma.fields.Nested(CitedArticleSchema),
        dump_only=True,
        attribute="public_citations",
        metadata={"description": "The published articles this page cites"},
    )
