"""Every change to what a row shows moves its version, so its ETag moves too.

The ORM bumps a version (`version_id_col`) only when a column of the row's own table
changes. But rows show more than their columns: a page its citations and the titles of
the articles it cites, a user the byline linked to it, a feed its publication's name.
Before each flush, every versioned row whose shown things changed is touched: its
UPDATE then runs (with the version predicate) and bumps version and updated_at. Being
an ORM event, this holds for every writer: the API, the CLI, ingest and jobs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, event, inspect, select
from sqlalchemy.orm import Session

from cms.models.article import Article
from cms.models.base import utcnow
from cms.models.feed import Feed
from cms.models.page import Page, page_citations
from cms.models.people import Author, User
from cms.models.publication import Publication


@dataclass(frozen=True)
class ShownElsewhere:
    """Rows of `model` are shown by other rows, the `owners` query finds them: when one
    of `attributes` changes, or the row is deleted, its owners are touched."""

    model: type[Any]
    attributes: tuple[str, ...]
    owners: Callable[[Any], Select[Any]]


def touch(row: Any) -> None:
    """Make the row's next flush an UPDATE: new version, new updated_at."""
    row.updated_at = utcnow()


def _every_value(row: Any, key: str) -> set[Any]:
    """The values the attribute had and has in this flush (nothing is loaded)."""
    return set(inspect(row).attrs[key].history.sum()) - {None}


def _citing_pages(article: Article) -> Select[Any]:
    return select(Page).join(page_citations).where(page_citations.c.article_id == article.id)


def _linked_users(author: Author) -> Select[Any]:
    """The login a byline leaves and the one it joins: user_id is synced from the
    `user` relationship only during the flush, so both are read."""
    ids = _every_value(author, "user_id") | {user.id for user in _every_value(author, "user")}
    return select(User).where(User.id.in_(ids - {None}))


def _feeds_of(publication: Publication) -> Select[Any]:
    return select(Feed).where(Feed.publication_id == publication.id)


SHOWN_ELSEWHERE = (
    # A page lists its published citations (id, slug, title), newest first; a deleted
    # article leaves the list (its citation row cascades away in the database).
    ShownElsewhere(
        Article,
        ("slug", "title", "status", "published_at", "unpublish_at", "trashed_at"),
        _citing_pages,
    ),
    # A user shows the byline linked to it (author_id).
    ShownElsewhere(Author, ("user", "user_id"), _linked_users),
    # A feed shows its publication as a reference (id, slug, name).
    ShownElsewhere(Publication, ("slug", "name"), _feeds_of),
)


def _changed_elsewhere(session: Session, row: Any, rule: ShownElsewhere) -> bool:
    if row in session.deleted:
        return True
    state = inspect(row)
    return any(state.attrs[key].history.has_changes() for key in rule.attributes)


def _owners_to_touch(session: Session) -> set[Any]:
    # Rows whose relations changed (page citations, a user's byline): their own columns
    # may be untouched, so the ORM would not bump them.
    owners = {
        row
        for row in session.dirty
        if inspect(row).mapper.version_id_col is not None and session.is_modified(row)
    }
    # Rows that show a changed or deleted row. A new row is shown by nothing yet.
    for row in (*session.dirty, *session.deleted):
        for rule in SHOWN_ELSEWHERE:
            if isinstance(row, rule.model) and _changed_elsewhere(session, row, rule):
                owners.update(session.scalars(rule.owners(row)))
    return owners - set(session.deleted)


@event.listens_for(Session, "before_flush")
def _touch_owners(session: Session, *_: Any) -> None:
    for owner in _owners_to_touch(session):
        touch(owner)
