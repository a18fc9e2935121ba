"""Reported problems: the anonymous form behind a checkpoint's QR page (`/q/<token>/report`,
rate-limited per address, with a honeypot field instead of a captcha) and the inspectors' list
where a finding becomes a corrective action or is dismissed."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from modules.inspections.blueprint import bp
from modules.inspections.models import CONVERTED, DISMISSED, NEW, Finding
from modules.inspections.services import findings as services
from modules.inspections.services.photos import Upload
from modules.inspections.views.actions import image_response
from suite.auth.permissions import require
from suite.checklists.models import Checkpoint, CheckpointToken
from suite.db import db
from suite.errors import DomainError
from suite.files import StoredFile
from suite.tenancy import get_or_404, system, use_workspace
from suite.views.account import client_ip
from suite.views.filters import choice_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page

MANAGE = "inspections.finding.manage"
STATUSES = {NEW: _l("New"), CONVERTED: _l("Corrective action"), DISMISSED: _l("Dismissed")}
HONEYPOT = "website"  # hidden from people; bots fill it in


def _checkpoint_for(token: str) -> tuple[Checkpoint | None, str]:
    """The checkpoint whose live token this is, and why not ('unknown', 'revoked', 'off')."""
    token = (token or "")[:64]
    with system():
        point = db.session.scalar(sa.select(Checkpoint).where(Checkpoint.token == token))
        if point is None:
            old = db.session.scalar(
                sa.select(CheckpointToken).where(CheckpointToken.token == token)
            )
            return None, "revoked" if old is not None else "unknown"
        if not point.active:
            return None, "revoked"
        if not point.anonymous_reports:
            return None, "off"
        return point, ""


def _closed_page(reason: str) -> Response:
    messages = {
        "unknown": _("This QR code is not known. Please tell the site's staff."),
        "revoked": _("This label is no longer valid. Please tell the site's staff."),
        "off": _("Problems cannot be reported here. Please tell the site's staff."),
    }
    html = render_template("inspections/report_closed.html", message=messages[reason])
    return Response(html, 404, mimetype="text/html")


def anonymous_report(token: str) -> Response:
    point, reason = _checkpoint_for(token)
    if point is None:
        return _closed_page(reason)
    errors: dict[str, str] = {}
    values = {"description": "", "contact": ""}
    status = 200
    with use_workspace(point.workspace_id):
        if request.method == "POST":
            values = {k: request.form.get(k, "") for k in values}
            if request.form.get(HONEYPOT):  # a bot: thank it, keep nothing
                return Response(render_template("inspections/report_done.html", point=point))
            upload = request.files.get("photo")
            photo = Upload(upload.read(), upload.filename) if upload and upload.filename else None
            try:
                services.report(
                    point,
                    description=values["description"],
                    contact=values["contact"],
                    photo=photo,
                    address=client_ip(),
                )
            except services.TooManyReportsError as exc:
                db.session.rollback()
                errors["form"], status = exc.message, 429
            except DomainError as exc:
                db.session.rollback()
                errors[exc.field or "form"], status = exc.message, 422
            else:
                db.session.commit()
                return Response(render_template("inspections/report_done.html", point=point))
        html = render_template(
            "inspections/report_form.html",
            point=point,
            errors=errors,
            values=values,
            honeypot=HONEYPOT,
        )
    return Response(html, status, mimetype="text/html")


bp.record(
    lambda state: state.app.add_url_rule(
        "/q/<token>/report",
        "inspections.anonymous_report",
        anonymous_report,
        methods=["GET", "POST"],
    )
)


@bp.route("/findings")
@require(MANAGE)
def finding_list() -> Response:
    status = choice_arg("status", STATUSES, NEW)
    stmt = sa.select(Finding).where(Finding.status == status)
    rows, next_before = newest_first(stmt, Finding.id)
    return render_page(
        "inspections/finding_list.html",
        "inspections/_finding_rows.html",
        "finding-rows",
        items=rows,
        next_before=next_before,
        current=status,
        statuses=STATUSES,
    )


@bp.route("/findings/<int:finding_id>/convert", methods=["POST"])
@require(MANAGE)
def finding_convert(finding_id: int) -> Response:
    finding = get_or_404(Finding, finding_id)
    try:
        ca = services.convert(finding, g.membership)
    except DomainError as exc:
        db.session.rollback()
        return redirect_to("inspections.finding_list", exc.message)
    db.session.commit()
    return redirect_to(
        "inspections.action_detail", _("Corrective action opened."), corrective_action_id=ca.id
    )


@bp.route("/findings/<int:finding_id>/dismiss", methods=["POST"])
@require(MANAGE)
def finding_dismiss(finding_id: int) -> Response:
    finding = get_or_404(Finding, finding_id)
    try:
        services.dismiss(finding, g.membership)
    except DomainError as exc:
        db.session.rollback()
        return redirect_to("inspections.finding_list", exc.message)
    db.session.commit()
    return redirect_to("inspections.finding_list", _("Dismissed."))


@bp.route("/findings/<int:finding_id>/files/<int:stored_file_id>")
@require(MANAGE)
def finding_photo(finding_id: int, stored_file_id: int) -> Response:
    """A photo a visitor sent with the finding."""
    finding = get_or_404(Finding, finding_id)
    if stored_file_id not in (finding.photo_ids or []):
        abort(404)
    return image_response(get_or_404(StoredFile, stored_file_id))
