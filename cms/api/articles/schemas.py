"""Article schemas: the read shape (documents the fast read path), writes, and list args."""

import marshmallow as ma

from cms.api.common import PageArgs, Reference, slug_field
from cms.models import CONTENT_TYPES, ArticleStatus

MAX_BODY_CHARS = 1_000_000


class CoverImageReference(ma.Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    alt = ma.fields.String(required=True)


class PageReference(ma.Schema):
    """A topic page citing the article."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"example": "Approach"})
    quality = ma.fields.Float(allow_none=True, metadata={"example": 62.0})


class CredibilitySchema(ma.Schema):
    value = ma.fields.Integer(required=True, metadata={"minimum": 1, "maximum": 5})
    label = ma.fields.String(required=True, metadata={"example": "Good"})
    description = ma.fields.String(required=True)
    inherited_from = ma.fields.Dict(
        allow_none=True,
        metadata={"description": '{"publication": reference} when not set on the article'},
    )


class FetchSchema(ma.Schema):
    """The cached copy of the source page."""

    status = ma.fields.Integer(allow_none=True, metadata={"description": "HTTP status"})
    fetched_at = ma.fields.AwareDateTime(allow_none=True)
    bytes = ma.fields.Integer(allow_none=True)
    content_hash = ma.fields.String(allow_none=True)


class ArticleSchema(ma.Schema):
    """An article as frontends see it."""

    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    stable_id = ma.fields.String(required=True, metadata={"example": "sid_kPZ1jp40IG"})
    title = ma.fields.String(required=True)
    excerpt = ma.fields.String(allow_none=True)
    body_html = ma.fields.String(required=True, metadata={"description": "Sanitized HTML"})
    body_markdown = ma.fields.String(
        allow_none=True, metadata={"description": "The Markdown source, when written in it"}
    )
    status = ma.fields.Enum(ArticleStatus, by_value=True, required=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    authors = ma.fields.List(ma.fields.Nested(Reference), required=True)
    category = ma.fields.Nested(Reference, allow_none=True)
    tags = ma.fields.List(ma.fields.Nested(Reference), required=True)
    cover_image = ma.fields.Nested(CoverImageReference, allow_none=True)
    source_url = ma.fields.String(allow_none=True)
    canonical_url = ma.fields.String(allow_none=True)
    publication = ma.fields.Nested(Reference, allow_none=True)
    resource_id = ma.fields.String(
        allow_none=True, metadata={"description": "First 16 hex digits of SHA-256(source_url)"}
    )
    content_type = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(CONTENT_TYPES))
    importance = ma.fields.Integer(allow_none=True)
    credibility = ma.fields.Nested(CredibilitySchema, allow_none=True)
    summary = ma.fields.String(allow_none=True)
    key_points = ma.fields.List(ma.fields.String(), required=True)
    relevance = ma.fields.String(allow_none=True)
    cited_by = ma.fields.List(ma.fields.Nested(PageReference), required=True)
    fetch = ma.fields.Nested(FetchSchema, allow_none=True)


def _url(**kwargs: object) -> ma.fields.Url:
    return ma.fields.Url(validate=ma.validate.Length(max=2048), **kwargs)  # type: ignore[arg-type]


class ArticleWriteSchema(ma.Schema):
    """Fields an editor may set. Anything else (id, resource_id, ...) is refused."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    slug = slug_field()
    excerpt = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    body_html = ma.fields.String(
        validate=ma.validate.Length(max=MAX_BODY_CHARS),
        metadata={"description": "Sanitized on the way in; exclusive with body_markdown"},
    )
    body_markdown = ma.fields.String(validate=ma.validate.Length(max=MAX_BODY_CHARS))
    status = ma.fields.Enum(ArticleStatus, by_value=True, load_default=ArticleStatus.DRAFT)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    author_ids = ma.fields.List(
        ma.fields.Integer(strict=True),
        validate=ma.validate.Length(max=20),
        metadata={"description": "Authors, in credited order"},
    )
    category_id = ma.fields.Integer(strict=True, allow_none=True)
    tag_ids = ma.fields.List(ma.fields.Integer(strict=True), validate=ma.validate.Length(max=50))
    cover_image_id = ma.fields.Integer(strict=True, allow_none=True)
    publication_id = ma.fields.Integer(strict=True, allow_none=True)
    source_url = _url(allow_none=True)
    canonical_url = _url(allow_none=True)
    content_type = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(CONTENT_TYPES))
    importance = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=0, max=100)
    )
    credibility_override = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "Overrides the rating inherited from the publication"},
    )
    summary = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20_000))
    key_points = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=1000)),
        validate=ma.validate.Length(max=50),
    )
    relevance = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))

    @ma.validates_schema
    def _one_body(self, data: dict[str, object], **_: object) -> None:
        if "body_html" in data and "body_markdown" in data:
            raise ma.ValidationError("Send body_html or body_markdown, not both.", "body_markdown")


class ArticleQueryArgs(PageArgs):
    status = ma.fields.Enum(
        ArticleStatus,
        by_value=True,
        metadata={"description": "Anything but published needs an authenticated user"},
    )
