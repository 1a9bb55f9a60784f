import marshmallow as ma

from cms.api.common import PublicationReference, Timestamps, http_url, json_boolean
from cms.models import FetchOutcome, ItemStatus


class FeedSchema(Timestamps):
    """An RSS or Atom feed that is ingested, and how its last fetch went."""

    url = http_url(
        required=True,
        metadata={"example": "https://techcrunch.com/feed/"},
    )
    title = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=300),
        metadata={"description": "Taken from the feed on its first fetch when omitted"},
    )
    publication_id = ma.fields.Integer(
        allow_none=True,
        strict=True,
        load_only=True,
        metadata={"description": "Credit every item to this publication (else: by domain)"},
    )
    publication = ma.fields.Nested(PublicationReference, dump_only=True, allow_none=True)
    interval_minutes = ma.fields.Integer(
        load_default=60,
        strict=True,
        validate=ma.validate.Range(min=1, max=7 * 24 * 60),
        metadata={"description": "How often the poll cycle (and `flask cms ingest`) fetches it"},
    )
    is_active = json_boolean(load_default=True)
    item_status = ma.fields.Enum(
        ItemStatus,
        by_value=True,
        load_default=ItemStatus.DRAFT,
        metadata={"description": "What new items become: drafts to review, or published"},
    )
    cache_sources = json_boolean(
        load_default=False,
        metadata={"description": "Also keep a copy of each new item's source page"},
    )
    last_fetched_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    last_status = ma.fields.Enum(FetchOutcome, by_value=True, dump_only=True, allow_none=True)
    last_error = ma.fields.String(dump_only=True, allow_none=True)
    last_warning = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The last fetch was read, but the document is not well-formed "
            "(undefined entities, a wrong charset...): what was recovered from"
        },
    )
    last_new_items = ma.fields.Integer(dump_only=True, allow_none=True)
    consecutive_failures = ma.fields.Integer(dump_only=True)
    next_fetch_at = ma.fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the poll cycle fetches it next: after `interval_minutes`, "
            "or longer when the feed asks (`min_interval_minutes`, Cache-Control max-age); "
            "after a failure, when Retry-After says (429, 503), else a backoff doubling "
            "with each failure in a row, with jitter. Null: at the next cycle"
        },
    )
    freshness_seconds = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "How long its items take from their published date to the API: "
            "a moving average of each fetch's (or push's) median over its new items (the "
            "first fetch, a backfill, is not counted). `GET /feeds?sort=freshness` lists "
            "the slowest first. Null: not measured yet"
        },
    )
    freshness_items = ma.fields.Integer(
        dump_only=True, metadata={"description": "How many items freshness was measured on"}
    )
    min_interval_minutes = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The feed's own minimum interval, from its last document "
            "(`<ttl>`, `sy:updatePeriod` / `sy:updateFrequency`; a day at most)"
        },
    )
