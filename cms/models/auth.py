"""Machine API tokens, and the database stores of revocations and password guesses."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cms.models.base import Base, Timestamped, string_enum, utcnow
from cms.models.people import Role


class ApiToken(Timestamped, Base):
    """A long-lived bearer token for a machine (ingest bot, build server).

    Only the SHA-256 of the secret is stored: the secret is shown once, at creation.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class RevokedToken(Base):
    """A revoked JWT id or token family, kept until the tokens would have expired anyway."""

    __tablename__ = "revoked_tokens"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """A password guess counted against an account or a client address until it expires.

    Rows are written when a guess starts and deleted when it proves right, so what
    remains are the wrong guesses (and those still being checked). See cms.auth.throttle.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_expires_at", "key", "expires_at"),)

    # One guess counts under several keys ("account:<e-mail>", "address:<ip>").
    guess: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PreviewToken(Base):
    """A short-lived link for one unpublished article (or one of its revisions):
    whoever holds it reads that and nothing else (not a credential for anything). Only
    the SHA-256 of the secret is stored."""

    __tablename__ = "preview_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revision_number: Mapped[int | None]  # None: the article as it is now
