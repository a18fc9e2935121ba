"""WSGI entry point for gunicorn: `gunicorn 'wsgi:app'` (run `flask suite init` first)."""

from suite.app import create_app

app = create_app()
