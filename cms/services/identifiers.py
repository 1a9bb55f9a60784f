"""Identifiers derived from content: slugs, resource ids and stable ids."""

import hashlib
import secrets
import string
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm.attributes import InstrumentedAttribute

from cms.services import DbSession

_BASE62 = string.digits + string.ascii_letters
# Query parameters that say how a reader arrived, not what they read.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def resource_id_for(source_url: str) -> str:
    """The dedup key of an aggregated item: first 16 hex digits of SHA-256 of its
    canonical URL (so the same story linked two ways is one article)."""
    return hashlib.sha256(canonical_url(source_url).encode()).hexdigest()[:16]


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters
    dropped. Path, trailing slash and the other parameters stay: sites differ on them."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING)
    ]
    path = parts.path or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def new_stable_id() -> str:
    """The prefix "sid_" and 10 base-62 digits of one CSPRNG draw (not ten: bulk ingest
    makes thousands)."""
    number = secrets.randbelow(62**10)
    digits = []
    for _ in range(10):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "sid_" + "".join(digits)


NAME_SLUG_LENGTH = 116


def name_slug(name: str) -> str:
    """How an author, tag or category named by an import or a feed item is matched (and
    slugged when it is new): one way everywhere, so a name is one row however it came."""
    return slugify(name, max_length=NAME_SLUG_LENGTH) or "item"


def unique_slug(
    session: DbSession,
    column: InstrumentedAttribute[str],
    text: str,
    *,
    max_length: int = 120,
) -> str:
    """A slug for `text` not yet used in `column`: "title", then "title-2", "title-3"...

    Concurrent writers can still race to the same value; the unique constraint turns
    the loser into a 409 rather than a duplicate.
    """
    base = slugify(text, max_length=max_length - 4, word_boundary=True) or "item"
    taken = set(session.scalars(select(column).where((column == base) | column.like(f"{base}-%"))))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def domain_of(url: str) -> str | None:
    """The host of a URL without a leading "www." (unless that is all of its name),
    lower-cased (publication matching); None for a host longer than DNS allows."""
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host if 0 < len(host) <= 253 else None
