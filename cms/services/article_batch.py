"""Creating many articles at once (feed ingest): the article service's bulk path.

One multi-row INSERT per table and batch through Core, not one ORM object per item (a
10 000-item feed is the benchmark, bench/ingest.py), with what the ORM path does for one
article done here for all: the defaults, free slugs, bylines and tags matched by name
(`name_slug`, as imports match them), search documents and `article.created` events."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from slugify import slugify
from sqlalchemy import insert, select

from cms.models import (
    Article,
    ArticleAuthor,
    ArticleStatus,
    ArticleTag,
    Author,
    BodyFormat,
    SearchDocument,
    Tag,
    utcnow,
)
from cms.models.outbox import record_created
from cms.services import DbSession
from cms.services.html import html_to_text
from cms.services.identifiers import name_slug, new_stable_id
from cms.services.search import indexable

T = TypeVar("T")
BATCH = 500  # articles per multi-row INSERT (and per IN list)


@dataclass(frozen=True)
class NewArticle:
    """An article to create in bulk; its body is sanitized HTML already."""

    title: str
    body_html: str
    status: ArticleStatus
    resource_id: str
    source_url: str | None = None
    excerpt: str | None = None
    published_at: datetime | None = None
    publication_id: int | None = None
    author_names: Sequence[str] = field(default_factory=tuple)
    tag_names: Sequence[str] = field(default_factory=tuple)


# Bylines and tags: link table, named table, the NewArticle field with the names, column.
_LINKS: tuple[tuple[type[Any], type[Author | Tag], str, str], ...] = (
    (ArticleAuthor, Author, "author_names", "author_id"),
    (ArticleTag, Tag, "tag_names", "tag_id"),
)


def create_articles(session: DbSession, new: Sequence[NewArticle]) -> list[int]:
    """Insert these articles (resource_ids not yet taken); their ids, in order. They go
    in batches; a byline or tag name is matched (or created) once, not once per batch."""
    # Name -> id of each byline and tag resolved so far, by model: names recur.
    named: dict[type[Author | Tag], dict[str, int]] = {model: {} for _, model, _, _ in _LINKS}
    ids: list[int] = []
    for start in range(0, len(new), BATCH):
        ids += _create_batch(session, new[start : start + BATCH], named)
    return ids


def _create_batch(
    session: DbSession, new: Sequence[NewArticle], named: dict[type[Author | Tag], dict[str, int]]
) -> list[int]:
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "slug": slug,
            "stable_id": new_stable_id(),
            "title": a.title,
            "excerpt": a.excerpt or None,
            "body_format": BodyFormat.HTML,
            "body_source": a.body_html,
            "body_html": a.body_html,
            "status": a.status,
            "published_at": a.published_at
            or (now if a.status is ArticleStatus.PUBLISHED else None),
            "source_url": a.source_url,
            "resource_id": a.resource_id,
            "publication_id": a.publication_id,
            "key_points": [],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for a, slug in zip(new, _slugs(session, [a.title for a in new]), strict=True)
    ]
    insert_rows(session, Article, rows)
    # Plain multi-row inserts, then the ids by their unique key: RETURNING with rows kept
    # in order makes SQLAlchemy insert one row per statement on SQLite.
    id_of = dict(
        session.execute(
            select(Article.resource_id, Article.id).where(
                Article.resource_id.in_([row["resource_id"] for row in rows])
            )
        ).all()
    )
    ids = [id_of[row["resource_id"]] for row in rows]
    for link, model, names, column in _LINKS:
        id_by_name = named[model]
        _resolve_names(session, model, {n for a in new for n in getattr(a, names)}, id_by_name)
        insert_rows(
            session,
            link,
            [
                {"article_id": article_id, column: linked_id, "position": position}
                for article_id, a in zip(ids, new, strict=True)
                for position, linked_id in enumerate(
                    _distinct(id_by_name[n] for n in getattr(a, names))
                )
            ],
        )
    insert_rows(
        session,
        SearchDocument,
        [
            {
                "article_id": article_id,
                "title": indexable(a.title),
                "excerpt": indexable(a.excerpt or ""),
                "summary": "",
                "body_text": indexable(html_to_text(a.body_html)),
                "tag_names": " ".join(indexable(name) for name in a.tag_names),
            }
            for article_id, a in zip(ids, new, strict=True)
        ],
    )
    record_created(session, Article, ids)
    return ids


def insert_rows(session: DbSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """One executemany, through Core (the ORM's bulk path costs more than the insert)."""
    if rows:
        session.execute(insert(model.__table__), rows)


def _slugs(session: DbSession, titles: list[str]) -> list[str]:
    """A free slug per title: "title", else the next free "title-N" counting the
    table and this batch. One query, plus one per base that is already taken."""
    bases = [slugify(title, max_length=196, word_boundary=True) or "item" for title in titles]
    taken = set(session.scalars(select(Article.slug).where(Article.slug.in_(set(bases)))))
    for base in {b for b in bases if b in taken}:  # slugify output has no LIKE wildcards
        taken.update(session.scalars(select(Article.slug).where(Article.slug.like(f"{base}-%"))))
    slugs = []
    for base in bases:
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _resolve_names(
    session: DbSession, model: type[Author | Tag], names: set[str], id_by_name: dict[str, int]
) -> None:
    """Add to `id_by_name` the ids of the authors or tags with these names it lacks,
    creating the missing ones (matched by slug, as imports match them)."""
    slug_of = {name: name_slug(name) for name in names if name not in id_by_name}
    if not slug_of:
        return
    found = dict(
        session.execute(
            select(model.slug, model.id).where(model.slug.in_(set(slug_of.values())))
        ).all()
    )
    missing: dict[str, str] = {}
    for name, slug in sorted(slug_of.items()):
        if slug not in found:
            missing.setdefault(slug, name)
    if missing:
        insert_rows(session, model, [{"slug": s, "name": n} for s, n in missing.items()])
        created = dict(
            session.execute(select(model.slug, model.id).where(model.slug.in_(missing))).all()
        )
        record_created(session, model, list(created.values()))
        found.update(created)
    id_by_name.update((name, found[slug]) for name, slug in slug_of.items())


def _distinct(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))
