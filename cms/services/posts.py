"""The site's markdown posts: YAML front matter over an HTML or Markdown body, in and out.

Front matter keys: title, date, excerpt, coverImage, author, tags, category, source.
Export writes back the body as it was written (not the sanitized rendering), so an
import followed by an export gives the same values and the same body.
"""

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import frontmatter
import yaml
from slugify import slugify
from sqlalchemy import select

from cms.models import Article, ArticleStatus, Author, Category, Image, Publication, Tag
from cms.services import DbSession
from cms.services.articles import create_article, update_article
from cms.services.errors import InvalidContentError
from cms.services.identifiers import domain_of, resource_id_for, unique_slug

REQUIRED_KEYS = ("title", "date")


def import_post(session: DbSession, text: str) -> tuple[Article, bool]:
    """Create the article of a post, or update the one imported before: the same
    source (resource_id) first, else the same slug. Idempotent. (article, created)."""
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:  # safe loading: python tags are refused, not run
        raise InvalidContentError({"front_matter": [f"Not safe, valid YAML: {error}"]}) from None
    meta: dict[str, Any] = dict(post.metadata)
    missing = [key for key in REQUIRED_KEYS if not meta.get(key)]
    if missing:
        raise InvalidContentError({key: ["Missing front matter key."] for key in missing})
    source = meta.get("source")
    data: dict[str, Any] = {
        "title": str(meta["title"]),
        "excerpt": meta.get("excerpt"),
        "published_at": _parse_date(meta["date"]),
        "status": ArticleStatus.PUBLISHED,
        "source_url": source,
        "body_html": post.content,
        "author_ids": [_named(session, Author, name).id for name in _as_list(meta.get("author"))],
        "tag_ids": [_named(session, Tag, name).id for name in _as_list(meta.get("tags"))],
        "category_id": _named(session, Category, meta["category"]).id
        if meta.get("category")
        else None,
        "cover_image_id": _cover_image(session, meta["coverImage"]).id
        if meta.get("coverImage")
        else None,
    }
    if source:
        publication = session.scalar(
            select(Publication).where(Publication.domain == domain_of(source))
        )
        data["publication_id"] = publication.id if publication else None
    existing = (
        session.scalar(select(Article).where(Article.resource_id == resource_id_for(source)))
        if source
        else None
    )
    existing = existing or session.scalar(
        select(Article).where(Article.slug == slugify(data["title"], max_length=196))
    )
    if existing is not None:
        return update_article(session, existing, data), False
    return create_article(session, data), True


def _parse_date(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return _parse_date(datetime.fromisoformat(str(value)))
    except ValueError:
        raise InvalidContentError({"date": [f"Not a date: {value!r}."]}) from None


def _named(session: DbSession, model: type[Author | Tag | Category], name: Any) -> Any:
    """The author, tag or category called `name`, created when it does not exist yet."""
    name = str(name).strip()
    row = session.scalar(select(model).where(model.slug == slugify(name)))
    if row is None:
        row = model(name=name, slug=unique_slug(session, model.slug, name))
        session.add(row)
        session.flush()
    return row


def _cover_image(session: DbSession, url: str) -> Image:
    """A remote cover image, kept as-is; sizing parameters (w, h) give its dimensions."""
    image = session.scalar(select(Image).where(Image.url == url))
    if image is None:
        params = parse_qs(urlsplit(url).query)
        image = Image(url=url, width=_int(params.get("w")), height=_int(params.get("h")), alt="")
        session.add(image)
        session.flush()
    return image


def _int(values: list[str] | None) -> int | None:
    return int(values[0]) if values and values[0].isdigit() else None


def export_post(article: Article) -> str:
    """The article as a post file (its bylines, tags, category and cover loaded)."""
    meta: dict[str, Any] = {"title": article.title}
    if article.published_at is not None:
        meta["date"] = _format_date(article.published_at)
    if article.excerpt is not None:
        meta["excerpt"] = article.excerpt
    if article.cover_image is not None:
        meta["coverImage"] = article.cover_image.url
    authors = [link.author.name for link in article.author_links]
    if authors:
        meta["author"] = authors[0] if len(authors) == 1 else authors
    if article.tag_links:
        meta["tags"] = [link.tag.name for link in article.tag_links]
    if article.category is not None:
        meta["category"] = article.category.name
    if article.source_url:
        meta["source"] = article.source_url
    post = frontmatter.Post(article.body_source, **meta)
    return frontmatter.dumps(post, sort_keys=False, width=88) + "\n"


def _format_date(moment: datetime) -> str:
    """A plain date when the time is midnight UTC (as the site's posts write it)."""
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date().isoformat()
    return moment.isoformat().replace("+00:00", "Z")


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]
