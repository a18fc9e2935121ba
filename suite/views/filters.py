"""A list page's search and filters from the query string: unknown values fall back quietly."""

from __future__ import annotations

from collections.abc import Container

from flask import request


def search_arg(max_length: int, name: str = "q") -> str:
    """The search text, trimmed and cut to `max_length`."""
    return (request.args.get(name) or "").strip()[:max_length]


def choice_arg(name: str, options: Container[str], default: str | None = None) -> str | None:
    """One of `options`, else `default` (missing, empty or unknown)."""
    value = request.args.get(name) or None
    return value if value in options else default
