"""User accounts: creation and password checks (argon2id)."""

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from cms.models import Author, Role, User
from cms.services import DbSession
from cms.services.errors import InvalidContentError
from cms.services.identifiers import unique_slug

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: DbSession, *, email: str, password: str, role: Role, display_name: str | None = None
) -> User:
    email = normalize_email(email)
    user = User(
        email=email,
        password_hash=_hasher.hash(password),
        role=role,
        display_name=display_name or email.split("@")[0],
    )
    session.add(user)
    session.flush()
    return user


def invalidate_tokens(user: User) -> None:
    """Every token issued to the user so far stops working (they carry the old number)."""
    # A user not flushed yet has no column default applied: None counts as 0.
    user.token_generation = (user.token_generation or 0) + 1


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    invalidate_tokens(user)


def apply_user_changes(session: DbSession, user: User, data: dict[str, Any]) -> None:
    """An admin's create or edit. Password, role or activity changes revoke tokens."""
    data = dict(data)
    if "email" in data:
        user.email = normalize_email(data.pop("email"))
    if "password" in data:
        set_password(user, data.pop("password"))
    if "author_id" in data:
        author_id = data.pop("author_id")
        author = session.get(Author, author_id) if author_id is not None else None
        if author_id is not None and author is None:
            raise InvalidContentError({"author_id": [f"No authors with id {author_id}."]})
        user.author = author
    if any(k in data and data[k] != getattr(user, k) for k in ("role", "is_active")):
        invalidate_tokens(user)
    for name, value in data.items():
        setattr(user, name, value)


def ensure_byline(session: DbSession, user_id: int) -> Author:
    """The user's byline, made from their name when they have none yet (on their first
    article: authorization only reads, the write makes it)."""
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    if user.author is None:
        user.author = Author(
            name=user.display_name, slug=unique_slug(session, Author.slug, user.display_name)
        )
        session.flush()
    return user.author


def change_password(user: User, current: str, new: str) -> bool:
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, InvalidHashError):
        return False
    set_password(user, new)
    return True


def authenticate(session: DbSession, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; constant work either way."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    return user
