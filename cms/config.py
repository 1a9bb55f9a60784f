"""Configuration, read from the environment once, at app creation."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

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
    secret = os.environ.get("SECRET_KEY") or os.environ.get("JWT_SECRET_KEY")
    database_url = _database_url()
    return {
        "SECRET_KEY": secret or "dev-only-insecure-secret-change-me-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server may drop idle connections: test each on checkout. A SQLite file
        # cannot, and the extra round trip would cost every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Every Redis key of this deployment starts with it (tests use one per run).
        "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX", "cms:"),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed logins only: per account (e-mail) and per client address.
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
        "STORAGE_URL": os.environ.get("STORAGE_URL") or f"file://{INSTANCE_DIR / 'media'}",
        # Uploads: their own body cap (photos outgrow MAX_CONTENT_LENGTH), a pixel cap
        # checked before decoding (bombs), and where renditions are made: "background"
        # (a job; the upload answers `processing`) or "request" (before answering).
        "IMAGE_MAX_BYTES": int(os.environ.get("IMAGE_MAX_BYTES", 25 * 1024 * 1024)),
        "IMAGE_MAX_PIXELS": int(os.environ.get("IMAGE_MAX_PIXELS", 50_000_000)),
        "IMAGE_RENDERING": os.environ.get("IMAGE_RENDERING", "background"),
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
        # Fetching feeds and source pages: one deadline and one byte cap per document.
        "FETCH_TIMEOUT": float(os.environ.get("FETCH_TIMEOUT", 10)),
        "FETCH_MAX_BYTES": int(os.environ.get("FETCH_MAX_BYTES", 20 * 1024 * 1024)),
        # Private addresses that may be fetched anyway, comma-separated: "10.1.2.3:8080",
        # "192.168.0.0/16". Empty: only public addresses (no SSRF into the network).
        "FETCH_ALLOW": [e for e in os.environ.get("FETCH_ALLOW", "").split(",") if e.strip()],
        # Search ranks the newest this-many matches (bounded cost on common words).
        "SEARCH_RANK_WINDOW": int(os.environ.get("SEARCH_RANK_WINDOW", 1000)),
    }


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
