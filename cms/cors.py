"""CORS for browser frontends (flask-cors): only origins in CORS_ORIGINS get CORS
headers; credentials (cookies, HTTP auth) only ever for origins named there, never
for `*`. Preflights are cached by browsers for CORS_MAX_AGE seconds."""

from flask import Flask, Response, request
from flask_cors import CORS

# What a frontend reads beside the body: validators, where a new resource is, when to
# retry.
EXPOSED = ["ETag", "Last-Modified", "Location", "Retry-After"]
ALLOWED = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Accept"]


def init_cors(app: Flask) -> None:
    """Call before any other after-request hook: flask-cors then runs last, on the
    response as finally sent (a 304 answered by the caching hook included)."""
    origins: list[str] = app.config["CORS_ORIGINS"]
    if not origins:
        return
    anyone = "*" in origins
    if not anyone:
        app.after_request(_vary_on_origin)  # registered first: runs after flask-cors
    CORS(
        app,
        resources={r"/api/*": {}},
        origins="*" if anyone else origins,
        supports_credentials=not anyone,
        allow_headers=ALLOWED,
        expose_headers=EXPOSED,
        max_age=app.config["CORS_MAX_AGE"],
        vary_header=False,  # _vary_on_origin, always
    )


def _vary_on_origin(response: Response) -> Response:
    """A listed origin gets CORS headers, any other none: a shared cache must key on
    Origin. (flask-cors adds Vary only when more than one origin is listed, so a CDN
    could hand a frontend the copy fetched without its headers.)"""
    if request.path.startswith("/api/"):
        response.vary.add("Origin")
    return response
