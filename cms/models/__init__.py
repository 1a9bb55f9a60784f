"""The content model. Importing this package registers every table on Base.metadata."""

from cms.models.article import (
    CONTENT_TYPES,
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleStatus,
    ArticleTag,
    BodyFormat,
)
from cms.models.audit import AuditEntry
from cms.models.auth import ApiToken, PreviewToken, RevokedToken
from cms.models.base import Base, utcnow
from cms.models.feed import Feed, FeedItem, FetchOutcome, ItemStatus
from cms.models.job import Job, JobState, TaskLock
from cms.models.media import Image, ImageStatus, Rendition
from cms.models.outbox import Change, ContentEvent, record_events
from cms.models.page import Page, page_citations
from cms.models.people import Author, Role, User
from cms.models.publication import Publication
from cms.models.revision import ArticleRevision
from cms.models.search import ContentState, SearchDocument
from cms.models.source_copy import SourceCopy
from cms.models.story import Story, StoryMember, StoryRole
from cms.models.taxonomy import Category, Tag
from cms.models.versioning import touch
from cms.models.webhook import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from cms.models.websub import SubscriptionState, WebSubSubscription

__all__ = [
    "CONTENT_TYPES",
    "ApiToken",
    "Article",
    "ArticleAuthor",
    "ArticleRevision",
    "ArticleSlug",
    "ArticleStatus",
    "ArticleTag",
    "AuditEntry",
    "Author",
    "Base",
    "BodyFormat",
    "Category",
    "Change",
    "ContentEvent",
    "ContentState",
    "DeliveryStatus",
    "Feed",
    "FeedItem",
    "FetchOutcome",
    "Image",
    "ImageStatus",
    "ItemStatus",
    "Job",
    "JobState",
    "Page",
    "PreviewToken",
    "Publication",
    "Rendition",
    "RevokedToken",
    "Role",
    "SearchDocument",
    "SourceCopy",
    "Story",
    "StoryMember",
    "StoryRole",
    "SubscriptionState",
    "Tag",
    "TaskLock",
    "User",
    "WebSubSubscription",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "page_citations",
    "record_events",
    "touch",
    "utcnow",
]
