"""Structured logs (structlog): JSON lines in production, readable lines in a terminal."""

import logging
import sys

import structlog
from flask import Flask


def init_logging(app: Flask) -> None:
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if app.debug else logging.INFO
        ),
        cache_logger_on_first_use=True,
    )
