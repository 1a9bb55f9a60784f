"""Creating, changing and deleting articles: the one write path of the API, imports,
the CLI and jobs (many at once, for ingest: cms.services.article_batch). The caller
owns the transaction."""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import update

from cms.models import (
    Article,
    ArticleSlug,
    ArticleStatus,
    BodyFormat,
    Change,
    Tag,
    record_events,
    utcnow,
)
from cms.services import DbSession
from cms.services.article_relations import ARTICLE_RELATIONS, relation_showing
from cms.services.errors import InvalidContentError
from cms.services.html import render_markdown, sanitize_html
from cms.services.identifiers import new_stable_id, resource_id_for, unique_slug
from cms.services.publishing import publish_when_due
from cms.services.references import resolve_many, resolve_one
from cms.services.search import index_articles, reindex

# Fields copied as they are; everything else needs work (bodies, relations, derived ids).
_PLAIN_FIELDS = (
    "title",
    "excerpt",
    "status",
    "published_at",
    "unpublish_at",
    "source_url",
    "canonical_url",
    "content_type",
    "importance",
    "credibility_override",
    "summary",
    "key_points",
    "relevance",
    "slug",
)


def create_article(session: DbSession, data: dict[str, Any]) -> Article:
    article = Article(stable_id=new_stable_id(), body_format=BodyFormat.HTML, key_points=[])
    if "slug" not in data:
        data = {**data, "slug": unique_slug(session, Article.slug, data["title"], max_length=200)}
    _apply(session, article, data)
    session.add(article)
    session.flush()
    index_articles(session, [article])
    publish_when_due(session, article)
    return article


def update_article(session: DbSession, article: Article, data: dict[str, Any]) -> Article:
    schedule = (article.status, article.published_at, article.unpublish_at)
    old_slug, was_public = article.slug, article.status is ArticleStatus.PUBLISHED
    _apply(session, article, data)
    if article.slug != old_slug and was_public:
        # The old URL keeps working: it redirects here (the latest to give it up owns
        # it). Only a URL the public had: a draft's working slugs stay unknown.
        session.merge(ArticleSlug(slug=old_slug, article_id=article.id, retired_at=utcnow()))
    # Relation-only edits leave the row untouched; bump it so version and ETag move.
    article.updated_at = utcnow()
    session.flush()
    index_articles(session, [article])
    if (article.status, article.published_at, article.unpublish_at) != schedule:
        publish_when_due(session, article)
    return article


def trash_article(article: Article) -> None:
    """Move it to the trash: out of every read, its slug and resource_id still taken."""
    article.trashed_at = utcnow()


def restore_article(article: Article) -> None:
    article.trashed_at = None


def delete_article(session: DbSession, article: Article) -> None:
    """Delete it for good (its links, old slugs, search document and feed items go with
    it, by cascade); the caller's commit checks the version it read."""
    session.delete(article)


def touch_articles_using(session: DbSession, item: Any) -> Callable[[], None]:
    """Call before an author, tag, category, publication, image or page is created,
    changes or goes; call what it returns after (flushed). The articles showing the item
    get a new updated_at (so their ETags and cached renderings change) and, for tags, a
    fresh search document."""
    showing = _articles_showing(item)
    if showing is None:
        return _nothing
    # Now: a deleted item's links will be gone. (A new item is shown by nothing yet.)
    before = set(session.scalars(showing())) if item.id is not None else set()

    def finish() -> None:
        # ...and after: a new or edited page may cite articles it did not cite before.
        affected = before | (set(session.scalars(showing())) if item.id else set())
        if not affected:
            return
        session.execute(
            update(Article).where(Article.id.in_(affected)).values(updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        record_events(session, [Change("article", id_, "updated") for id_ in sorted(affected)])
        if isinstance(item, Tag):
            reindex(session, affected)

    return finish


def _articles_showing(item: Any) -> Callable[[], Any] | None:
    """A builder of the SELECT of ids of articles that show `item` (built when called:
    a new item has its id only once flushed)."""
    relation = relation_showing(item)
    if relation is None:
        return None
    return lambda: relation.showing(item.id)


def _nothing() -> None:
    pass


def _apply(session: DbSession, article: Article, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for field in _PLAIN_FIELDS:
        if field in data:
            setattr(article, field, data[field])
    if "body_html" in data:
        article.body_format = BodyFormat.HTML
        article.body_source = data["body_html"]
        article.body_html = sanitize_html(data["body_html"])
    elif "body_markdown" in data:
        article.body_format = BodyFormat.MARKDOWN
        article.body_source = data["body_markdown"]
        article.body_html = render_markdown(data["body_markdown"])
    if "source_url" in data:
        article.resource_id = resource_id_for(data["source_url"]) if data["source_url"] else None
    _apply_relations(session, article, data, errors)
    _check_status(article, errors)
    if errors:
        raise InvalidContentError(errors)


def _apply_relations(
    session: DbSession, article: Article, data: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    for relation in ARTICLE_RELATIONS:
        name, attribute = relation.write_field, relation.link_attribute
        if name is None or attribute is None or name not in data:
            continue
        if relation.new_link is None:
            setattr(
                article, attribute, resolve_one(session, relation.model, data[name], name, errors)
            )
            continue
        rows = resolve_many(session, relation.model, data[name], name, errors)
        links = _ordered_links(
            getattr(article, attribute), relation.item_column.key, rows, relation.new_link
        )
        setattr(article, attribute, links)


def _ordered_links(
    links: Sequence[Any], key: str, rows: Sequence[Any], make: Callable[[Any], Any]
) -> list[Any]:
    """Relink in the given order, keeping existing link rows (same primary key) in place."""
    existing = {getattr(link, key): link for link in links}
    ordered = []
    for position, row in enumerate(rows):
        link = existing.get(row.id) or make(row)
        link.position = position
        ordered.append(link)
    return ordered


def _check_status(article: Article, errors: dict[str, list[str]]) -> None:
    if article.status is ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = utcnow()
    if article.status is ArticleStatus.SCHEDULED and (
        article.published_at is None or article.published_at <= utcnow()
    ):
        errors["published_at"] = ["A scheduled article needs a published_at in the future."]
    if (
        article.unpublish_at is not None
        and article.published_at is not None
        and article.unpublish_at <= article.published_at
    ):
        errors["unpublish_at"] = ["unpublish_at must come after published_at."]
