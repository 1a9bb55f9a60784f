"""Article schemas: the read shape (documents the fast read path), writes, and list args."""

from typing import Any

import marshmallow as ma

from cms.api.common import (
    SLUG,
    AwareUTCDateTime,
    ListParam,
    PageArgs,
    PublicationReference,
    QueryInteger,
    Reference,
    content_type_field,
    http_url,
    one_of,
    slug_field,
)
from cms.api.openapi import AnyOf, ResponseSchema
from cms.models import ArticleStatus, StoryRole
from cms.services.article_relations import ARTICLE_RELATIONS
from cms.services.search import MAX_SEARCH_WORDS, search_terms

MAX_BODY_CHARS = 1_000_000


class AuthorReference(Reference):
    """An article's author, compact: enough for a byline link."""


class AuthorIncluded(AuthorReference):
    """An article's author in full (include=authors)."""

    EXTENDS_BASE = True
    bio = ma.fields.String(allow_none=True)
    avatar_url = ma.fields.String(allow_none=True)
    website_url = ma.fields.String(allow_none=True)


class TagReference(Reference):
    """An article's tag, compact."""


class TagIncluded(TagReference):
    """An article's tag in full (include=tags)."""

    EXTENDS_BASE = True
    description = ma.fields.String(allow_none=True)


class CategoryReference(Reference):
    """An article's category, compact."""


class CategoryIncluded(CategoryReference):
    """An article's category in full (include=category)."""

    EXTENDS_BASE = True
    description = ma.fields.String(allow_none=True)


class SrcsetCandidate(ResponseSchema):
    url = ma.fields.String()
    width = ma.fields.Integer()
    height = ma.fields.Integer()
    format = ma.fields.String(metadata={"example": "webp"})
    type = ma.fields.String(metadata={"example": "image/webp"})


class CoverImageReference(ResponseSchema):
    """An article's cover image, enough to render a teaser."""

    id = ma.fields.Integer()
    url = ma.fields.String()
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    alt = ma.fields.String()


class CoverImageIncluded(CoverImageReference):
    """An article's cover image in full (include=cover_image), with its renditions."""

    EXTENDS_BASE = True
    caption = ma.fields.String(allow_none=True)
    credit = ma.fields.String(allow_none=True)
    license = ma.fields.String(allow_none=True)
    srcset = ma.fields.List(
        ma.fields.Nested(SrcsetCandidate),
        metadata={"description": "Responsive renditions (empty for remote images)"},
    )


class PublicationIncluded(PublicationReference):
    """An article's publication in full (include=publication), with its rating."""

    EXTENDS_BASE = True
    url = ma.fields.String(allow_none=True)
    domain = ma.fields.String(allow_none=True)
    credibility = ma.fields.Integer(metadata={"minimum": 1, "maximum": 5})
    credibility_label = ma.fields.String()
    peer_reviewed = ma.fields.Boolean()
    description = ma.fields.String(allow_none=True)


class CitingPage(ResponseSchema):
    """A topic page citing the article."""

    id = ma.fields.Integer()
    slug = ma.fields.String()
    title = ma.fields.String()
    type = ma.fields.String(metadata={"example": "Approach"})
    quality = ma.fields.Float(allow_none=True, metadata={"example": 62.0})


class CitingPageIncluded(CitingPage):
    """A topic page citing the article, in full (include=cited_by)."""

    EXTENDS_BASE = True
    summary = ma.fields.String(allow_none=True)


class CredibilitySource(ResponseSchema):
    publication = ma.fields.Nested(PublicationReference)


class CredibilitySchema(ResponseSchema):
    value = ma.fields.Integer(metadata={"minimum": 1, "maximum": 5})
    label = ma.fields.String(metadata={"example": "Good"})
    description = ma.fields.String()
    inherited_from = ma.fields.Nested(
        CredibilitySource,
        allow_none=True,
        metadata={"description": "Where the rating comes from; null when set on the article"},
    )


class FetchSchema(ResponseSchema):
    """The cached copy of the source page."""

    status = ma.fields.Integer(allow_none=True, metadata={"description": "HTTP status"})
    fetched_at = ma.fields.AwareDateTime(allow_none=True)
    bytes = ma.fields.Integer(allow_none=True)
    content_hash = ma.fields.String(allow_none=True)


class StoryReference(ResponseSchema):
    """An article's story, compact: which one, and the article's role in it."""

    id = ma.fields.Integer()
    role = ma.fields.Enum(StoryRole, by_value=True)


class StoryIncluded(StoryReference):
    """An article's story in full (include=story)."""

    EXTENDS_BASE = True
    title = ma.fields.String()
    lead_article_id = ma.fields.Integer(allow_none=True)
    member_count = ma.fields.Integer()
    source_count = ma.fields.Integer()
    first_seen_at = ma.fields.AwareDateTime()
    last_seen_at = ma.fields.AwareDateTime()


