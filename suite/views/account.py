"""Login, logout, language switch, workspace switch."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from suite.auth.forms import LoginForm
from suite.auth.services import LoginThrottledError, authenticate, memberships_of
from suite.db import db
from suite.views import bp
from suite.web import redirect_to, safe_next


def client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    next_url = safe_next(request.values.get("next"), url_for("suite.home"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                user = authenticate(form.login.data, form.password.data, client_ip())
            except LoginThrottledError as exc:
                status = 429
                form.login.errors.append(
                    _(
                        "Too many failed attempts. Try again in %(minutes)d minutes.",
                        minutes=exc.minutes,
                    )
                )
            else:
                workspaces = [m.workspace_id for m in memberships_of(user)] if user else []
                if workspaces:
                    locale = session.get("locale")
                    session.clear()  # a fresh session: no fixation
                    if locale:
                        session["locale"] = locale  # chosen on the login page
                    login_user(user, remember=form.remember.data)
                    last = user.last_workspace_id
                    session["ws"] = last if last in workspaces else workspaces[0]
                    if request.htmx:
                        resp = current_app.make_response(("", 204))
                        resp.headers["HX-Redirect"] = next_url
                        return resp
                    return redirect(next_url, 303)
                form.password.errors.append(
                    _("Wrong login or password, or the account is disabled.")
                )
    return current_app.make_response(
        (render_template("auth/login.html", form=form, next_url=next_url), status)
    )


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    locale = session.get("locale") or (
        current_user.locale if current_user.is_authenticated else None
    )
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the login page stays in the language the user chose
    flash(_("You have logged out."), "success")
    return redirect(url_for("suite.login"), 303)


@bp.route("/language", methods=["POST"])
def language() -> Response:
    locale = request.form.get("locale", "")
    if locale not in current_app.config["SUITE_LOCALES"]:
        return current_app.make_response((_("Unknown language."), 422))
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    back = safe_next(request.form.get("next"), url_for("suite.home"))
    if request.htmx:
        resp = current_app.make_response(("", 204))
        resp.headers["HX-Refresh"] = "true"
        return resp
    return redirect(back, 303)


@bp.route("/workspace", methods=["POST"])
@login_required
def workspace_switch() -> Response:
    wanted = request.form.get("workspace_id", type=int)
    if wanted not in {m.workspace_id for m in memberships_of(current_user)}:
        return current_app.make_response((_("Unknown workspace."), 404))
    session["ws"] = wanted
    current_user.last_workspace_id = wanted
    db.session.commit()
    return redirect_to("suite.home")
