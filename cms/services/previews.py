"""Preview links: an editor lets someone read one unpublished article, for a while.

The secret is random and shown once; only its SHA-256 is stored, so a database leak
gives no working links. A preview is not a credential: it opens its article at the
preview URL and nothing else, it expires, and it can be revoked.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from cms.models import Article, PreviewToken, utcnow
from cms.services import DbSession

PREFIX = "pvw_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_preview(
    session: DbSession, article: Article, *, lifetime: timedelta, created_by_id: int | None
) -> tuple[PreviewToken, str]:
    """A new preview of `article` and its secret (returned once, never stored)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    preview = PreviewToken(
        article_id=article.id,
        token_hash=_hash(secret),
        created_by_id=created_by_id,
        created_at=utcnow(),
        expires_at=utcnow() + lifetime,
    )
    session.add(preview)
    session.flush()
    return preview, secret


def previewed_article_id(session: DbSession, secret: str) -> int | None:
    """The article a live preview secret opens; None for unknown, expired or revoked."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    found = session.execute(
        select(PreviewToken.article_id).where(
            PreviewToken.token_hash == _hash(secret),
            PreviewToken.revoked_at.is_(None),
            PreviewToken.expires_at > utcnow(),
        )
    ).first()
    return None if found is None else int(found.article_id)
