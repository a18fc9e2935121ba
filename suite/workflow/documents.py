"""A document page with a process: what every such page (general request, purchase request,
stocktake, supplier invoice, payment request, material issue) asks the same way: who may see
the document, its process instances, the route a draft would take and the running drawing, and
the page's submit button (idempotent by the form's key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g, request
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from suite.auth.models import Department
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.workflow.definitions import definition_for
from suite.workflow.drawing import render_flow
from suite.workflow.models import CommandLog, ProcessInstance, WorkflowTask
from suite.workflow.panels import current_nodes, flow_labels, locale, passed_nodes
from suite.workflow.planner import CommandRefused
from suite.workflow.preview import preview
from suite.workflow.views import refusal_message

T = TypeVar("T")


def visible_or_404(model: type[T], row_id: int, visible: Callable[[T], bool]) -> T:
    """The workspace's row if `visible(row)` says I may see it; 404 otherwise (as if absent)."""
    row = get_or_404(model, row_id)
    if not visible(row):
        abort(404)
    return row


def department_line(department_id: int | None) -> set[int]:
    """The department and the ones above it (their members see its documents)."""
    out: set[int] = set()
    while department_id is not None and department_id not in out:
        out.add(department_id)
        department_id = db.session.scalar(
            sa.select(Department.parent_id).where(Department.id == department_id)
        )
    return out


def in_department_line(department_id: int | None) -> bool:
    """Whether I belong to the document's department or one above it."""
    mine = g.membership.department_id
    return mine is not None and mine in department_line(department_id)


def involved(document_type: str, document_id: int) -> bool:
    """Whether I have (or had) a task on the document's process."""
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(WorkflowTask.id))
            .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
            .where(
                ProcessInstance.document_type == document_type,
                ProcessInstance.document_id == document_id,
                WorkflowTask.assignee_id == g.membership.id,
            )
        )
    )


def instance_of(instance_id: int | None) -> ProcessInstance | None:
    """The document's current process instance, if it has one."""
    return db.session.get(ProcessInstance, instance_id) if instance_id else None


def instances_of(document_type: str, document_id: int) -> list[ProcessInstance]:
    """Every process instance the document has had, newest first (for its history)."""
    return list(
        db.session.scalars(
            sa.select(ProcessInstance)
            .where(
                ProcessInstance.document_type == document_type,
                ProcessInstance.document_id == document_id,
            )
            .order_by(ProcessInstance.id.desc())
        )
    )


def route_preview(template: str, values: dict[str, Any], requester_id: int) -> dict[str, Any]:
    """The route a draft would take now, as a list and as a drawing."""
    spec = definition_for(template).current_version.spec
    steps = preview(spec, values, requester_id, locale=locale())
    labels = flow_labels() | {s.node: "、".join(s.names) for s in steps if s.names}
    flow = render_flow(spec, highlight=(), done=(), label_locale=locale(), labels=labels)
    return {"route": steps, "route_flow": flow, "route_spec": spec}


def process_flow(instance: ProcessInstance) -> Markup:
    """The running process's drawing: where it is now and what it has passed."""
    return render_flow(
        instance.process_version.spec,
        highlight=current_nodes(instance),
        done=passed_nodes(instance),
        label_locale=locale(),
        labels=flow_labels(instance),
    )


def form_key() -> str | None:
    """The page form's idempotency key as the command log stores it (None without one)."""
    key = (request.form.get("key") or "").strip()[:64]
    return f"ui:{g.membership.id}:{key}" if key else None


def key_used(key: str | None) -> bool:
    """Whether a command with this key has already run (a double click)."""
    return bool(key) and bool(
        db.session.scalar(sa.select(CommandLog.id).where(CommandLog.key == key))
    )


def refusal_text(exc: DomainError | CommandRefused) -> str:
    """What the page says when the service or the planner refuses a command."""
    return exc.message if isinstance(exc, DomainError) else refusal_message(exc.code)


def submit_from_page(
    submit: Callable[[str | None], Any],
    *,
    done: Callable[[str | None], Response],
    refused: Callable[[str], Response],
) -> Response:
    """Run `submit(key)` with the form's key and commit, then `done("Submitted.")`; a key already
    used answers `done(None)`; a refusal rolls back and answers `refused(message)`."""
    key = form_key()
    if key_used(key):
        return done(None)
    try:
        submit(key)
    except (DomainError, CommandRefused) as exc:  # e.g. submitted in another tab meanwhile
        db.session.rollback()
        return refused(refusal_text(exc))
    db.session.commit()
    return done(_("Submitted."))
