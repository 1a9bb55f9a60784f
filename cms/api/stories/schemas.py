"""Story schemas: what lists and one story show, list arguments, editors' operations."""

import marshmallow as ma

from cms.api.common import (
    SLUG,
    AwareUTCDateTime,
    ListParam,
    PageArgs,
    PublicationReference,
    QueryInteger,
    one_of,
)
from cms.api.openapi import ResponseSchema
from cms.extensions import DB_INT_MAX
from cms.models import StoryRole

STORY_SORTS = ("last_seen_at", "-last_seen_at", "member_count", "-member_count")


class StoryArticle(ResponseSchema):
    """An article of a story, enough for a timeline entry or a teaser."""

    id = ma.fields.Integer()
    slug = ma.fields.String()
    title = ma.fields.String()
    published_at = ma.fields.AwareDateTime()
    publication = ma.fields.Nested(PublicationReference, allow_none=True)
    credibility = ma.fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": 5})


class PublicationCount(ResponseSchema):
    publication = ma.fields.Nested(PublicationReference)
    count = ma.fields.Integer()


class CredibilityCount(ResponseSchema):
    level = ma.fields.Integer(metadata={"minimum": 1, "maximum": 5})
    count = ma.fields.Integer()


class SpreadSchema(ResponseSchema):
    """How the coverage spreads over publications and their credibility ratings."""

    publications = ma.fields.List(ma.fields.Nested(PublicationCount))
    credibility = ma.fields.List(ma.fields.Nested(CredibilityCount))


class StorySchema(ResponseSchema):
    """One event's coverage across publications."""

    id = ma.fields.Integer()
    title = ma.fields.String(metadata={"description": "The lead article's title"})
    lead = ma.fields.Nested(StoryArticle, allow_none=True)
    lead_pinned = ma.fields.Boolean(metadata={"description": "An editor chose the lead"})
    locked = ma.fields.Boolean(metadata={"description": "Ingest adds no members"})
    first_seen_at = ma.fields.AwareDateTime()
    last_seen_at = ma.fields.AwareDateTime()
    member_count = ma.fields.Integer()
    source_count = ma.fields.Integer(metadata={"description": "Distinct publications"})
    single_source = ma.fields.Boolean(metadata={"description": "One publication or none"})
    top_credibility = ma.fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": 5})
    spread = ma.fields.Nested(SpreadSchema)


class StoryMemberSchema(ResponseSchema):
    role = ma.fields.Enum(StoryRole, by_value=True)
    duplicate_of = ma.fields.Integer(
        allow_none=True, metadata={"description": "The original's article id, for a copy"}
    )
    article = ma.fields.Nested(StoryArticle)


class StoryDetailSchema(StorySchema):
    """A story with the timeline of its public members, oldest first."""

    members = ma.fields.List(ma.fields.Nested(StoryMemberSchema))


class StoryReference(ResponseSchema):
    """An article's story, compact."""

    id = ma.fields.Integer()
    role = ma.fields.Enum(StoryRole, by_value=True)


class StoryQueryArgs(PageArgs):
    """Filters, sort and paging of stories."""

    since = AwareUTCDateTime(metadata={"description": "Last seen at or after (inclusive)"})
    until = AwareUTCDateTime(metadata={"description": "First seen before (exclusive)"})
    category = ma.fields.String(
        validate=SLUG, metadata={"description": "Some member is in this category (slug)"}
    )
    tag = ListParam(
        ma.fields.String(validate=SLUG),
        validate=ma.validate.Length(max=10),
        metadata={"description": "Some member has any of these tags (slugs)"},
    )
    min_sources = QueryInteger(
        validate=ma.validate.Range(min=1, max=1000),
        metadata={"description": "At least this many distinct publications"},
    )
    min_credibility = QueryInteger(
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "Some member is rated at least this"},
    )
    sort = one_of(
        STORY_SORTS,
        enum_name="StorySort",
        load_default="-last_seen_at",
        metadata={"description": "By last update or by size; `-` for descending"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Opaque keyset cursor from meta.next_cursor"},
    )
    count = ma.fields.Boolean(load_default=True, metadata={"description": "false skips meta.total"})


class MergeSchema(ma.Schema):
    story_id = ma.fields.Integer(
        strict=True,
        required=True,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
        metadata={"description": "The story whose members move into this one (it goes)"},
    )


class SplitSchema(ma.Schema):
    article_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=DB_INT_MAX)),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Members to take out into a new story"},
    )


class PinLeadSchema(ma.Schema):
    article_id = ma.fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=DB_INT_MAX),
        metadata={"description": "The member to lead; null lets the rule choose again"},
    )


class LockSchema(ma.Schema):
    locked = ma.fields.Boolean(required=True)


class RelatedQueryArgs(ma.Schema):
    limit = QueryInteger(load_default=10, validate=ma.validate.Range(min=1, max=50))


class RelatedArticle(StoryArticle):
    """An article related to another: in its story, or similar in words."""

    EXTENDS_BASE = True
    relation = one_of(("same_story", "similar"), enum_name="RelatedBy")
