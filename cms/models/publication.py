"""Publications: the venues that aggregated articles come from."""

from sqlalchemy import CheckConstraint, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, Timestamped, Versioned


class Publication(Timestamped, Versioned, Base):
    __tablename__ = "publications"
    __table_args__ = (CheckConstraint("credibility BETWEEN 1 AND 5", name="credibility_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2048))
    # Host name without "www.", used to match articles to their venue by source URL.
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    credibility: Mapped[int] = mapped_column(SmallInteger)
    peer_reviewed: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(Text)
