"""The site's markdown posts: YAML front matter over an HTML or Markdown body, in and out.

Front matter keys: title, date, excerpt, coverImage, author, tags, category, source.
Import validates every value exactly as the API would: the article by the schema of
POST /articles, names by the author, tag and category schemas, the cover by the image
schema; errors are keyed by front-matter key ("body" for the body). Export writes back
the body as it was written (not the sanitized rendering), so an import followed by an
export gives the same values and the same body.
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import frontmatter
import marshmallow as ma
from slugify import slugify
from sqlalchemy import select

from cms.models import Article, Author, Category, Image, Publication, Tag
from cms.services import DbSession
from cms.services.articles import create_article, update_article
from cms.services.errors import InvalidContentError
from cms.services.front_matter import read_front_matter
from cms.services.identifiers import domain_of, name_slug, resource_id_for

FRONT_MATTER_KEYS = (
    "title",
    "date",
    "excerpt",
    "coverImage",
    "author",
    "tags",
    "category",
    "source",
)
REQUIRED_KEYS = ("title", "date")
NAMED = ("author", "tags", "category")  # names of rows, made when new
MANY = ("author", "tags")  # one name, or a list of them
# Front-matter key -> the article field it sets (ArticleWriteSchema), and back.
ARTICLE_FIELDS = {
    "title": "title",
    "date": "published_at",
    "excerpt": "excerpt",
    "source": "source_url",
}
FRONT_MATTER_KEY_OF = {
    **{field: key for key, field in ARTICLE_FIELDS.items()},
    "body_html": "body",
    "author_ids": "author",
    "tag_ids": "tags",
    "category_id": "category",
    "cover_image_id": "coverImage",
}
REFUSED = "The post has invalid front matter or body; see errors."

# The API's schemas are imported where they are used: cms.api imports this module (its
# routes export posts), so importing them up here would be circular.


def import_post(session: DbSession, text: str) -> tuple[Article, bool]:
    """Create the article of a post, or update the one imported before: the same
    source (resource_id) first, else the same slug. Idempotent. (article, created).

    A refusal raises InvalidContentError with every field error at once. Whatever the
    schemas refuse is refused before any row is written; the service's own refusals
    (a tag named twice) come after, and the caller rolls back, as always."""
    meta, body = read_front_matter(text)
    errors = {**_key_errors(meta), **_nul_errors(meta, body)}
    names = {key: _checked_names(meta, key, errors) for key in NAMED}
    cover = _checked_cover(meta.get("coverImage"), errors)
    # The schema counts the names by their positions (its caps on authors and tags),
    # so no row is made for a post it refuses; the rows' ids replace the positions.
    positions = {
        "author_ids": [*range(len(names["author"]))],
        "tag_ids": [*range(len(names["tags"]))],
    }
    data = _checked_article({**_article_input(meta, body), **positions}, errors)
    if errors:
        raise InvalidContentError(errors, REFUSED)
    data.update(_relation_ids(session, names, cover))
    try:
        return _save(session, data)
    except InvalidContentError as error:  # e.g. "AI" and "ai": the same tag twice
        raise InvalidContentError(_keyed_by_front_matter(error.errors), REFUSED) from None


def _save(session: DbSession, data: dict[str, Any]) -> tuple[Article, bool]:
    if data.get("source_url"):
        publication = session.scalar(
            select(Publication).where(Publication.domain == domain_of(data["source_url"]))
        )
        data["publication_id"] = publication.id if publication else None
    existing = _imported_before(session, data)
    if existing is not None and existing.trashed_at is not None:
        raise InvalidContentError(
            {"title": ["The article this post updates is in the trash: restore it first."]}
        )
    if existing is not None:
        return update_article(session, existing, data), False
    return create_article(session, data), True


def _key_errors(meta: dict[Any, Any]) -> dict[str, Any]:
    """Unknown keys are refused, as the API refuses unknown fields: dropping them would
    lose what the post says (a `draft: true` would be published)."""
    errors: dict[str, Any] = {
        str(key): [f"Unknown front matter key; known: {', '.join(FRONT_MATTER_KEYS)}."]
        for key in meta
        if key not in FRONT_MATTER_KEYS
    }
    for key in REQUIRED_KEYS:
        if meta.get(key) is None:
            errors[key] = ["Missing front matter key."]
    return errors


def _nul_errors(meta: dict[Any, Any], body: str) -> dict[str, Any]:
    """NUL cannot be stored in PostgreSQL text: refused as the API refuses it in JSON
    (YAML writes it as an escape, "\\0")."""
    values = {**{str(key): value for key, value in meta.items()}, "body": body}
    return {
        key: ["Contains a NUL character."] for key, value in values.items() if _holds_nul(value)
    }


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for pair in value.items() for item in pair)
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


def _article_input(meta: dict[Any, Any], body: str) -> dict[str, Any]:
    """The request body POST /articles would get for this post."""
    data = {field: meta[key] for key, field in ARTICLE_FIELDS.items() if key in meta}
    if "published_at" in data:
        data["published_at"] = _utc_unless_zoned(data["published_at"])
    return {**data, "status": "published", "body_html": body}


def _utc_unless_zoned(value: Any) -> Any:
    """Posts write dates (midnight) and times without an offset, meaning UTC (as export
    writes them); anything unreadable goes to the schema as written, to be refused."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _checked_article(data: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    from cms.api.articles.schemas import ArticleWriteSchema

    try:
        loaded: dict[str, Any] = ArticleWriteSchema().load(data)
    except ma.ValidationError as error:
        for key, messages in _keyed_by_front_matter(error.messages_dict).items():
            errors.setdefault(key, messages)  # a missing key is reported as such
        return {}
    return loaded


