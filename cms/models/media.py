"""Images: cover images and other media (metadata; stored files come with uploads)."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, Timestamped


class Image(Timestamped, Base):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    width: Mapped[int | None]
    height: Mapped[int | None]
    alt: Mapped[str] = mapped_column(String(500), default="")
    caption: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[str | None] = mapped_column(String(500))
    license: Mapped[str | None] = mapped_column(String(200))
