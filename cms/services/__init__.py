"""Domain services: typed functions over a session that never commit (the request does)."""

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

# Services take a plain Session (CLI, tests) or Flask-SQLAlchemy's request-scoped proxy.
DbSession: TypeAlias = Session | scoped_session[Any]
