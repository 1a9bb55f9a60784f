"""Preview links: an editor lets someone read one unpublished article (or one of its
revisions), for a while.

The secret is random and shown once; only its SHA-256 is stored, so a database leak
gives no working links. A preview is not a credential: it opens its article at the
preview URL and nothing else, it expires, and it can be revoked.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from cms.models import Article, PreviewToken, utcnow
from cms.services import DbSession

PREFIX = "pvw_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_preview(
    session: DbSession,
    article: Article,
    *,
    lifetime: timedelta,
    created_by_id: int | None,
    revision_number: int | None = None,
) -> tuple[PreviewToken, str]:
    """A new preview of `article` (or of one revision) and its secret (returned once,
    never stored)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    preview = PreviewToken(
        article_id=article.id,
        revision_number=revision_number,
        token_hash=_hash(secret),
        created_by_id=created_by_id,
        created_at=utcnow(),
        expires_at=utcnow() + lifetime,
    )
    session.add(preview)
    session.flush()
    return preview, secret


@dataclass(frozen=True)
class Previewed:
    article_id: int
    revision_number: int | None


def previewed(session: DbSession, secret: str) -> Previewed | None:
    """What a live preview secret opens; None for unknown, expired or revoked."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    found = session.execute(
        select(PreviewToken.article_id, PreviewToken.revision_number).where(
            PreviewToken.token_hash == _hash(secret),
            PreviewToken.revoked_at.is_(None),
            PreviewToken.expires_at > utcnow(),
        )
    ).first()
    return None if found is None else Previewed(found.article_id, found.revision_number)
