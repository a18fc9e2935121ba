"""The QR page `/q/<token>`: scan, log in if needed, fill the checklist item by item, submit.

Built for a phone on a weak network (ARCHITECTURE 6): a lean layout with its CSS inline, htmx
served gzipped, every answer posted the moment it is entered, and the submission carrying an
idempotency key so a retried submit records one run.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from suite.auth.permissions import has_permission, require
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import DRAFT, ChecklistRun, Checkpoint
from suite.checklists.services import SubmitRefused
from suite.db import db
from suite.errors import DomainError
from suite.extensions import login_manager
from suite.tenancy import get_or_404, system
from suite.views import bp
from suite.web import error_response, is_htmx, render_page

ASSETS = {  # the QR page's only files: name -> (path under static/, content type)
    "htmx.js": ("vendor/htmx/htmx-2.0.11.min.js", "text/javascript"),
    "qr.js": ("checklists/qr.js", "text/javascript"),
    "qr.css": ("checklists/qr.css", "text/css"),
}


@cache
def _asset(static_folder: str, name: str) -> tuple[bytes, bytes, str]:
    """(raw, gzipped, version) of one QR page asset, read once per process."""
    raw = Path(static_folder, ASSETS[name][0]).read_bytes()
    return raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:12]


@bp.app_template_global("checklist_asset_version")
def checklist_asset_version(name: str) -> str:
    return _asset(str(current_app.static_folder), name)[2]


@bp.route("/q/assets/<name>")
def checklist_asset(name: str) -> Response:
    """htmx, the page's CSS and script, gzipped (htmx: 17 KB instead of 51 KB) and cached for
    a year (the URL carries the content's hash)."""
    if name not in ASSETS:
        abort(404)
    raw, packed, _v = _asset(str(current_app.static_folder), name)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp = make_response(packed)
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = make_response(raw)
    resp.mimetype = ASSETS[name][1]
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.vary.add("Accept-Encoding")
    return resp


def _visitor_report_url(checkpoint_id: int, workspace_id: int, token: str) -> str | None:
    """Where a visitor without an account reports a problem at this checkpoint, if anywhere.

    The module that owns the checkpoint offers the form as the endpoint
    `<module>.anonymous_report(token)`; it shows only when the checkpoint allows reports.
    """
    with system():
        point = db.session.get(Checkpoint, checkpoint_id)
        allowed = point is not None and point.workspace_id == workspace_id
        allowed = allowed and point.anonymous_reports and point.active
        endpoint = f"{point.module}.anonymous_report" if point is not None else ""
    if not allowed or endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, token=token)


def _label_page(code: int, title: str, message: str) -> Response:
    return make_response(
        render_template("checklists/label_status.html", title=title, message=message), code
    )


@bp.route("/q/<token>")
def checkpoint_scan(token: str) -> Response:
    """Where a QR label points: the inspector's open checklist for that checkpoint."""
    with system():  # the token alone says whose label it is; nothing is shown before login
        row = services.find_token(token)
        revoked, ws = (row.revoked_at is not None, row.workspace_id) if row else (False, None)
    if row is None:
        return _label_page(
            404,
            _("Unknown label"),
            _("This QR code is not a label of this system, or it was deleted."),
        )
    if revoked:
        return _label_page(
            410,
            _("This label is no longer valid"),
            _("This label has been replaced. Please use the new label at this place."),
        )
    if not current_user.is_authenticated or g.get("membership") is None:
        report = _visitor_report_url(row.checkpoint_id, ws, token)
        if report is None:
            return login_manager.unauthorized()
        return make_response(
            render_template(
                "checklists/scan_visitor.html",
                login_url=url_for("suite.login", next=request.path),
                report_url=report,
            )
        )
    if ws != g.membership.workspace_id:
        return _label_page(
            404, _("Unknown label"), _("This label belongs to another company's workspace.")
        )
    if not has_permission("suite.checklist.fill"):
        return error_response(403, _("You may not fill checklists. Ask an administrator."))
    point = get_or_404(Checkpoint, row.checkpoint_id)
    try:
        run = services.open_run(point, g.membership)
    except DomainError as exc:
        return _label_page(409, point.name, exc.message)
    db.session.commit()
    return run_page(run)


def run_page(
    run: ChecklistRun, *, status: int = 200, problems: dict[str, str] | None = None
) -> Response:
    answers = services.answers_of(run)
    done = sum(
        services.is_answered(it, answers.get(it["key"])) for it in specs.items(run.version.spec)
    )
    return render_page(
        "checklists/run_fill.html",
        "checklists/_run_form.html",
        f"run-{run.id}-form",
        status=status,
        run=run,
        point=run.checkpoint,
        spec=run.version.spec,
        answers=answers,
        problems=problems or {},
        done=done,
        total=sum(1 for _i in specs.items(run.version.spec)),
        submit_key=secrets.token_urlsafe(18),
        failed=services.is_failed,
        answered=services.is_answered,
        scored=specs.can_fail,
    )


def _to_run_page(run: ChecklistRun, message: str | None = None) -> Response:
    """Leave the lean QR page for the run's page: a full load (`HX-Redirect`), since the lean
    layout lacks the app's stylesheet that an `HX-Location` swap would need."""
    if message:
        flash(message, "success")
    url = url_for("suite.checklist_run_detail", checklist_run_id=run.id)
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, 303)


def _my_draft(checklist_run_id: int) -> ChecklistRun:
    run = get_or_404(ChecklistRun, checklist_run_id)
    if run.inspector_id != g.membership.id:
        abort(404)
    return run


