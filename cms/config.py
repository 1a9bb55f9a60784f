"""Configuration, read from the environment once, at app creation."""

import base64
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask.cli import FlaskGroup

INSTANCE_DIR = Path(os.environ.get("CMS_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'cms.sqlite3'}"
    # Accept the common "postgres://" / "postgresql://" spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment() -> dict[str, Any]:
    """Build the Flask config mapping from environment variables."""
    database_url = _database_url()
    return {
        # None: create_app decides (see signing_key); never a key written in the source.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or os.environ.get("JWT_SECRET_KEY") or None,
        # "development" (set by `make run`): without SECRET_KEY, keep a generated key in
        # the instance folder. Anything else is production: SECRET_KEY is required.
        "CMS_ENV": os.environ.get("CMS_ENV", "production"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server may drop idle connections: test each on checkout. A SQLite file
        # cannot, and the extra round trip would cost every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Every Redis key of this deployment starts with it (tests use one per run).
        "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX", "cms:"),
        # Wrong passwords (login and password change), per account and per client address.
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
        "STORAGE_URL": os.environ.get("STORAGE_URL") or f"file://{INSTANCE_DIR / 'media'}",
        # Uploads: their own body cap (photos outgrow MAX_CONTENT_LENGTH), a pixel cap
        # checked before decoding (bombs), and where renditions are made: "background"
        # (a job; the upload answers `processing`) or "request" (before answering).
        "IMAGE_MAX_BYTES": int(os.environ.get("IMAGE_MAX_BYTES", 25 * 1024 * 1024)),
        "IMAGE_MAX_PIXELS": int(os.environ.get("IMAGE_MAX_PIXELS", 50_000_000)),
        "IMAGE_RENDERING": os.environ.get("IMAGE_RENDERING", "background"),
        # The job queue: redis://, sqlite:///<file> or memory://. Unset: Redis when
        # REDIS_URL is set (workers on several machines share it), else a SQLite file
        # in the instance folder (workers on this machine).
        "QUEUE_URL": os.environ.get("QUEUE_URL") or None,
        # A running job whose worker stopped its heartbeat (every 15 s) this long ago is
        # run again elsewhere (a dead worker on the same host is noticed at once); a
        # queued job never started after JOB_RESEND_AFTER_SECONDS is pushed again.
        "JOB_LEASE_SECONDS": int(os.environ.get("JOB_LEASE_SECONDS", 90)),
        "JOB_RESEND_AFTER_SECONDS": int(os.environ.get("JOB_RESEND_AFTER_SECONDS", 10 * 60)),
        # A run lost with its worker is run again (it did not fail); a job lost this
        # many times fails, so one that kills its worker does not kill the next too.
        "JOB_LOST_RUNS": int(os.environ.get("JOB_LOST_RUNS", 3)),
        "JOB_KEEP_DAYS": int(os.environ.get("JOB_KEEP_DAYS", 14)),
        # An idle worker asks a SQLite queue for work at least this often (Huey backs
        # off to 10 s by default: a push or an upload then waited seconds). A Redis
        # queue wakes its workers at once.
        "JOB_POLL_SECONDS": float(os.environ.get("JOB_POLL_SECONDS", 0.5)),
        # On SIGTERM a worker finishes its running jobs for up to this long.
        "JOB_SHUTDOWN_SECONDS": int(os.environ.get("JOB_SHUTDOWN_SECONDS", 30)),
        "OUTBOX_KEEP_DAYS": int(os.environ.get("OUTBOX_KEEP_DAYS", 7)),
        # Articles in the trash are purged (deleted for good) after this many days.
        # Audit entries (who changed what) are kept this many days.
        "AUDIT_KEEP_DAYS": int(os.environ.get("AUDIT_KEEP_DAYS", 90)),
        "TRASH_KEEP_DAYS": int(os.environ.get("TRASH_KEEP_DAYS", 30)),
        # Revisions kept per article (the newest), and their age limit (the latest stays).
        "REVISIONS_KEEP": int(os.environ.get("REVISIONS_KEEP", 50)),
        "REVISIONS_KEEP_DAYS": int(os.environ.get("REVISIONS_KEEP_DAYS", 365)),
        # Request bodies above this are refused with 413 before they are parsed.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(
            seconds=int(os.environ.get("JWT_ACCESS_TOKEN_SECONDS", 15 * 60))
        ),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(
            days=int(os.environ.get("JWT_REFRESH_TOKEN_DAYS", 30))
        ),
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        # API documentation: every asset is served by the app itself (no CDN).
        "API_TITLE": "News CMS API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "api/v1/openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
        # Swagger UI would otherwise ask validator.swagger.io to badge the spec.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
        "OPENAPI_REDOC_PATH": "redoc",
        "OPENAPI_REDOC_URL": "/static/vendor/redoc/redoc.standalone.js",
        "JSON_SORT_KEYS": False,
        # Anonymous GETs: how long browsers (max-age) and CDNs (s-maxage) may keep them.
        "CACHE_MAX_AGE": int(os.environ.get("CACHE_MAX_AGE", 60)),
        "CACHE_S_MAXAGE": int(os.environ.get("CACHE_S_MAXAGE", 300)),
        # Cache-Tag / Surrogate-Key: a response naming more than this many bytes of keys
        # names kinds instead (`list-tags` for each `tag-N`). CDNs cap them at 16 KB.
        "CACHE_TAG_BYTES": int(os.environ.get("CACHE_TAG_BYTES", 8 * 1024)),
        # The CDN's purge API: the keys a change made stale are POSTed as {"tags": [...]},
        # this many per request (Cloudflare's limit), with the token as a bearer.
        "CACHE_PURGE_URL": os.environ.get("CACHE_PURGE_URL") or None,
        "CACHE_PURGE_TOKEN": os.environ.get("CACHE_PURGE_TOKEN") or None,
        "CACHE_PURGE_BATCH": int(os.environ.get("CACHE_PURGE_BATCH", 30)),
        # Anonymous 304s of article lists and articles, repeated per process without
        # entering Flask while the content generation holds (cms.revalidation); 0: off.
        "REVALIDATION_ENTRIES": int(os.environ.get("REVALIDATION_ENTRIES", 4096)),
        # On PostgreSQL each process hears of content changes (LISTEN/NOTIFY) instead of
        # reading the content generation per request: 304s without a database round trip.
        "PUSH_GENERATION": os.environ.get("PUSH_GENERATION", "1") == "1",
        # Fetching feeds and source pages: one deadline and one byte cap per document.
        "FETCH_TIMEOUT": float(os.environ.get("FETCH_TIMEOUT", 10)),
        "FETCH_MAX_BYTES": int(os.environ.get("FETCH_MAX_BYTES", 20 * 1024 * 1024)),
        # The poll cycle (every minute): fetches in flight at once, and to one host (and
        # port); feeds stored per transaction. Each fetch has FETCH_TIMEOUT as deadline.
        "POLL_WORKERS": int(os.environ.get("POLL_WORKERS", 16)),
        "POLL_PER_HOST": int(os.environ.get("POLL_PER_HOST", 2)),
        "POLL_BATCH": int(os.environ.get("POLL_BATCH", 100)),
        # WebSub: the lease asked of hubs, renewed this long before it lapses; pushes
        # bigger than WEBSUB_MAX_BYTES are refused. Callbacks are PUBLIC_BASE_URL's
        # /api/v1/websub/{feed_id}: without PUBLIC_BASE_URL, no subscription is asked.
        "WEBSUB_LEASE_SECONDS": int(os.environ.get("WEBSUB_LEASE_SECONDS", 10 * 24 * 3600)),
        "WEBSUB_RENEW_BEFORE_SECONDS": int(os.environ.get("WEBSUB_RENEW_BEFORE_SECONDS", 86400)),
        "WEBSUB_MAX_BYTES": int(os.environ.get("WEBSUB_MAX_BYTES", 2 * 1024 * 1024)),
        # Private addresses that may be fetched anyway, comma-separated: "10.1.2.3:8080",
        # "192.168.0.0/16". Empty: only public addresses (no SSRF into the network).
        "FETCH_ALLOW": [e for e in os.environ.get("FETCH_ALLOW", "").split(",") if e.strip()],
        # The API's public origin (https://cms.example.com) for links and problem types;
        # empty: root-relative links. Never taken from the Host header (cache poisoning).
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        # Browser frontends allowed to call the API (CORS), comma-separated origins
        # ("https://news.example,https://preview.news.example"), or "*" for any origin
        # without credentials. Empty: no CORS headers at all.
        "CORS_ORIGINS": [
            o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()
        ],
        "CORS_MAX_AGE": int(os.environ.get("CORS_MAX_AGE", 600)),  # preflight cache, seconds
        # Search ranks the newest this-many matches (bounded cost on common words).
        "SEARCH_RANK_WINDOW": int(os.environ.get("SEARCH_RANK_WINDOW", 1000)),
        # An anonymous search's page and its snippets are kept per content generation
        # (every reader gets the same); "0" ranks and highlights on every request.
        "SEARCH_CACHE": os.environ.get("SEARCH_CACHE", "1") == "1",
        # The public site (the frontend, which a headless CMS does not own): feeds and
        # sitemaps link to its pages by these patterns. Placeholders: {site}, {slug}, {id}.
        "SITE_URL": os.environ.get("SITE_URL", "http://localhost:3000").rstrip("/"),
        "SITE_NAME": os.environ.get("SITE_NAME", "News"),
        # RFC 5646 language tag of the site: feeds and the Google News sitemap carry it.
        "SITE_LANGUAGE": os.environ.get("SITE_LANGUAGE", "en"),
        "ARTICLE_URL_PATTERN": os.environ.get("ARTICLE_URL_PATTERN", "{site}/articles/{slug}"),
        "CATEGORY_URL_PATTERN": os.environ.get("CATEGORY_URL_PATTERN", "{site}/categories/{slug}"),
        "TAG_URL_PATTERN": os.environ.get("TAG_URL_PATTERN", "{site}/tags/{slug}"),
        "AUTHOR_URL_PATTERN": os.environ.get("AUTHOR_URL_PATTERN", "{site}/authors/{slug}"),
        "PUBLICATION_URL_PATTERN": os.environ.get(
            "PUBLICATION_URL_PATTERN", "{site}/publications/{slug}"
        ),
        # RSS, Atom and JSON Feed: the newest this-many articles, and whether an item
        # carries the whole body or only the excerpt (the default: aggregated items are
        # other publications' reporting, and readers should come to the site).
        "SYNDICATION_ITEMS": int(os.environ.get("SYNDICATION_ITEMS", 50)),
        "SYNDICATION_FULL_CONTENT": os.environ.get("SYNDICATION_FULL_CONTENT", "").strip().lower()
        in ("1", "true", "yes", "on"),
        # URLs per article sitemap (the protocol's maximum is 50,000).
        "SITEMAP_PAGE_SIZE": int(os.environ.get("SITEMAP_PAGE_SIZE", 50_000)),
        # Webhooks. Their signing secrets are kept encrypted with this Fernet key (several,
        # comma-separated, to change it: the first encrypts, all decrypt). Unset, development
        # and tests derive one from SECRET_KEY; production cannot create or send webhooks.
        "WEBHOOK_ENCRYPTION_KEY": os.environ.get("WEBHOOK_ENCRYPTION_KEY") or None,
        # One attempt's deadline (connect, send, answer); targets pass FETCH_ALLOW's rules.
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", 10)),
        # Attempts per delivery; the first retry waits WEBHOOK_RETRY_SECONDS, each next
        # one twice as long (at most WEBHOOK_RETRY_MAX_SECONDS), plus up to half again.
        "WEBHOOK_ATTEMPTS": int(os.environ.get("WEBHOOK_ATTEMPTS", 6)),
        "WEBHOOK_RETRY_SECONDS": float(os.environ.get("WEBHOOK_RETRY_SECONDS", 30)),
        "WEBHOOK_RETRY_MAX_SECONDS": float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)),
        # A webhook is disabled after this many failed attempts in a row (or a 410 Gone).
        "WEBHOOK_DISABLE_AFTER": int(os.environ.get("WEBHOOK_DISABLE_AFTER", 20)),
        # After a secret is rotated, deliveries are signed with the old one too this long.
        "WEBHOOK_SECRET_OVERLAP_SECONDS": int(
            os.environ.get("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 3600)
        ),
    }


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

