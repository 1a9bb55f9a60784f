"""The text of an aggregated article's source page, kept for search and for the record.

Its fetch record (status, fetched_at, bytes, content hash) is on the article itself; the
text lives here so that reading articles never drags it along.
"""

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base


class SourceCopy(Base):
    __tablename__ = "source_copies"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    # What the page says about itself (trafilatura's metadata), when it says it.
    title: Mapped[str | None] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(300))
    published_on: Mapped[date | None]
    language: Mapped[str | None] = mapped_column(String(35))
