"""Checkpoints: list, create, edit, the QR code, revoking a label, the printable label sheet."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from suite.auth.models import Membership, User
from suite.auth.permissions import require
from suite.checklists import services
from suite.checklists.forms import CheckpointForm
from suite.checklists.models import ChecklistTemplate, Checkpoint
from suite.db import db
from suite.errors import DomainError
from suite.printing import absolute_url, pdf_response, qr_data_uri, render_pdf
from suite.tenancy import get_or_404
from suite.views import bp
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page

MAX_LABELS = 60


def scan_url(point: Checkpoint) -> str:
    return absolute_url("suite.checkpoint_scan", token=point.token)


def qr_svg(data: str, *, scale: int = 5) -> Markup:
    """The QR code as inline SVG (segno), for the screen."""
    import io

    import segno

    out = io.BytesIO()
    # omitsize: a viewBox instead of width/height, so the CSS size scales the drawing
    segno.make(data, error="m").save(
        out, kind="svg", scale=scale, border=2, xmldecl=False, omitsize=True
    )
    return Markup(out.getvalue().decode())  # noqa: S704 - segno's own SVG, no user markup


@bp.route("/checkpoints")
@require("suite.checklist.design")
def checkpoint_list() -> Response:
    page = keyset(sa.select(Checkpoint), Checkpoint.code, key_type=str)
    return render_page(
        "checklists/checkpoint_list.html",
        "checklists/_checkpoint_rows.html",
        "checkpoint-rows",
        items=page.items,
        next_after=page.next_after,
    )


def _choices(form: CheckpointForm) -> None:
    templates = db.session.execute(
        sa.select(ChecklistTemplate.id, ChecklistTemplate.name)
        .where(ChecklistTemplate.active.is_(True))
        .order_by(ChecklistTemplate.name)
    )
    form.template_id.choices = [(0, "—")] + [(i, n) for i, n in templates]
    people = db.session.execute(
        sa.select(Membership.id, User.display_name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name)
    )
    form.owner_id.choices = [(0, "—")] + [(i, n) for i, n in people]


def _save(form: CheckpointForm, point: Checkpoint | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        point = services.save_checkpoint(
            point,
            name=form.name.data,
            code=form.code.data,
            site=form.site.data or "",
            area=form.area.data or "",
            template_id=form.template_id.data or None,
            owner_id=form.owner_id.data or None,
            anonymous_reports=form.anonymous_reports.data,
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("suite.checkpoint_detail", _("Saved."), checkpoint_id=point.id)


def _form_page(form: CheckpointForm, point: Checkpoint | None) -> Response:
    return render_form(
        "checklists/checkpoint_form.html",
        "checklists/_checkpoint_form.html",
        "checkpoint-form",
        form,
        point=point,
    )


@bp.route("/checkpoints/new", methods=["GET", "POST"])
@require("suite.checklist.design")
def checkpoint_new() -> Response:
    form = CheckpointForm()
    _choices(form)
    return _save(form, None) or _form_page(form, None)


@bp.route("/checkpoints/<int:checkpoint_id>/edit", methods=["GET", "POST"])
@require("suite.checklist.design")
def checkpoint_edit(checkpoint_id: int) -> Response:
    point = get_or_404(Checkpoint, checkpoint_id)
    form = CheckpointForm(obj=point if request.method == "GET" else None)
    _choices(form)
    if request.method == "GET":
        form.template_id.data = point.template_id or 0
        form.owner_id.data = point.owner_id or 0
    return _save(form, point) or _form_page(form, point)


@bp.route("/checkpoints/<int:checkpoint_id>")
@require("suite.checklist.design")
def checkpoint_detail(checkpoint_id: int) -> Response:
    point = get_or_404(Checkpoint, checkpoint_id)
    url = scan_url(point)
    return render_page(
        "checklists/checkpoint_detail.html",
        "checklists/_checkpoint_qr.html",
        f"checkpoint-{point.id}-qr",
        point=point,
        url=url,
        qr=qr_svg(url),
    )


@bp.route("/checkpoints/<int:checkpoint_id>/revoke", methods=["POST"])
@require("suite.checklist.design")
def checkpoint_revoke(checkpoint_id: int) -> Response:
    """A new token: the old label answers "no longer valid"; print the new one."""
    point = get_or_404(Checkpoint, checkpoint_id)
    services.revoke_token(point)
    db.session.commit()
    return redirect_to(
        "suite.checkpoint_detail",
        _("The old label is no longer valid. Print the new one."),
        checkpoint_id=point.id,
    )


@bp.route("/checkpoints/labels.pdf")
@require("suite.checklist.design")
def checkpoint_labels() -> Response:
    """A4 sheets of labels (name, QR code, short code) for the checkpoints ticked in the list."""
    ids = request.args.getlist("checkpoint", type=int)[:MAX_LABELS]
    points = list(
        db.session.scalars(
            sa.select(Checkpoint).where(Checkpoint.id.in_(ids)).order_by(Checkpoint.code)
        )
    )
    if not points:
        flash(_("Tick the checkpoints to print labels for."), "error")
        return redirect(url_for("suite.checkpoint_list"), 302)
    labels = [{"point": p, "qr": qr_data_uri(scan_url(p), scale=6)} for p in points]
    pdf = render_pdf("checklists/print/labels.html", labels=labels)
    return pdf_response(pdf, _("checkpoint-labels") + ".pdf")