MIN_KEY_BYTES = 32  # RFC 7518: an HS256 key has at least as many bits as the hash (256)
KEY_HELP = (
    "Set SECRET_KEY to a random string of at least 32 bytes, e.g. "
    "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
    "the same for every process of the deployment (CMS_ENV=development generates one "
    "into the instance folder instead)."
)


class ConfigurationError(RuntimeError):
    """The app must not start as configured; the message says what to set."""


def signing_key(configured: str | None, *, development: bool, instance_dir: Path) -> str:
    """The key that signs tokens.

    A configured key is used as it is. Without one, development and tests keep a
    generated key in the instance folder (tokens survive restarts; no two installs
    share it); `flask ...` commands run by an operator sign nothing that outlives
    them and get a throw-away key; anything else is a server in production, which
    must not start: every process needs the same key, so only the operator can set it.
    """
    if configured:
        return _checked(configured, "SECRET_KEY")
    if development:
        return _instance_key(instance_dir / "secret_key")
    if _under_flask_cli():
        return secrets.token_urlsafe(48)
    raise ConfigurationError(f"SECRET_KEY is not set: no server starts without it. {KEY_HELP}")


def _checked(key: str, origin: str) -> str:
    if len(key.encode()) < MIN_KEY_BYTES:
        raise ConfigurationError(f"{origin} is shorter than {MIN_KEY_BYTES} bytes. {KEY_HELP}")
    return key


