"""Corrective action pages (整改): the list (open / overdue / closed), the document page with the
kernel's process panel and timeline, the fix form (photo + note) and the verification."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from modules.inspections.blueprint import bp
from modules.inspections.models import CLOSED, FIXED, OPEN, CorrectiveAction
from modules.inspections.services import actions as services
from modules.inspections.services.photos import Upload
from suite import files
from suite.auth.permissions import has_permission, require
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page
from suite.workflow.documents import (
    form_key,
    instance_of,
    instances_of,
    involved,
    key_used,
    process_flow,
    visible_or_404,
)
from suite.workflow.history import history
from suite.workflow.panels import panel_for
from suite.workflow.planner import CommandRefused
from suite.workflow.views import DocumentPages, refusal_message, register_pages

READ = "inspections.action.read"
STATUSES = {
    OPEN: _l("To fix"),
    FIXED: _l("To verify"),
    CLOSED: _l("Closed"),
    services.CANCELLED: _l("Cancelled"),
}
FILTERS = {"open": _l("Not closed"), "overdue": _l("Overdue"), "closed": _l("Closed")}
FIELDS = {"status": _l("Status"), "fix_note": _l("What was done")}


def visible(ca: CorrectiveAction) -> bool:
    me = g.membership.id
    if has_permission(READ) or me in (ca.assignee_id, ca.verifier_id):
        return True
    return involved(services.DOC_TYPE, ca.id)


def _context(
    ca: CorrectiveAction, *, notice: str | None = None, failed: Any = None
) -> dict[str, Any]:
    panel = panel_for(instance_of(ca.instance_id), f"action-{ca.id}", notice=notice, failed=failed)
    me = g.membership.id
    return {
        "ca": ca,
        "panel": panel,
        "statuses": STATUSES,
        "can_fix": services.open_task(ca, services.FIX_NODE, me) is not None,
        "can_verify": services.open_task(ca, services.VERIFY_NODE, me) is not None,
        "form_key": panel.key(),
        "errors": (failed or {}).get("errors", {}) if isinstance(failed, dict) else {},
        "values": (failed or {}).get("values", {}) if isinstance(failed, dict) else {},
        "can_print": has_permission("inspections.report.read"),
        "overdue": ca.status == OPEN and ca.due_at is not None and ca.due_at < utcnow(),
    }


def detail_page(
    ca: CorrectiveAction, *, status: int = 200, notice: str | None = None, failed: Any = None
) -> Response:
    ctx = _context(ca, notice=notice, failed=failed)
    if ctx["panel"].instance is not None:
        ctx["flow"] = process_flow(ctx["panel"].instance)
    ctx["events"] = history(
        instances_of(services.DOC_TYPE, ca.id),
        "corrective_action",
        ca.id,
        fields=FIELDS,
        formats={"status": lambda v: STATUSES.get(v, v)},
    )
    return render_page(
        "inspections/action_detail.html",
        "inspections/_action_work.html",
        f"action-{ca.id}-work",
        status=status,
        **ctx,
    )


register_pages(
    services.DOC_TYPE,
    DocumentPages(
        status="inspections/_action_status.html",
        actions="inspections/_action_actions.html",
        context=_context,
        page=detail_page,
        visible=visible,
    ),
)


def filtered(stmt: sa.Select, which: str | None) -> sa.Select:
    if which == "open":
        return stmt.where(CorrectiveAction.status.in_((OPEN, FIXED)))
    if which == "overdue":
        return stmt.where(CorrectiveAction.status == OPEN, CorrectiveAction.due_at < utcnow())
    if which == "closed":
        return stmt.where(CorrectiveAction.status.in_((CLOSED, services.CANCELLED)))
    return stmt


@bp.route("/actions")
@require(READ)
def action_list() -> Response:
    which = choice_arg("filter", FILTERS)
    mine = request.args.get("mine") == "1"
    stmt = filtered(sa.select(CorrectiveAction), which)
    if mine:
        me = g.membership.id
        stmt = stmt.where(
            sa.or_(CorrectiveAction.assignee_id == me, CorrectiveAction.verifier_id == me)
        )
    rows, next_before = newest_first(stmt, CorrectiveAction.id)
    return render_page(
        "inspections/action_list.html",
        "inspections/_action_rows.html",
        "action-rows",
        items=rows,
        next_before=next_before,
        which=which,
        mine=mine,
        filters=FILTERS,
        statuses=STATUSES,
        now=utcnow(),
    )


@bp.route("/actions/<int:corrective_action_id>")
@require(READ)
def action_detail(corrective_action_id: int) -> Response:
    return detail_page(visible_or_404(CorrectiveAction, corrective_action_id, visible))


def _uploads(name: str) -> list[Upload]:
    return [
        Upload(f.read(), f.filename or "photo")
        for f in request.files.getlist(name)
        if f and f.filename
    ]


def _run_command(ca_id: int, action: Any, command: str, done: str) -> Response:
    ca = visible_or_404(CorrectiveAction, ca_id, visible)
    key = form_key()
    if key_used(key):
        return redirect_to("inspections.action_detail", corrective_action_id=ca.id)
    try:
        action(ca, key)
    except DomainError as exc:
        db.session.rollback()
        ca = get_or_404(CorrectiveAction, ca_id, fresh=True)
        if exc.field:
            failed = {
                "command": command,
                "errors": {exc.field: exc.message},
                "values": request.form,
            }
            return detail_page(ca, status=422, failed=failed)
        return detail_page(ca, status=409, notice=exc.message)
    except CommandRefused as exc:
        db.session.rollback()
        ca = get_or_404(CorrectiveAction, ca_id, fresh=True)
        return detail_page(
            ca, status=exc.status if exc.status != 422 else 409, notice=refusal_message(exc.code)
        )
    db.session.commit()
    return redirect_to("inspections.action_detail", done, corrective_action_id=ca.id)


@bp.route("/actions/<int:corrective_action_id>/fix", methods=["POST"])
@require(READ)
def action_fix(corrective_action_id: int) -> Response:
    return _run_command(
        corrective_action_id,
        lambda ca, key: services.record_fix(
            ca, g.membership, note=request.form.get("note", ""), photos=_uploads("photo"), key=key
        ),
        "fix",
        _("The fix is recorded and sent for verification."),
    )


@bp.route("/actions/<int:corrective_action_id>/verify", methods=["POST"])
@require(READ)
def action_verify(corrective_action_id: int) -> Response:
    fixed = request.form.get("result") == "fixed"
    return _run_command(
        corrective_action_id,
        lambda ca, key: services.verify(
            ca, g.membership, fixed=fixed, comment=request.form.get("comment", ""), key=key
        ),
        "verify",
        _("Verified and closed.") if fixed else _("Sent back to the area owner."),
    )


def image_response(row: files.StoredFile) -> Response:
    """A stored photo, private to the browser's cache, never sniffed into something else."""
    if not row.content_type.startswith("image/"):
        abort(404)
    return files.file_response(row)


@bp.route("/actions/<int:corrective_action_id>/files/<int:stored_file_id>")
@require(READ)
def action_photo(corrective_action_id: int, stored_file_id: int) -> Response:
    """A photo of the finding or of the fix, to whoever may see the action."""
    ca = visible_or_404(CorrectiveAction, corrective_action_id, visible)
    if stored_file_id not in {*(ca.photo_ids or []), *(ca.fix_photo_ids or [])}:
        abort(404)
    return image_response(get_or_404(files.StoredFile, stored_file_id))
