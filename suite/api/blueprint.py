"""The `api` blueprint at `/api/v1`: bearer-token authentication, JSON errors, registration.

A request is authenticated by `Authorization: Bearer <secret>` only. The session cookie is never
read here (suite.app's `bind_workspace` skips this blueprint), so a page a user has open in the
browser cannot call the API on their behalf, and CSRF does not apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from suite import tenancy
from suite.audit import recorder
from suite.db import db

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Invalid(Exception):  # noqa: N818 - raised for a 422 answer
    """Input that does not validate: `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def public(view: F) -> F:
    """Mark a view that answers without a token (the OpenAPI document)."""
    view.api_public = True  # type: ignore[attr-defined]
    return view


def error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """`{"error": code, "message": text, "details": {...}}` with `status`."""
    resp = jsonify({"error": code, "message": message, "details": details or {}})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="shunliu"'
    return resp


def invalid(errors: dict[str, list[str]]) -> Response:
    """422 `{"errors": {"field": ["message", ...]}}` for input that does not validate."""
    resp = jsonify({"errors": errors})
    resp.status_code = 422
    return resp


@bp.before_request
def authenticate() -> Response | None:
    from suite.api.tokens import resolve, touch
    from suite.extensions import login_manager

    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "api_public", False):
        return None
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    bearer = resolve(secret.strip()) if scheme.lower() == "bearer" else None
    if bearer is None:
        return error(401, "unauthorized", _("A valid API token is required."))
    g.api_token = bearer.token
    g.membership = bearer.membership
    g.workspace = db.session.get(tenancy.Workspace, bearer.membership.workspace_id)
    g._tokens.append(tenancy.set_workspace(bearer.membership.workspace_id))
    g._actor_token = recorder.set_actor(bearer.user.id)
    # current_user is the token's user for this request (locale, anything that asks); the
    # session is never consulted nor written.
    login_manager._update_request_context_with_user(bearer.user)
    touch(bearer.token)
    return None


@bp.after_request
def no_store(resp: Response) -> Response:
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@bp.errorhandler(Invalid)
def invalid_input(exc: Invalid) -> Response:
    return invalid(exc.errors)


_NAMES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    messages = {
        400: _("The request was not understood."),
        403: _("You do not have permission to do this."),
        404: _("Not found, or you cannot see it."),
        405: _("This action is not allowed here."),
    }
    return error(code, _NAMES.get(code, "error"), messages.get(code, exc.name))


@bp.errorhandler(Exception)
def server_error(exc: Exception) -> Response:
    current_app.logger.exception("unhandled API error", exc_info=exc)
    db.session.rollback()
    if current_app.testing and current_app.config.get("SUITE_RAISE_ERRORS", True):
        raise exc
    return error(500, "server_error", _("Something went wrong on our side. It has been logged."))


def init_api(app: Flask) -> None:
    """Register the blueprint and the `/api/docs` page (called by `create_app`, after the
    registry is loaded): first each loaded module's `api` (its routes register on `bp` when
    imported, which must happen before `bp` is registered), collecting their `SCHEMAS`."""
    from suite.api import views  # noqa: F401 - routes register on import
    from suite.api.spec import kernel_schemas
    from suite.api.views.docs import docs_page
    from suite.extensions import csrf
    from suite.registry import ManifestError, resolve

    schemas: dict[str, Any] = {}
    for manifest in app.extensions["suite.registry"].manifests:
        if not manifest.api:
            continue
        extra = getattr(resolve(manifest.api), "SCHEMAS", {})
        if not isinstance(extra, dict):
            raise ManifestError(f"{manifest.name}: {manifest.api}.SCHEMAS must be a dict")
        clash = sorted(set(extra) & (set(kernel_schemas()) | set(schemas)))
        if clash:
            raise ManifestError(f"{manifest.name}: API schemas {clash} are already defined")
        schemas.update(extra)
    app.extensions["suite.api.schemas"] = schemas
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.add_url_rule("/api/docs", "api_docs", docs_page)
