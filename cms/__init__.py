"""News CMS: a headless content API for a news-aggregation site."""

import ctypes
import os
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin

from cms import config, problems
from cms.api.screening import RequestJSON
from cms.extensions import db, jwt
from cms.schema import init_schema


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    _give_large_blocks_back()
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR))
    app.config.from_mapping(config.from_environment())
    if test_config:
        app.config.update(test_config)
    app.json = RequestJSON(app)
    app.json.sort_keys = False
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)  # the default SQLite file
    app.config["SECRET_KEY"] = config.signing_key(
        app.config["SECRET_KEY"],
        development=app.testing or app.config["CMS_ENV"] == "development",
        instance_dir=Path(app.instance_path),
    )
    app.config["WEBHOOK_ENCRYPTION_KEYS"] = config.webhook_keys(
        app.config["WEBHOOK_ENCRYPTION_KEY"],
        secret_key=app.config["SECRET_KEY"],
        development=app.testing or app.config["CMS_ENV"] == "development",
    )
    app.session_interface = NoCookieSessions()
    app.before_request(_empty_g)

    db.init_app(app)
    init_schema(app)
    jwt.init_app(app)

    from cms.api.common import DatabaseIntConverter
    from cms.api.framework import Api
    from cms.api.images.routes import media
    from cms.api.registry import BLUEPRINTS
    from cms.api.screening import screen_request
    from cms.auth.jwt import init_jwt
    from cms.auth.revocation import init_revocations
    from cms.auth.throttle import init_throttle
    from cms.caching import init_caching
    from cms.cli import cms_cli
    from cms.cors import init_cors
    from cms.jobs import init_queue
    from cms.log import init_logging
    from cms.revalidation import init_revalidation
    from cms.services.errors import InvalidContentError
    from cms.storage import init_storage

    init_logging(app)
    init_cors(app)  # first: its hook runs last, on the response as sent
    init_jwt(jwt)
    init_revocations(app)
    init_throttle(app)
    init_caching(app)
    init_storage(app)
    init_queue(app)
    _register_jobs()
    app.before_request(screen_request)
    app.url_map.converters["int"] = DatabaseIntConverter  # before any rule is added
    api = Api(app)
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT, or an API token (cms_...)",
            "description": "Requirement arrays name the lowest role the operation needs.",
        },
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(media)

    @app.errorhandler(InvalidContentError)
    def _invalid_content(error: InvalidContentError) -> Response:
        db.session.rollback()
        return problems.problem_response(422, detail=str(error), errors=error.errors)

    app.add_url_rule("/problems/<code>", "problem_type", problems.problem_type_page)
    app.cli.add_command(cms_cli)
    init_revalidation(app)  # last: it wraps the whole app
    return app


def _register_jobs() -> None:
    """Jobs and periodic tasks live beside their domain; importing them registers them
    with the queue, in the web process (which asks for them) and the worker (which runs
    them) alike."""
    import cms.services.audit
    import cms.services.cdn_purge
    import cms.services.dispatch
    import cms.services.planner
    import cms.services.polling
    import cms.services.publishing
    import cms.services.rendering
    import cms.services.revisions
    import cms.services.stories
    import cms.services.trash
    import cms.services.webhooks
    import cms.worker  # noqa: F401


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024


def _give_large_blocks_back() -> None:
    """Keep a worker's memory flat after large answers. glibc raises its mmap threshold
    each time a large block is freed (up to 32 MB), so after one page of 1 MB bodies
    such blocks come from the heap and stay in the process for good (measured: 203 MiB
    against 157 MiB, bench.memory). A fixed threshold keeps every block over 128 KiB
    mapped on its own, and returned when freed. MALLOC_MMAP_THRESHOLD_ in the
    environment (glibc reads it at start) wins; other C libraries are left alone."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


class NoCookieSessions(SessionInterface):
    """A headless API keeps no cookie session: callers send bearer tokens. (Flask's
    default builds a signing serializer on every request to look for a cookie that
    is never set here.) `session` is Flask's read-only null session."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def _empty_g() -> None:
    """Each request starts with an empty g. (g belongs to the app context, which tests
    and the CLI reuse across requests; cached principals must not leak between them.)"""
    for name in list(vars(g)):
        delattr(g, name)