def _item_response(run: ChecklistRun, key: str, *, error: str | None = None) -> Response:
    """The item's fragment (HTMX) or, for a plain form post, back to the checklist."""
    if not is_htmx():
        if error:
            return run_page(run, status=422, problems={key: error})
        resp = make_response("", 303)
        resp.headers["Location"] = url_for("suite.checkpoint_scan", token=run.checkpoint.token) + (
            f"#item-{key}"
        )
        return resp
    it = specs.item(run.version.spec, key)
    answers = services.answers_of(run)

    html = render_template(
        "checklists/_run_item.html",
        run=run,
        it=it,
        answer=answers.get(key),
        problem=error,
        failed=services.is_failed,
        answered=services.is_answered,
        scored=specs.can_fail,
    )
    done = sum(
        services.is_answered(i, answers.get(i["key"])) for i in specs.items(run.version.spec)
    )
    total = sum(1 for _i in specs.items(run.version.spec))
    html += render_template(
        "checklists/_run_progress.html", run=run, done=done, total=total, oob=True
    )
    resp = make_response(html, 422 if error else 200)
    resp.headers["HX-Trigger"] = "suite:checklist-answer-saved"
    return resp


@bp.route("/checklists/runs/<int:checklist_run_id>/items/<item_key>", methods=["POST"])
@require("suite.checklist.fill")
def checklist_run_answer(checklist_run_id: int, item_key: str) -> Response:
    """Save one item's answer (a tap, a number, a note) the moment it is entered."""
    run = _my_draft(checklist_run_id)
    if run.status != DRAFT:
        return _to_run_page(run)
    form = request.form
    try:
        services.save_answer(
            run,
            item_key,
            result=form.get("result"),
            value=form.get("value"),
            note=form.get("note"),
        )
    except DomainError as exc:
        db.session.rollback()
        return _item_response(
            get_or_404(ChecklistRun, checklist_run_id), item_key, error=exc.message
        )
    db.session.commit()
    return _item_response(run, item_key)


@bp.route("/checklists/runs/<int:checklist_run_id>/items/<item_key>/photos", methods=["POST"])
@require("suite.checklist.fill")
def checklist_run_photo_add(checklist_run_id: int, item_key: str) -> Response:
    """Attach a photo (downscaled on the phone first); refuses non-images and oversized files."""
    run = _my_draft(checklist_run_id)
    if run.status != DRAFT:
        return _to_run_page(run)
    upload = request.files.get("photo")
    data = upload.read(current_app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] + 1) if upload else b""
    try:
        services.add_photo(
            run, item_key, data, name=(upload.filename if upload else "") or "", member=g.membership
        )
    except DomainError as exc:
        db.session.rollback()
        return _item_response(
            get_or_404(ChecklistRun, checklist_run_id), item_key, error=exc.message
        )
    db.session.commit()
    return _item_response(run, item_key)


@bp.route(
    "/checklists/runs/<int:checklist_run_id>/items/<item_key>/photos/<int:stored_file_id>/delete",
    methods=["POST"],
)
@require("suite.checklist.fill")
def checklist_run_photo_remove(
    checklist_run_id: int, item_key: str, stored_file_id: int
) -> Response:
    run = _my_draft(checklist_run_id)
    try:
        services.remove_photo(run, item_key, stored_file_id)
    except DomainError as exc:
        db.session.rollback()
        return _item_response(
            get_or_404(ChecklistRun, checklist_run_id), item_key, error=exc.message
        )
    db.session.commit()
    return _item_response(run, item_key)


def _coordinate(name: str) -> Decimal | None:
    return specs.parse_decimal(request.form.get(name, "")[:20])


@bp.route("/checklists/runs/<int:checklist_run_id>/submit", methods=["POST"])
@require("suite.checklist.fill")
def checklist_run_submit(checklist_run_id: int) -> Response:
    """Submit once: a retry with the same key lands on the same result page."""
    run = _my_draft(checklist_run_id)
    key = request.form.get("submit_key", "")
    try:
        run, first = services.submit(
            run,
            g.membership,
            key=key,
            latitude=_coordinate("latitude"),
            longitude=_coordinate("longitude"),
        )
    except SubmitRefused as exc:
        db.session.rollback()
        return run_page(get_or_404(ChecklistRun, checklist_run_id), status=422, problems=exc.items)
    except DomainError as exc:
        db.session.rollback()
        run = get_or_404(ChecklistRun, checklist_run_id)
        return run_page(run, status=422, problems={"_": exc.message})
    db.session.commit()
    return _to_run_page(run, _("Checklist submitted.") if first else None)


def photo_url(run: ChecklistRun, stored_file_id: int) -> str:
    return url_for(
        "suite.checklist_run_file", checklist_run_id=run.id, stored_file_id=stored_file_id
    )


@bp.app_template_filter("plain_decimal")
def plain_decimal(value: Decimal | None) -> str:
    """`1.8000` -> `1.8`, `100` stays `100` (never `1E+2`)."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.app_template_global("checklist_item_ctx")
def checklist_item_ctx(it: dict[str, Any]) -> dict[str, Any]:
    """Range and unit text of a number item, for the QR page and the run page."""
    low, high = it.get("min") or "", it.get("max") or ""
    rng = (
        f"{low}–{high}" if low and high else (f"≥ {low}" if low else (f"≤ {high}" if high else ""))
    )
    return {"range": rng, "unit": it.get("unit") or ""}