class ArticleSchema(ResponseSchema):
    """An article as frontends see it. Relations are compact references, or full
    objects for those named in `include`."""

    id = ma.fields.Integer()
    slug = ma.fields.String()
    stable_id = ma.fields.String(metadata={"example": "sid_kPZ1jp40IG"})
    title = ma.fields.String()
    excerpt = ma.fields.String(allow_none=True)
    body_html = ma.fields.String(metadata={"description": "Sanitized HTML"})
    body_markdown = ma.fields.String(
        allow_none=True, metadata={"description": "The Markdown source, when written in it"}
    )
    status = ma.fields.Enum(ArticleStatus, by_value=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    unpublish_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the article is archived by itself"}
    )
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    authors = ma.fields.List(AnyOf(AuthorIncluded, AuthorReference))
    category = AnyOf(CategoryIncluded, CategoryReference, allow_none=True)
    tags = ma.fields.List(AnyOf(TagIncluded, TagReference))
    cover_image = AnyOf(CoverImageIncluded, CoverImageReference, allow_none=True)
    source_url = ma.fields.String(allow_none=True)
    canonical_url = ma.fields.String(allow_none=True)
    publication = AnyOf(PublicationIncluded, PublicationReference, allow_none=True)
    resource_id = ma.fields.String(
        allow_none=True, metadata={"description": "First 16 hex digits of SHA-256(source_url)"}
    )
    content_type = content_type_field(allow_none=True)
    importance = ma.fields.Integer(allow_none=True, metadata={"minimum": 0, "maximum": 100})
    credibility = ma.fields.Nested(CredibilitySchema, allow_none=True)
    summary = ma.fields.String(allow_none=True)
    key_points = ma.fields.List(ma.fields.String())
    relevance = ma.fields.String(allow_none=True)
    cited_by = ma.fields.List(AnyOf(CitingPageIncluded, CitingPage))
    fetch = ma.fields.Nested(FetchSchema, allow_none=True)
    story = AnyOf(StoryIncluded, StoryReference, allow_none=True)
    snippet = ma.fields.String(
        metadata={
            "sometimes": "with q",
            "description": "The best matching passage, safe HTML with <mark>",
        }
    )


class TrashedArticleSchema(ArticleSchema):
    """An article in the trash."""

    trashed_at = ma.fields.AwareDateTime()


class ArticleFieldsSchema(ArticleSchema):
    """An article of a list asked for with `fields`: id and the fields named."""

    ALWAYS_PRESENT = ("id",)


# Property-level authorization (cms.auth.permissions.EDITOR_ONLY_ARTICLE_FIELDS).
EDITORS_ONLY = "Editors only: a change by a contributor or author is a 403."