def _instance_key(path: Path) -> str:
    """The key in `path`, generated on first use, readable by the owner only."""
    if not path.exists():
        # mkstemp creates the file 0600 (O_CREAT | O_EXCL); linking it into place is
        # atomic and never overwrites, so processes starting together agree on one key.
        fd, written = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            os.link(written, path)
        except FileExistsError:
            pass  # another process was first: its key is the one
        finally:
            os.unlink(written)
    return _checked(path.read_text().strip(), str(path))


def webhook_keys(configured: str | None, *, secret_key: str, development: bool) -> list[bytes]:
    """The Fernet keys webhook secrets are encrypted with (the first encrypts).

    Configured keys must be Fernet keys (a malformed one stops the start, rather than
    every delivery). Development and tests derive one from SECRET_KEY with HKDF, so
    nothing more is to be set; production without one gets none: webhooks cannot be
    created or sent there until WEBHOOK_ENCRYPTION_KEY is set (the rest of the API,
    which never needs it, still starts).
    """
    if configured:
        keys = [key.strip().encode() for key in configured.split(",") if key.strip()]
        for key in keys:
            try:
                Fernet(key)
            except ValueError:
                raise ConfigurationError(
                    "WEBHOOK_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes): "
                    "make one with python3 -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                ) from None
        return keys
    if not development:
        return []
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"cms webhook secrets")
    return [base64.urlsafe_b64encode(derived.derive(secret_key.encode()))]


def _under_flask_cli() -> bool:
    """True inside a `flask ...` command (the app is loaded by Flask's own click group)."""
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.find_root().command, FlaskGroup)
