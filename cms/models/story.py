"""Stories: one event's coverage across publications, grouped as it is ingested.

Every clustered (published) article is a member of exactly one story; a story of one
article is a story too (it is where the next article on that event lands). What lists
filter and sort on is kept on the story row (counts, first/last seen), recomputed from
its members whenever they change, so a list never aggregates members per request.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, Timestamped, string_enum, utcnow


class StoryRole(enum.StrEnum):
    LEAD = "lead"
    COVERAGE = "coverage"
    DUPLICATE = "duplicate"  # a syndicated copy: the same text under another URL


class Story(Timestamped, Base):
    __tablename__ = "stories"
    __table_args__ = (
        Index("ix_stories_last_seen", "last_seen_at", "id"),
        Index("ix_stories_size", "member_count", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))  # the lead's title
    lead_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    # An editor chose the lead: the rule no longer picks it (until they unpin).
    lead_pinned: Mapped[bool] = mapped_column(default=False)
    # An editor locked the story: ingest neither adds members to it nor moves any out.
    locked: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)  # distinct publications
    top_credibility: Mapped[int | None] = mapped_column(SmallInteger)
    # {"<publication id>": n} and {"<1..5>": n}: the spread, without a per-list query.
    publication_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credibility_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)


class StoryMember(Base):
    """An article's place in its story."""

    __tablename__ = "story_members"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    role: Mapped[StoryRole] = mapped_column(string_enum(StoryRole, "story_role"))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    # Put here by an editor (merge, split): re-clustering leaves it where it is.
    placed_by_editor: Mapped[bool] = mapped_column(default=False)
    similarity: Mapped[float | None] = mapped_column(Float)
    # What clustering compares, kept so candidates cost no re-parsing: the title's
    # significant words, "|", the lede's (cms.services.clustering.fingerprint).
    words: Mapped[str] = mapped_column(Text, default="")
    # 64-bit SimHash of the body's shingles (signed, as databases store it).
    body_simhash: Mapped[int | None] = mapped_column(BigInteger)
    body_words: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
