"""An article's way through its statuses, one explicit step at a time:

    draft -> in_review -> scheduled | published -> archived

A contributor submits a draft for review (or withdraws it); an author publishes,
schedules or archives their own articles, an editor anyone's. Each step is a change
through the article write path (versioned, revised, announced)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.models import Article, ArticleStatus, utcnow
from cms.services import DbSession
from cms.services.articles import update_article

S = ArticleStatus
LIVE = frozenset({S.PUBLISHED, S.SCHEDULED})


@dataclass(frozen=True)
class Step:
    name: str
    sources: frozenset[ArticleStatus]
    target: ArticleStatus


STEPS = {
    step.name: step
    for step in (
        Step("submit", frozenset({S.DRAFT}), S.IN_REVIEW),
        Step("withdraw", frozenset({S.IN_REVIEW}), S.DRAFT),
        Step("publish", frozenset({S.DRAFT, S.IN_REVIEW, S.SCHEDULED, S.ARCHIVED}), S.PUBLISHED),
        Step("schedule", frozenset({S.DRAFT, S.IN_REVIEW, S.PUBLISHED}), S.SCHEDULED),
        Step("archive", frozenset({S.PUBLISHED, S.SCHEDULED}), S.ARCHIVED),
    )
}


class InvalidTransitionError(Exception):
    code = "invalid_transition"


class UnpublishFirstError(InvalidTransitionError):
    """The step would put the article live at or after its own takedown time: the
    request is well-formed, the article's state is what stands in the way (a 409)."""

    code = "unpublish_at_first"


def take_step(
    session: DbSession, article: Article, name: str, published_at: datetime | None = None
) -> Article:
    step = STEPS[name]
    if name == "schedule" and published_at is not None and published_at <= utcnow():
        step = Step("schedule", step.sources, S.PUBLISHED)  # a time past: live, backdated
    if article.status not in step.sources:
        raise InvalidTransitionError(
            f"A {article.status.value} article cannot {name}; it can from: "
            + ", ".join(sorted(source.value for source in step.sources))
        )
    data: dict[str, Any] = {"status": step.target}
    if name == "publish" and (article.published_at is None or article.published_at > utcnow()):
        data["published_at"] = utcnow()  # now, not at a time it was once scheduled for
    if name == "schedule":
        data["published_at"] = published_at
    # Public from its published_at, or from now if that is past (a backdated publish).
    live_at = max(data.get("published_at") or article.published_at or utcnow(), utcnow())
    takedown = article.unpublish_at
    if step.target in LIVE and takedown and live_at >= takedown:
        raise UnpublishFirstError(
            f"It is to be taken down at {takedown.isoformat()} (unpublish_at), "
            "before it would go live: change or clear unpublish_at first."
        )
    return update_article(session, article, data)
