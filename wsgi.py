"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from cms import create_app

app = create_app()
