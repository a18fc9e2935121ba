"""The command endpoint: one form post from a document page -> `engine.command(...)`.

A document page (e.g. `suite.requests.views`) registers its fragments with `register_pages`;
the endpoint answers with that document's refreshed "where is it now" and action bar fragments,
whatever module the document belongs to, and turns `CommandRefused` into 422 / 409 / 403 / 404.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from suite.auth.models import Membership
from suite.auth.permissions import has_permission
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import error_response, is_htmx
from suite.workflow import engine
from suite.workflow.models import ProcessInstance
from suite.workflow.planner import USER_COMMANDS, CommandRefused

CHANGED = "workflow:instance-changed"
MAX_COMMENT = 2000

# Every `CommandRefused` code, as people read it.
REFUSALS: dict[str, Any] = {
    "stale": _l("Someone acted on this in the meantime. This is the current state."),
    "task_changed": _l("This task was changed in the meantime. This is the current state."),
    "already_acted": _l("Someone has already acted on it, so it cannot be withdrawn."),
    "not_running": _l("The process is no longer running."),
    "already_submitted": _l("It has been submitted already."),
    "task_not_open": _l("This task is no longer open."),
    "not_your_task": _l("This task is assigned to someone else."),
    "not_initiator": _l("Only the requester can do this."),
    "admin_only": _l("Only a process administrator can do this."),
    "unknown_task": _l("This task does not exist."),
    "unknown_instance": _l("This process does not exist."),
    "unknown_command": _l("This action is not available."),
    "comment_required": _l("Please write a comment."),
    "comment_too_long": _l("The comment is too long (2000 characters at most)."),
    "bad_send_back_target": _l("Choose an earlier step to send it back to."),
    "bad_jump_target": _l("Choose a step to move it to."),
    "bad_position": _l("Choose before, after or together."),
    "no_assignee": _l("Choose a person."),
    "already_assigned": _l("This person already has this step."),
    "added_approvers_pending": _l(
        "The approvers you added have not answered yet; it cannot be handed over now."
    ),
    "unknown_member": _l("This person is not an active member of the workspace."),
    "urged_recently": _l("You have urged the approvers within the last hour. Please wait."),
    "not_waiting": _l("The process is not waiting at this step."),
}
# Which form field a refusal belongs to (422: the message is shown next to it).
REFUSAL_FIELDS = {
    "comment_required": "comment",
    "comment_too_long": "comment",
    "bad_send_back_target": "target",
    "bad_jump_target": "target",
    "bad_position": "position",
    "no_assignee": "assignee",
    "already_assigned": "assignee",
    "unknown_member": "assignee",
}
DONE_MESSAGES = {
    "approve": _l("Approved."),
    "resubmit": _l("Resubmitted."),
    "reject": _l("Rejected."),
    "send_back": _l("Sent back."),
    "withdraw": _l("Withdrawn."),
    "transfer": _l("Transferred."),
    "add_approver": _l("Approver added."),
    "urge": _l("The approvers have been urged."),
    "comment": _l("Comment added."),
    "cc": _l("Copy sent."),
    "reassign": _l("Reassigned."),
    "jump": _l("Moved."),
    "cancel": _l("The process is cancelled."),
}


def refusal_message(code: str) -> str:
    return str(REFUSALS.get(code, _l("This action is not possible now.")))


# --- document pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentPages:
    """How a document type shows its process: fragments, their context, the page, who sees it."""

    status: str  # fragment template, root id `<panel.prefix>-status`
    actions: str  # fragment template, root id `<panel.prefix>-actions` (honours `oob`)
    context: Callable[..., dict[str, Any]]  # (document, notice=, failed=) -> context with `panel`
    page: Callable[..., Response]  # (document, status=, notice=, failed=) -> the full page
    visible: Callable[[Any], bool]  # may the current member see this document?


PAGES: dict[str, DocumentPages] = {}


def register_pages(document_type: str, pages: DocumentPages) -> None:
    PAGES[document_type] = pages


def panels_response(
    pages: DocumentPages,
    document: Any,
    *,
    status: int = 200,
    notice: str | None = None,
    failed: Mapping[str, Any] | None = None,
) -> Response:
    """The status fragment, then the action bar out of band (or only it, for a 422)."""
    ctx = pages.context(document, notice=notice, failed=failed)
    prefix = ctx["panel"].prefix
    if failed:
        resp = make_response(render_template(pages.actions, **ctx), status)
        resp.headers["HX-Retarget"] = f"#{prefix}-actions"
        resp.headers["HX-Reswap"] = "outerHTML"
    else:
        html = render_template(pages.status, **ctx) + render_template(
            pages.actions, oob=True, **ctx
        )
        resp = make_response(html, status)
    if status < 400:
        resp.headers["HX-Trigger"] = CHANGED
    resp.vary.add("HX-Request")
    return resp


# --- commands -------------------------------------------------------------------------------------


def _command_fields(form: Mapping[str, Any], command: str) -> dict[str, Any]:
    """The form as `engine.command` keywords; raises `CommandRefused` for bad input."""
    if command not in USER_COMMANDS:
        raise CommandRefused("unknown_command", 422)
    comment = (form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise CommandRefused("comment_too_long", 422)
    people = [int(v) for v in form.getlist("assignee") if str(v).strip().isdigit()]
    if people:
        found = set(
            db.session.scalars(
                sa.select(Membership.id).where(
                    Membership.id.in_(people), Membership.active.is_(True)
                )
            )
        )
        if set(people) - found:  # another workspace's member, a disabled one, a made-up id
            raise CommandRefused("unknown_member", 422)
    position = form.get("position") or "after"
    return {
        "task_id": form.get("workflow_task_id", type=int),
        "comment": comment,
        "target": form.get("target") or None,
        "resume": "rerun" if form.get("resume") == "rerun" else "returning",
        "assignees": tuple(dict.fromkeys(people)),
        "position": position,
    }


@bp.route("/workflow/instances/<int:process_instance_id>/commands", methods=["POST"])
@login_required
def instance_command(process_instance_id: int) -> Response:
    """One command from a document page (approve, reject, send back, transfer, ...)."""
    instance = get_or_404(ProcessInstance, process_instance_id)
    pages = PAGES.get(instance.document_type)
    doc_type = engine.document_types().get(instance.document_type)
    document = doc_type.get(instance.document_id) if doc_type else None
    if pages is None or document is None or not pages.visible(document):
        abort(404)
    command = request.form.get("command", "")
    me = g.membership.id
    key = (request.form.get("key") or "").strip()[:64] or None
    try:
        fields = _command_fields(request.form, command)
        engine.command(
            instance.id,
            "approve" if command == "resubmit" else command,
            me,
            key=f"ui:{me}:{key}" if key else None,
            expected_version=request.form.get("expected_version", type=int),
            is_admin=has_permission("suite.workflow.manage"),
            **fields,
        )
    except CommandRefused as exc:
        db.session.rollback()
        return _refused(pages, doc_type, instance.document_id, command, exc)
    except DomainError as exc:
        db.session.rollback()
        return _refused(pages, doc_type, instance.document_id, command, exc.message)
    db.session.commit()
    if is_htmx():
        return panels_response(pages, doc_type.get(instance.document_id))
    flash(str(DONE_MESSAGES.get(command, _("Done."))), "success")
    return redirect(doc_type.url(document), 303)


def _refused(
    pages: DocumentPages,
    doc_type: Any,
    document_id: int,
    command: str,
    exc: CommandRefused | str,
) -> Response:
    document = doc_type.get(document_id)
    if isinstance(exc, str):
        code, status, message = "domain", 409, exc
    else:
        code, status, message = exc.code, exc.status, refusal_message(exc.code)
    if status in (403, 404):
        return error_response(status, message)
    failed = None
    if status == 422:
        field = REFUSAL_FIELDS.get(code, "comment")
        failed = {"command": command, "field": field, "message": message, "values": request.form}
        notice = None
    else:
        notice = message
    if is_htmx():
        return panels_response(pages, document, status=status, notice=notice, failed=failed)
    return pages.page(document, status=status, notice=notice, failed=failed)
