"""What an article shows of other rows, described once.

Each relation names its field (also its `include` name), the rows it shows, the
columns of its compact and its full form, how an article links to them, the write
field that sets it, and so which articles show a given row. The read path builds its
queries from this, the write path resolves ids through it, and a change to a shown row
finds the articles to bump through it. A new relation is one more entry here (and its
two documented forms in the API's article schemas, which a test holds to this list).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from cms.models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Category,
    Image,
    Page,
    Publication,
    Rendition,
    Tag,
    page_citations,
)
from cms.services import DbSession
from cms.services.credibility import LABELS
from cms.services.media import CONTENT_TYPES
from cms.storage import storage

# Adds what full rows show beyond their columns (rows keyed by id; changed in place).
Completion = Callable[[DbSession, dict[int, dict[str, Any]]], None]


@dataclass(frozen=True)
class ArticleRelation:
    name: str  # the article's field and the `include` value
    model: type[Any]
    compact: tuple[Any, ...]  # columns of the compact reference (id first)
    full: tuple[Any, ...]  # more columns when included in full
    article_column: Any  # the column naming the article: on the link table, or Article.id
    item_column: Any  # the column naming the shown row: a link's, or the article's key
    many: bool = False
    order_by: tuple[Any, ...] = ()  # of a list, after the article
    write_field: str | None = None  # the write schema's id or ids field
    link_attribute: str | None = None  # the Article attribute the write sets
    new_link: Callable[[Any], Any] | None = None  # many: a link row to a shown row
    complete: Completion | None = None
    # To-one relations are joined into the article query under an alias.
    alias: Any = field(default=None, compare=False)

    def showing(self, item_id: int) -> Select[Any]:
        """The ids of the articles that show the row with this id."""
        return select(self.article_column).where(self.item_column == item_id)


# Statements run with the ids of a page of articles (or of shown rows) as `ids`.
IDS: Any = bindparam("ids", expanding=True)

_IMAGE_WIDTHS = (
    select(Rendition.image_id, Rendition.key, Rendition.width, Rendition.height, Rendition.format)
    .where(Rendition.image_id.in_(IDS), Rendition.kind == "width")
    .order_by(Rendition.image_id, Rendition.width, Rendition.format)
)


def _add_srcsets(session: DbSession, images: dict[int, dict[str, Any]]) -> None:
    """Each image's width renditions, at the URLs the storage serves them from (remote
    images have none)."""
    store = storage()
    grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = session.connection().execute(_IMAGE_WIDTHS, {"ids": list(images)})
    for image_id, key, width, height, format_ in rows:
        grouped[image_id].append(
            {
                "url": store.url(key),
                "width": width,
                "height": height,
                "format": format_,
                "type": CONTENT_TYPES[format_],
            }
        )
    for image_id, image in images.items():
        image["srcset"] = grouped.get(image_id, [])


def _add_credibility_labels(_session: DbSession, publications: dict[int, dict[str, Any]]) -> None:
    for publication in publications.values():
        publication["credibility_label"] = LABELS[publication["credibility"]]


def _to_one(
    name: str,
    model: type[Any],
    foreign_key: Any,
    compact: tuple[str, ...],
    full: tuple[str, ...],
    complete: Completion | None = None,
) -> ArticleRelation:
    return ArticleRelation(
        name=name,
        model=model,
        compact=tuple(getattr(model, column) for column in compact),
        full=tuple(getattr(model, column) for column in full),
        article_column=Article.id,
        item_column=foreign_key,
        write_field=foreign_key.key,
        link_attribute=name,
        complete=complete,
        alias=aliased(model),
    )


ARTICLE_RELATIONS: tuple[ArticleRelation, ...] = (
    ArticleRelation(
        name="authors",
        model=Author,
        compact=(Author.id, Author.slug, Author.name),
        full=(Author.bio, Author.avatar_url, Author.website_url),
        article_column=ArticleAuthor.article_id,
        item_column=ArticleAuthor.author_id,
        many=True,
        order_by=(ArticleAuthor.position,),
        write_field="author_ids",
        link_attribute="author_links",
        new_link=lambda author: ArticleAuthor(author=author),
    ),
    _to_one("category", Category, Article.category_id, ("id", "slug", "name"), ("description",)),
    ArticleRelation(
        name="tags",
        model=Tag,
        compact=(Tag.id, Tag.slug, Tag.name),
        full=(Tag.description,),
        article_column=ArticleTag.article_id,
        item_column=ArticleTag.tag_id,
        many=True,
        order_by=(ArticleTag.position,),
        write_field="tag_ids",
        link_attribute="tag_links",
        new_link=lambda tag: ArticleTag(tag=tag),
    ),
    _to_one(
        "cover_image",
        Image,
        Article.cover_image_id,
        ("id", "url", "width", "height", "alt"),
        ("caption", "credit", "license"),
        _add_srcsets,
    ),
    _to_one(
        "publication",
        Publication,
        Article.publication_id,
        ("id", "slug", "name"),
        ("url", "domain", "credibility", "peer_reviewed", "description"),
        _add_credibility_labels,
    ),
    # Pages cite articles: an article lists them, best first; pages set it, not articles.
    ArticleRelation(
        name="cited_by",
        model=Page,
        compact=(Page.id, Page.slug, Page.title, Page.type, Page.quality),
        full=(Page.summary,),
        article_column=page_citations.c.article_id,
        item_column=page_citations.c.page_id,
        many=True,
        order_by=(Page.quality.desc(), Page.id),
    ),
)
RELATIONS_BY_NAME = {relation.name: relation for relation in ARTICLE_RELATIONS}
TO_ONE = tuple(relation for relation in ARTICLE_RELATIONS if not relation.many)
TO_MANY = tuple(relation for relation in ARTICLE_RELATIONS if relation.many)


def relation_showing(item: Any) -> ArticleRelation | None:
    """The relation through which articles show this row, if any."""
    for relation in ARTICLE_RELATIONS:
        if isinstance(item, relation.model):
            return relation
    return None


def link_condition(relation: ArticleRelation) -> ColumnElement[bool]:
    """How a list relation's rows join its link table."""
    return relation.model.id == relation.item_column  # type: ignore[no-any-return]
