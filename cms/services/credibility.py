"""Credibility ratings 1-5: labels, descriptions and inheritance from publications."""

from typing import Any, TypedDict

from sqlalchemy import ColumnElement, func

from cms.models import Article, Publication

LABELS = {1: "Low", 2: "Mixed", 3: "Good", 4: "High", 5: "Gold standard"}

DESCRIPTIONS = {
    1: "Low quality. Unreliable or anonymous source with no editorial standards; "
    "verify every claim elsewhere.",
    2: "Mixed quality. Some editorial oversight, but a record of errors, sensationalism "
    "or strong bias.",
    3: "Good quality. Reputable source with community review or editorial standards, "
    "but less rigorous than peer-reviewed venues.",
    4: "High quality. Established outlet with rigorous editorial standards, fact-checking "
    "and a corrections policy.",
    5: "Gold standard. Peer-reviewed or equally rigorous venue with transparent methods "
    "and review.",
}


class Credibility(TypedDict):
    value: int
    label: str
    description: str
    inherited_from: dict[str, Any] | None


def credibility_column(publication: Any = Publication) -> ColumnElement[Any]:
    """The same rule in SQL: the article's override, else its (joined) publication's."""
    return func.coalesce(Article.credibility_override, publication.credibility)


def effective_credibility(
    override: int | None, publication: dict[str, Any] | None
) -> Credibility | None:
    """The article's own rating if set, else its publication's (and say which)."""
    if override is not None:
        return _rating(override, None)
    if publication is not None:
        reference = {k: publication[k] for k in ("id", "slug", "name")}
        return _rating(publication["credibility"], {"publication": reference})
    return None


def _rating(value: int, inherited_from: dict[str, Any] | None) -> Credibility:
    return {
        "value": value,
        "label": LABELS[value],
        "description": DESCRIPTIONS[value],
        "inherited_from": inherited_from,
    }
