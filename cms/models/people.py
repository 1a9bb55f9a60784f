"""Users (who log in) and authors (who are credited on articles)."""

import enum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms.models.base import Base, Timestamped, Versioned, string_enum


class Role(enum.StrEnum):
    """Lowest to highest; each role may do what the ones before it may."""

    CONTRIBUTOR = "contributor"
    AUTHOR = "author"
    EDITOR = "editor"
    ADMIN = "admin"


class User(Timestamped, Versioned, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password, role or active flag changes: every token issued before
    # carries the old number and stops working at once.
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    author: Mapped["Author | None"] = relationship(back_populates="user", uselist=False)

    @property
    def author_id(self) -> int | None:
        return self.author.id if self.author else None


class Author(Timestamped, Versioned, Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    website_url: Mapped[str | None] = mapped_column(String(2048))
    # The login behind this byline, if any: article ownership follows it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )

    user: Mapped[User | None] = relationship(back_populates="author")
