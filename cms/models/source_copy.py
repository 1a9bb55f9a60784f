"""The text of an aggregated article's source page, kept for search and for the record.

Its fetch record (status, fetched_at, bytes, content hash) is on the article itself; the
text lives here so that reading articles never drags it along.
"""

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base


class SourceCopy(Base):
    __tablename__ = "source_copies"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
