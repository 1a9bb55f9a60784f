"""Who may do what. Every write operation declares its rule with `requires`; the
permission-matrix test reads those declarations from the app's routes.

Roles, lowest to highest: contributor (own drafts), author (own articles, may publish),
editor (all content and taxonomy), admin (also users and tokens).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, bindparam, or_, select

from cms.auth.principal import Principal, current_principal
from cms.models import Article, ArticleAuthor, ArticleStatus, Author, Role, User
from cms.models.base import UTCDateTime
from cms.problems import fail
from cms.services import DbSession
from cms.services.identifiers import unique_slug
from cms.services.visibility import public_now

F = TypeVar("F", bound=Callable[..., Any])

# Property-level authorization: article fields only editors may set, whoever owns the
# article. Importance, the credibility override and the publication (whose rating the
# article inherits) are the site's judgment, and rank and rate an article among all
# others; relevance is the site's note on why a resource matters. source_url claims a
# story for the whole site: its resource_id is the key feeds and imports deduplicate on,
# so a draft holding it would make ingest skip the real item. What describes the piece
# itself (title, body, excerpt, summary, key points, category, tags, cover, content
# type, canonical URL) stays with its authors.
EDITOR_ONLY_ARTICLE_FIELDS = frozenset(
    {"importance", "credibility_override", "publication_id", "relevance", "source_url"}
)


@dataclass(frozen=True)
class Rule:
    role: Role | None  # the lowest role allowed; None: the operation checks credentials itself
    own: bool = False  # below editor, only on objects the principal owns


def authenticates_itself(func: F) -> F:
    """Declare that an operation needs no role: it checks credentials of its own
    (login: a password; refresh: a refresh token)."""
    func.permission = Rule(None)  # type: ignore[attr-defined]
    return func


def requires(role: Role, *, own: bool = False) -> Callable[[F], F]:
    """Refuse anonymous callers (401) and lower roles (403); record the rule on the view."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                fail(401, "missing_token", "Send an Authorization: Bearer <token> header.")
            if not principal.at_least(role):
                fail(403, "forbidden", f"This needs the {role.value} role or higher.")
            return func(*args, **kwargs)

        wrapper.permission = Rule(role, own)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        fail(401, "missing_token", "Send an Authorization: Bearer <token> header.")
    return principal


def _owned_article_ids(user_id: int) -> Any:
    return (
        select(ArticleAuthor.article_id)
        .join(Author, Author.id == ArticleAuthor.author_id)
        .where(Author.user_id == user_id)
    )


# The clock as a bound parameter, for statements built once and run at many times:
# they are executed with {"now": utcnow()}.
NOW = bindparam("now", type_=UTCDateTime)


def article_visibility(
    principal: Principal | None, *, now: datetime | BindParameter[datetime] | None = None
) -> list[ColumnElement[bool]]:
    """Nobody reads the trash here (editors have its own list). Editors see the rest;
    others see what is public `now` (by default the current time; NOW to bind it at
    execution) and the articles they author."""
    kept = Article.trashed_at.is_(None)
    if principal is not None and principal.at_least(Role.EDITOR):
        return [kept]
    published = public_now(now)
    if principal is None or principal.user_id is None:
        return [kept, published]
    return [kept, or_(published, Article.id.in_(_owned_article_ids(principal.user_id)))]


def owns(principal: Principal, article: Article) -> bool:
    return principal.user_id is not None and any(
        link.author.user_id == principal.user_id for link in article.author_links
    )


def byline_of(session: DbSession, principal: Principal) -> Author | None:
    """The principal's byline, if they have one yet (a read: authorization only reads;
    the article write path makes the byline, see byline_owed)."""
    if principal.user_id is None:
        return None
    return session.scalar(select(Author).where(Author.user_id == principal.user_id))


def byline_owed(principal: Principal, data: dict[str, Any]) -> int | None:
    """After authorize_article_write allowed a create: the user whose byline the write
    must make and credit (below editor, on their first article), else None."""
    if principal.at_least(Role.EDITOR) or "author_ids" in data:
        return None
    return principal.user_id


def authorize_article_write(
    session: DbSession, principal: Principal, article: Article | None, data: dict[str, Any]
) -> dict[str, Any]:
    """Check a create (article None) or change; returns the data to apply. Only reads:
    a create by a caller with no byline yet comes back without author_ids, and the
    write credits them with the byline it makes (byline_owed, ensure_byline).

    Below editor: only one's own articles, staying among their authors, and none of
    the EDITOR_ONLY_ARTICLE_FIELDS changed; contributors only touch drafts and cannot
    publish, schedule or archive. A slug another article has becomes the next free one,
    as a generated slug does: a 409 would confirm articles the caller may not see.
    """
    if principal.at_least(Role.EDITOR):
        return data
    if article is not None and not owns(principal, article):
        fail(403, "forbidden", "You can only change articles you author.")
    _refuse_editor_only_changes(article, data)
    if principal.role is Role.CONTRIBUTOR:
        current = article.status if article is not None else ArticleStatus.DRAFT
        takedown = article.unpublish_at if article is not None else None
        if (
            current is not ArticleStatus.DRAFT
            or data.get("status", current) is not current
            or data.get("unpublish_at", takedown) != takedown
        ):
            fail(403, "forbidden", "Contributors edit drafts; an author or editor publishes.")
    if principal.user_id is None or session.get(User, principal.user_id) is None:
        fail(403, "forbidden", "Only editors may write articles without a byline.")
    byline = byline_of(session, principal)  # None: their first article makes it
    if "author_ids" in data and (byline is None or byline.id not in data["author_ids"]):
        fail(403, "forbidden", "You cannot remove yourself from an article's authors.")
    if article is None and "author_ids" not in data and byline is not None:
        data = {**data, "author_ids": [byline.id]}
    if "slug" in data:
        data = {**data, "slug": _slug_revealing_nothing(session, article, data["slug"])}
    return data


def _refuse_editor_only_changes(article: Article | None, data: dict[str, Any]) -> None:
    """403 naming each editor-only field the data would change. Sending the value a
    field already has is no change: a form may send back what it was given."""
    changed = [
        name
        for name in sorted(EDITOR_ONLY_ARTICLE_FIELDS & data.keys())
        if data[name] != (getattr(article, name) if article is not None else None)
    ]
    if changed:
        fail(
            403,
            "forbidden",
            "Only editors set these fields.",
            errors={name: ["Only editors may set this field."] for name in changed},
        )


def _slug_revealing_nothing(session: DbSession, article: Article | None, slug: str) -> str:
    """`slug`, or the next free `slug-2`... when another article has it (visible to the
    caller or not: the answer must not depend on what they cannot see)."""
    if article is not None and article.slug == slug:
        return slug
    if session.scalar(select(Article.id).where(Article.slug == slug)) is None:
        return slug
    return unique_slug(session, Article.slug, slug, max_length=200)


def authorize_article_delete(principal: Principal, article: Article) -> None:
    if principal.at_least(Role.EDITOR):
        return
    if principal.role is Role.CONTRIBUTOR or not owns(principal, article):
        fail(403, "forbidden", "Authors delete their own articles; editors any.")
