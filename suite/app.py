"""`create_app(config=None)`: the only place an app is made (web, worker, scheduler, tests)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import event
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from suite import tenancy
from suite.audit import recorder
from suite.config import load_config
from suite.extensions import babel, csrf, db, htmx, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        "suite",
        root_path=ROOT,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("SUITE_INSTANCE_PATH") or os.path.join(ROOT, "instance"),
        instance_relative_config=True,
    )
    load_config(app, config)
    if app.config["SUITE_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["SUITE_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        _configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    htmx.init_app(app)
    csrf.init_app(app)
    _init_login(app)

    from suite.i18n import select_locale, select_timezone

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=os.path.join(ROOT, "translations"),
    )

    from suite.manifest import manifest as kernel_manifest
    from suite.registry import load_modules

    load_modules(app, [kernel_manifest], app.config["SUITE_MODULES"])

    from suite.api.blueprint import init_api

    init_api(app)

    from suite.templating import init_templating
    from suite.web import register_error_handlers

    init_templating(app)
    register_error_handlers(app)
    _init_request_hooks(app)

    from suite.cli import suite_cli

    app.cli.add_command(suite_cli)

    from suite.printing import cjk_font_available

    app.config.setdefault("SUITE_CJK_FONT", cjk_font_available())
    if not app.config["SUITE_CJK_FONT"]:
        app.logger.warning(
            "No CJK font found: Chinese text in PDFs would print as empty boxes. "
            "Install fonts-noto-cjk."
        )
    if app.config["SUITE_SCHEDULER_INPROCESS"] and not app.testing:
        from suite.jobs import start_scheduler_thread

        start_scheduler_thread(app)
    return app


def _configure_engine(engine: Any) -> None:
    if engine.dialect.name == "postgresql":
        from suite.db import track_reads

        track_reads(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Writes are serialised: a transaction takes the write lock when it starts, so two
        # requests never interleave read-check-write on the embedded database.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from suite.auth.models import User

    login_manager.init_app(app)
    login_manager.login_view = "suite.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(key: str) -> User | None:
        user_id, _, version = key.partition(":")
        if not user_id.isdigit():
            return None
        membership = _membership(int(user_id), session.get("ws"))
        user = membership.user if membership is not None else db.session.get(User, int(user_id))
        if user is None or not user.active or str(user.auth_version) != version:
            return None
        g._loaded_membership = (user.id, membership)  # bind_workspace needs no second query
        return user

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        from flask import flash

        target = url_for("suite.login", next=request.full_path.rstrip("?"))
        if getattr(request, "htmx", False):
            resp = app.make_response(("", 401))
            resp.headers["HX-Redirect"] = target
            return resp
        flash(str(login_manager.login_message), "info")
        return redirect(target)


@functools.cache
def _membership_stmt() -> Any:
    """Built once: SQLAlchemy keeps a statement's cache key, so a reused statement skips
    constructing the select and its loader options and keying them (~0.4 ms of every page)."""
    from suite.auth.models import Membership

    return (
        db.select(Membership)
        .options(joinedload(Membership.workspace), joinedload(Membership.roles))
        .where(
            Membership.user_id == sa.bindparam("user_id"),
            Membership.workspace_id == sa.bindparam("workspace_id"),
            Membership.active.is_(True),
        )
    )


def _membership(user_id: int, workspace_id: int | None) -> Any:
    """One statement: the active member with their user, workspace and roles (or None)."""
    if workspace_id is None:
        return None
    with tenancy.system():
        return (
            db.session.scalars(
                _membership_stmt(), {"user_id": user_id, "workspace_id": workspace_id}
            )
            .unique()
            .one_or_none()
        )


def _init_request_hooks(app: Flask) -> None:
    from suite.printing import font_warning_for

    @app.before_request
    def bind_workspace() -> Response | None:
        g._tokens = []
        if request.blueprint == "api":
            # The JSON API authenticates by bearer token only (suite.api.blueprint), never by
            # the session cookie: no workspace until the token names one.
            login_manager._update_request_context_with_user(None)
            g._tokens.append(tenancy.set_workspace(tenancy.NO_WORKSPACE))
            return None
        if not current_user.is_authenticated:
            g._tokens.append(tenancy.set_workspace(tenancy.NO_WORKSPACE))
            return None
        loaded = g.pop("_loaded_membership", None)
        if loaded is not None and loaded[0] == current_user.id:
            membership = loaded[1]
        else:
            membership = _membership(current_user.id, session.get("ws"))
        if membership is None:
            logout_user()
            session.clear()
            g._tokens.append(tenancy.set_workspace(tenancy.NO_WORKSPACE))
            return login_manager.unauthorized()
        g.membership = membership
        g.workspace = membership.workspace
        g._tokens.append(tenancy.set_workspace(membership.workspace_id))
        g._actor_token = recorder.set_actor(current_user.id)
        g.font_warning = font_warning_for(app)
        return None

    @app.teardown_request
    def end_read_only_transaction(exc: BaseException | None) -> None:
        if exc is None:
            from suite.db import end_if_read_only

            end_if_read_only()

    @app.teardown_request
    def unbind_workspace(exc: BaseException | None) -> None:
        for token in reversed(g.pop("_tokens", [])):
            tenancy.reset_workspace(token)
        token = g.pop("_actor_token", None)
        if token is not None:
            recorder._actor.reset(token)

    from suite.jobs import dispatch_deferred

    app.after_request(dispatch_deferred)

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return resp
