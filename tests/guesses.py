"""Helpers for the password-guess limit tests: a clock to move, and unique accounts.

Unique e-mails matter with Redis: its counts outlive each test (the database is
emptied after every test, Redis is not).
"""

import uuid
from datetime import datetime, timedelta

import pytest

from cms.auth import throttle
from cms.extensions import db
from cms.models import Role, User, utcnow
from cms.services.users import create_user

PASSWORD = "correct horse battery"


class FrozenClock:
    """The throttle's clock, stopped: tests move it instead of sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(throttle, "utcnow", self)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def unique_user(role: Role = Role.CONTRIBUTOR) -> User:
    user = create_user(
        db.session, email=f"{uuid.uuid4().hex[:16]}@example.com", password=PASSWORD, role=role
    )
    db.session.commit()
    return user
