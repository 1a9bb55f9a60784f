"""Tags and categories: the site's two ways of grouping articles."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, Timestamped, Versioned


class Tag(Timestamped, Versioned, Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)


class Category(Timestamped, Versioned, Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