def _keyed_by_front_matter(errors: dict[str, Any]) -> dict[str, Any]:
    return {FRONT_MATTER_KEY_OF.get(field, field): messages for field, messages in errors.items()}


def _checked_names(meta: dict[Any, Any], key: str, errors: dict[str, Any]) -> list[str]:
    """The author, tag or category names under `key`, each checked by the schema that
    creates such a row through the API (errors of a list by index)."""
    from cms.api.authors.schemas import AuthorSchema
    from cms.api.categories.schemas import CategorySchema
    from cms.api.tags.schemas import TagSchema

    schema = {"author": AuthorSchema, "tags": TagSchema, "category": CategorySchema}[key](
        only=("name",)
    )
    value = meta.get(key)
    if value is None or value == "":
        return []
    listed = key in MANY and isinstance(value, list)
    names, problems = [], {}
    for index, name in enumerate(value if listed else [value]):
        try:
            loaded = schema.load({"name": _stripped(name)})
        except ma.ValidationError as error:
            problems[index] = error.messages_dict["name"]
        else:
            names.append(loaded["name"])
    if problems:
        errors[key] = problems if listed else problems[0]
    return names


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _checked_cover(url: Any, errors: dict[str, Any]) -> dict[str, Any] | None:
    """A remote cover image, checked as POST /images checks one: its URL, and the
    dimensions its sizing parameters (w, h) give."""
    from cms.api.images.schemas import ImageSchema

    if url is None or url == "":
        return None
    try:
        cover: dict[str, Any] = ImageSchema(only=("url", "width", "height")).load(
            {"url": url, **_size_hints(url)}
        )
    except ma.ValidationError as error:
        errors["coverImage"] = error.messages_dict
        return None
    return cover


def _size_hints(url: Any) -> dict[str, int]:
    try:
        params = parse_qs(urlsplit(url).query) if isinstance(url, str) else {}
    except ValueError:  # e.g. an unclosed [IPv6 host: the schema refuses the URL
        return {}
    return {
        field: int(values[0])
        for field, values in (("width", params.get("w")), ("height", params.get("h")))
        if values and values[0].isascii() and values[0].isdigit()
    }


def _relation_ids(
    session: DbSession, names: dict[str, list[str]], cover: dict[str, Any] | None
) -> dict[str, Any]:
    categories = [_named(session, Category, name).id for name in names["category"]]
    return {
        "author_ids": [_named(session, Author, name).id for name in names["author"]],
        "tag_ids": [_named(session, Tag, name).id for name in names["tags"]],
        "category_id": categories[0] if categories else None,
        "cover_image_id": _cover_image(session, cover).id if cover else None,
    }


def _named(session: DbSession, model: type[Author | Tag | Category], name: str) -> Any:
    """The author, tag or category called `name`, created when it does not exist yet."""
    slug = name_slug(name)
    row = session.scalar(select(model).where(model.slug == slug))
    if row is None:
        row = model(name=name, slug=slug)
        session.add(row)
        session.flush()
    return row


def _cover_image(session: DbSession, cover: dict[str, Any]) -> Image:
    """The remote image at the cover's URL, registered (kept as-is) if new."""
    image = session.scalar(select(Image).where(Image.url == cover["url"]))
    if image is None:
        image = Image(alt="", **cover)
        session.add(image)
        session.flush()
    return image


def _imported_before(session: DbSession, data: dict[str, Any]) -> Article | None:
    source = data.get("source_url")
    existing = (
        session.scalar(select(Article).where(Article.resource_id == resource_id_for(source)))
        if source
        else None
    )
    return existing or session.scalar(
        select(Article).where(Article.slug == slugify(data["title"], max_length=196))
    )


def export_post(article: Article, *, as_written: bool = True) -> str:
    """The article as a post file (its bylines, tags, category and cover loaded): its
    body as written, for a lossless round trip, or else its sanitized HTML (valid
    Markdown too) for readers who must not get markup the sanitizer would remove."""
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
    post = frontmatter.Post(article.body_source if as_written else article.body_html, **meta)
    return frontmatter.dumps(post, sort_keys=False, width=88) + "\n"


def _format_date(moment: datetime) -> str:
    """A plain date when the time is midnight UTC (as the site's posts write it)."""
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date().isoformat()
    return moment.isoformat().replace("+00:00", "Z")
