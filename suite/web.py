"""Response helpers for the HTMX conventions (ARCHITECTURE 8) and the error pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def wants_fragment(target: str) -> bool:
    """True when this is an HTMX request whose `HX-Target` is the fragment's root id."""
    return is_htmx() and request.htmx.target == target and not request.htmx.history_restore_request


def render_page(
    page: str, fragment: str, target: str, /, *, status: int = 200, **ctx: Any
) -> Response:
    """The fragment alone for an HTMX request aimed at `target`, else the full page."""
    template = fragment if wants_fragment(target) else page
    resp = make_response(render_template(template, **ctx), status)
    resp.vary.add("HX-Request")
    resp.vary.add("HX-Target")
    return resp


def render_form(page: str, fragment: str, target: str, form: Any, /, **ctx: Any) -> Response:
    """A form page: 422 with the messages next to the fields when it was posted and invalid."""
    status = 422 if request.method == "POST" and form.errors else 200
    return render_page(page, fragment, target, status=status, form=form, **ctx)


_HOLE = 2_147_483_647  # an id no real URL holds: where UrlPattern puts the row's id


class UrlPattern:
    """`url_for(endpoint, key=id, **values)` for the many ids of a list, built once.

    A table of 25 rows calls `url_for` 25 times for the same endpoint (about 12 us each: URL
    defaults, the rule's converters, quoting); this builds the URL once around a placeholder id
    and fills each row's integer id in. Only for a rule whose `key` is an `int` converter.
    """

    def __init__(self, endpoint: str, key: str, **values: Any) -> None:
        url = url_for(endpoint, **{key: _HOLE}, **values)
        self._head, hole, self._tail = url.partition(str(_HOLE))
        if not hole or "?" in self._head:
            raise ValueError(f"{endpoint}: {key} is not in the URL path")

    def __call__(self, ident: int) -> str:
        return f"{self._head}{int(ident)}{self._tail}"


def redirect_to(endpoint: str, message: str | None = None, **values: Any) -> Response:
    """After a successful write: 303 for plain forms, `HX-Location` for HTMX requests."""
    if message:
        flash(message, "success")
    url = url_for(endpoint, **values)
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Location"] = url
        return resp
    return redirect(url, 303)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths; anything else (scheme, host, `//`, backslashes) -> default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


_MESSAGES = {
    400: _l("The request was not understood."),
    403: _l("You do not have permission to do this."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action is not allowed here."),
    409: _l("Someone changed this in the meantime. The page shows the current state."),
    413: _l("The upload is too large."),
    422: _l("Please correct the marked fields."),
    429: _l("Too many requests. Please wait a moment."),
    500: _l("Something went wrong on our side. It has been logged."),
}


def error_response(code: int, message: str | None = None) -> Response:
    message = message or str(_MESSAGES.get(code, _MESSAGES[500]))
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    resp = make_response(render_template(template, code=code, message=message), code)
    if is_htmx():
        # Errors replace the page's flash area instead of the requested target.
        resp.headers["HX-Retarget"] = "#flash"
        resp.headers["HX-Reswap"] = "innerHTML"
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        return error_response(
            400, _("Your form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code is None or exc.code < 400:
            return exc  # type: ignore[return-value]
        return error_response(exc.code)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=exc)
        from suite.db import db

        db.session.rollback()
        if app.testing and app.config.get("SUITE_RAISE_ERRORS", True):
            raise exc
        return error_response(500)


@dataclass(frozen=True)
class NavEntry:
    """A menu entry as the side menu shows it: link, label and icon already resolved."""

    endpoint: str
    href: str
    label: str
    icon: str  # a symbol id in static/img/icons.svg, or a short text glyph
    sprite: str | None  # the sprite's URL for a symbol id, None for a glyph


_NAV_CACHE_SIZE = 256


def nav_items() -> tuple[NavEntry, ...]:
    """Menu entries of the loaded manifests that the current member may open.

    The entries are a function of the manifests (fixed per process), the member's permission
    set, the locale and the URL root, so they are built once per such key and kept on the app:
    building them (a permission check, `url_for` twice and a translated label per entry) cost
    every page about 0.4 ms. A changed role gives a new permission set and so a new key.
    """
    from flask import current_app
    from flask_babel import get_locale

    from suite.auth.permissions import current_permissions

    if g.get("membership") is None:
        return ()
    perms = current_permissions()
    key = (perms, str(get_locale()), request.script_root)
    cache: dict[Any, tuple[NavEntry, ...]] = current_app.extensions.setdefault(
        "suite.nav_cache", {}
    )
    entries = cache.get(key)
    if entries is None:
        from suite.auth.permissions import grants

        registry = current_app.extensions["suite.registry"]
        sprite = url_for("static", filename="img/icons.svg")
        entries = tuple(
            NavEntry(
                m.endpoint,
                url_for(m.endpoint),
                str(m.label),
                m.icon,
                sprite if m.icon.isascii() and m.icon.isalpha() else None,
            )
            for m in registry.menus
            if not m.permission or grants(perms, m.permission)
        )
        if len(cache) >= _NAV_CACHE_SIZE:
            cache.clear()
        cache[key] = entries
    return entries