class ArticleWriteSchema(ma.Schema):
    """Fields an editor may set; some are editors' only. Anything else (id,
    resource_id, ...) is refused."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    slug = slug_field()
    excerpt = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    body_html = ma.fields.String(
        validate=ma.validate.Length(max=MAX_BODY_CHARS),
        metadata={"description": "Sanitized on the way in; exclusive with body_markdown"},
    )
    body_markdown = ma.fields.String(validate=ma.validate.Length(max=MAX_BODY_CHARS))
    status = ma.fields.Enum(ArticleStatus, by_value=True, load_default=ArticleStatus.DRAFT)
    published_at = AwareUTCDateTime(allow_none=True)
    unpublish_at = AwareUTCDateTime(
        allow_none=True,
        metadata={
            "description": "Archive the article at this time (an embargo's end, a takedown); "
            "after published_at"
        },
    )
    author_ids = ma.fields.List(
        ma.fields.Integer(strict=True),
        validate=ma.validate.Length(max=20),
        metadata={"description": "Authors, in credited order"},
    )
    category_id = ma.fields.Integer(strict=True, allow_none=True)
    tag_ids = ma.fields.List(ma.fields.Integer(strict=True), validate=ma.validate.Length(max=50))
    cover_image_id = ma.fields.Integer(strict=True, allow_none=True)
    publication_id = ma.fields.Integer(
        strict=True,
        allow_none=True,
        metadata={
            "description": f"The rated source (its credibility is inherited). {EDITORS_ONLY}"
        },
    )
    source_url = http_url(
        allow_none=True,
        metadata={
            "description": "Sets resource_id, the dedup key of feeds and imports: "
            f"claims the story for the site. {EDITORS_ONLY}"
        },
    )
    canonical_url = http_url(allow_none=True)
    content_type = content_type_field(allow_none=True)
    importance = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=0, max=100),
        metadata={"description": EDITORS_ONLY},
    )
    credibility_override = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={
            "description": f"Overrides the rating inherited from the publication. {EDITORS_ONLY}"
        },
    )
    summary = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20_000))
    key_points = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=1000)),
        validate=ma.validate.Length(max=50),
    )
    relevance = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=5000),
        metadata={"description": f"Why the resource matters to the site. {EDITORS_ONLY}"},
    )

    @ma.validates_schema
    def _one_body(self, data: dict[str, object], **_: object) -> None:
        if "body_html" in data and "body_markdown" in data:
            raise ma.ValidationError("Send body_html or body_markdown, not both.", "body_markdown")


ARTICLE_SORTS = (
    "published_at",
    "created_at",
    "updated_at",
    "title",
    "importance",
    "credibility",
    "id",
)
# The story is included as the relations are, but read apart (cms.api.articles.read).
ARTICLE_INCLUDES = (*(relation.name for relation in ARTICLE_RELATIONS), "story")
ARTICLE_FIELDS = tuple(ArticleSchema._declared_fields)


def _choices(
    values: tuple[str, ...], enum_name: str, description: str, **kwargs: Any
) -> ma.fields.Field[Any]:
    """An allow-listed list of values (an array of a named enum in the spec)."""
    return ListParam(
        one_of(values, enum_name=enum_name),
        validate=ma.validate.Length(max=len(values)),
        metadata={"description": description},
        **kwargs,
    )


def _few_enough_words(query: str) -> None:
    """Each search word is matched in every document: the cost is capped here."""
    if search_terms(query).word_count > MAX_SEARCH_WORDS:
        raise ma.ValidationError(f"At most {MAX_SEARCH_WORDS} distinct words (repeats count once).")


class ArticleIncludeArgs(ma.Schema):
    """Embedded relations, for one article or a list."""

    include = _choices(ARTICLE_INCLUDES, "ArticleInclude", "Embed these relations in full")


class ArticleQueryArgs(PageArgs, ArticleIncludeArgs):
    """Filters, sort, shaping, search and paging for article lists."""

    # Sparse fields are for lists only: one article is typed in full (ArticleSchema),
    # and a list's items are ArticleFields when `fields` is given.
    # `fields` would shadow Schema.fields: the attribute is named apart, the parameter not.
    field_names = _choices(
        ARTICLE_FIELDS,
        "ArticleField",
        "Only these fields (id is always there): the items are then ArticleFields",
        data_key="fields",
    )

    status = ma.fields.Enum(
        ArticleStatus,
        by_value=True,
        metadata={"description": "Anything but published needs an authenticated user"},
    )
    category = ma.fields.String(validate=SLUG, metadata={"description": "Category slug"})
    tag = ListParam(
        ma.fields.String(validate=SLUG),
        validate=ma.validate.Length(max=10),
        metadata={"description": "Tag slug; repeat for several"},
    )
    tag_match = one_of(
        ("any", "all"),
        enum_name="TagMatch",
        load_default="any",
        metadata={"description": "With several tags: any of them, or all of them"},
    )
    author = ma.fields.String(validate=SLUG, metadata={"description": "Author slug"})
    publication = ma.fields.String(validate=SLUG, metadata={"description": "Publication slug"})
    published_after = AwareUTCDateTime(metadata={"description": "Inclusive"})
    published_before = AwareUTCDateTime(metadata={"description": "Exclusive"})
    min_importance = QueryInteger(validate=ma.validate.Range(min=0, max=100))
    min_credibility = QueryInteger(
        validate=ma.validate.Range(min=1, max=5),
        metadata={
            "description": "Effective credibility: the article's override, else its "
            "publication's rating"
        },
    )
    content_type = content_type_field()
    resource_id = ma.fields.String(
        validate=ma.validate.Regexp(r"^[0-9a-f]{16}$", error="16 lower-case hex digits."),
        metadata={"description": "The aggregated item with this source (dedup key)"},
    )
    stable_id = ma.fields.String(
        validate=ma.validate.Regexp(r"^sid_[0-9A-Za-z]{10}$", error="sid_ + 10 base62."),
        metadata={"description": "The article with this stable id"},
    )
    aggregated = ma.fields.Boolean(
        metadata={"description": "true: taken from elsewhere (has source_url); false: own"}
    )
    q = ma.fields.String(
        validate=[ma.validate.Length(min=1, max=500), _few_enough_words],
        metadata={
            "description": "Full-text search over title, excerpt, summary, body and "
            'tags: words, "quoted phrases", -excluded. Results are ranked (unless '
            "`sort` is given) and carry a highlighted `snippet`. At most "
            f"{MAX_SEARCH_WORDS} distinct words (each word of a phrase counts; "
            "repeats count once); more is a 422."
        },
    )
    sort = ListParam(
        one_of((*ARTICLE_SORTS, *(f"-{key}" for key in ARTICLE_SORTS)), enum_name="ArticleSort"),
        validate=ma.validate.Length(min=1, max=4),
        metadata={
            "description": "Keys, `-` for descending; id breaks ties. "
            "Default: -published_at (relevance with q)."
        },
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=1000),
        metadata={
            "description": "Opaque keyset cursor from meta.next_cursor: deep pages "
            "cost what the first does, and inserts do not shift them"
        },
    )
    collapse_duplicates = ma.fields.Boolean(
        metadata={"description": "true: leave out syndicated copies (a story's duplicates)"}
    )
    count = ma.fields.Boolean(load_default=True, metadata={"description": "false skips meta.total"})
