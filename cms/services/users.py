"""User accounts: creation and password checks (argon2id)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from cms.models import Role, User
from cms.services import DbSession

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
