"""The inbox (待办中心): To do / Done / Started by me / CC to me, filters, batch approval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import flash, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from suite.db import db, utcnow
from suite.i18n import localized
from suite.jobs import enqueue
from suite.views import bp
from suite.views.pagination import newest_first
from suite.web import redirect_to, render_page, wants_fragment
from suite.workflow import engine
from suite.workflow.definitions import templates
from suite.workflow.models import OPEN, ProcessInstance, ProcessVersion, WorkflowTask
from suite.workflow.panels import (
    STATUS_LABELS,
    TASK_LABELS,
    humanize,
    label_of,
    locale,
    member_names,
    new_key,
)

TABS = ("todo", "done", "started", "cc")
TAB_LABELS = {
    "todo": _l("To do"),
    "done": _l("Done"),
    "started": _l("Started by me"),
    "cc": _l("CC to me"),
}
DONE_STATUSES = ("approved", "rejected", "returned", "transferred")


@dataclass
class InboxRow:
    id: int  # the keyset key: task id, or instance id on "started"
    instance: ProcessInstance
    url: str
    type_label: str
    step: str
    requester: str
    since: dt.datetime
    task: WorkflowTask | None = None
    due_at: dt.datetime | None = None
    name: str = ""  # the document's own title and number when it has them
    number: str = ""
    behalf: str | None = None  # a delegate's task: whom it is done for (代)

    @property
    def waiting(self) -> str:
        return humanize(utcnow() - self.since)

    @property
    def due_in(self) -> str:
        return humanize(self.due_at - utcnow()) if self.due_at else ""

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < utcnow()

    @property
    def selectable(self) -> bool:
        return self.task is not None and self.task.status == OPEN and self.task.kind == "approval"


def _type_label(document_type: str) -> str:
    doc_type = engine.document_types().get(document_type)
    spec = templates().get(getattr(doc_type, "template", ""), {})
    return localized(spec.get("label"), locale()) or document_type


def _node_label(document_type: str, node: str) -> str:
    doc_type = engine.document_types().get(document_type)
    return label_of(templates().get(getattr(doc_type, "template", "")), node)


def _task_filter(tab: str, me: int) -> list[Any]:
    if tab == "todo":  # the partial index ix_workflow_task_open_assignee
        return [WorkflowTask.status == OPEN, WorkflowTask.assignee_id == me]
    if tab == "done":
        return [WorkflowTask.assignee_id == me, WorkflowTask.status.in_(DONE_STATUSES)]
    return [WorkflowTask.assignee_id == me, WorkflowTask.status == "cc"]


def inbox_counts(me: int) -> dict[str, int]:
    def count(stmt: sa.Select) -> int:
        return db.session.scalar(stmt) or 0

    counts = {
        tab: count(sa.select(sa.func.count(WorkflowTask.id)).where(*_task_filter(tab, me)))
        for tab in ("todo", "done", "cc")
    }
    counts["started"] = count(
        sa.select(sa.func.count(ProcessInstance.id)).where(ProcessInstance.initiator_id == me)
    )
    return counts


def _preload_documents(instances: list[ProcessInstance]) -> list[Any]:
    """Load a page's documents in one query per type, into the session's identity map, so the
    document types' `get(id)` below answers without SQL (the list returned holds them: the
    identity map keeps only weak references)."""
    by_type: dict[str, list[int]] = {}
    for inst in instances:
        by_type.setdefault(inst.document_type, []).append(inst.document_id)
    held: list[Any] = []
    for document_type, ids in by_type.items():
        dtype = engine.document_types().get(document_type)
        first = dtype.get(ids[0]) if dtype else None
        if first is None:
            continue
        held.append(first)
        model = type(first)
        rest = sorted(set(ids[1:]) - {ids[0]})
        if rest and hasattr(model, "__table__") and "id" in model.__table__.c:
            held += db.session.scalars(sa.select(model).where(model.id.in_(rest))).all()
    versions = {inst.version_id for inst in instances}
    if len(versions) > 1:
        held += db.session.scalars(
            sa.select(ProcessVersion).where(ProcessVersion.id.in_(versions))
        ).all()
    return held


def _inbox_rows(tab: str, me: int, doc_type: str | None, node: str | None) -> dict[str, Any]:
    if tab == "started":
        stmt = sa.select(ProcessInstance).where(ProcessInstance.initiator_id == me)
        if doc_type:
            stmt = stmt.where(ProcessInstance.document_type == doc_type)
        if node:
            stmt = stmt.where(
                sa.exists().where(
                    WorkflowTask.instance_id == ProcessInstance.id,
                    WorkflowTask.node == node,
                    WorkflowTask.status == OPEN,
                )
            )
        rows, next_before = newest_first(stmt, ProcessInstance.id, scalars=False)
        pairs = [(None, r[0]) for r in rows]
    else:
        stmt = (
            sa.select(WorkflowTask, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
            .where(*_task_filter(tab, me))
        )
        if doc_type:
            stmt = stmt.where(ProcessInstance.document_type == doc_type)
        if node:
            stmt = stmt.where(WorkflowTask.node == node)
        rows, next_before = newest_first(stmt, WorkflowTask.id, scalars=False)
        pairs = [(r[0], r[1]) for r in rows]
    names = member_names(
        [i.initiator_id for _, i in pairs]
        + [t.on_behalf_of_id for t, _ in pairs if t is not None and t.on_behalf_of_id]
    )
    held = _preload_documents([inst for _, inst in pairs])  # noqa: F841 - keeps them loaded
    items = []
    for task, inst in pairs:
        dtype = engine.document_types().get(inst.document_type)
        document = dtype.get(inst.document_id) if dtype else None
        if task is not None:
            step = label_of(inst.process_version.spec, task.node)
            since = task.acted_at if tab == "done" and task.acted_at else task.created_at
        else:
            active = (inst.state or {}).get("active") or {}
            spec = inst.process_version.spec
            step = "、".join(label_of(spec, n) for n in active) if inst.status == "running" else ""
            since = inst.moved_at
        items.append(
            InboxRow(
                id=task.id if task is not None else inst.id,
                instance=inst,
                url=dtype.url(document) if document is not None else "#",
                type_label=_type_label(inst.document_type),
                step=step,
                requester=names.get(inst.initiator_id, "?"),
                since=since,
                task=task,
                due_at=task.due_at if task is not None and task.status == OPEN else None,
                name=str(getattr(document, "title", "") or inst.title),
                number=str(getattr(document, "number", "") or ""),
                behalf=(
                    names.get(task.on_behalf_of_id, "?")
                    if task is not None and task.on_behalf_of_id
                    else None
                ),
            )
        )
    return {"items": items, "next_before": next_before}


def _node_choices(tab: str, me: int, doc_type: str | None) -> list[tuple[str, str]]:
    if tab == "started":
        stmt = (
            sa.select(ProcessInstance.document_type, WorkflowTask.node)
            .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
            .where(ProcessInstance.initiator_id == me, WorkflowTask.status == OPEN)
        )
    else:
        stmt = (
            sa.select(ProcessInstance.document_type, WorkflowTask.node)
            .join(ProcessInstance, ProcessInstance.id == WorkflowTask.instance_id)
            .where(*_task_filter(tab, me))
        )
    if doc_type:
        stmt = stmt.where(ProcessInstance.document_type == doc_type)
    seen: dict[str, str] = {}
    for dtype, node in db.session.execute(stmt.distinct().limit(200)):
        seen.setdefault(node, _node_label(dtype, node))
    return sorted(seen.items(), key=lambda kv: kv[1])


def inbox_context(**extra: Any) -> dict[str, Any]:
    me = g.membership.id
    tab = request.args.get("tab", "todo")
    tab = tab if tab in TABS else "todo"
    types = engine.document_types()
    doc_type = request.args.get("type") or None
    doc_type = doc_type if doc_type in types else None
    node = (request.args.get("node") or "").strip()[:80] or None
    return {
        "tab": tab,
        "tabs": [(t, TAB_LABELS[t]) for t in TABS],
        "counts": inbox_counts(me),
        "doc_type": doc_type,
        "node": node,
        "type_choices": sorted(((k, _type_label(k)) for k in types), key=lambda kv: kv[1]),
        "node_choices": _node_choices(tab, me, doc_type),
        "batch_key": new_key(),
        "task_labels": TASK_LABELS,
        "status_labels": STATUS_LABELS,
        **_inbox_rows(tab, me, doc_type, node),
        **extra,
    }


@bp.route("/inbox")
@login_required
def inbox() -> Response:
    return render_page(
        "workflow/inbox.html", "workflow/_inbox_list.html", "inbox-list", **inbox_context()
    )


@bp.route("/inbox/batch-approve", methods=["POST"])
@login_required
def inbox_batch_approve() -> Response:
    """Approve the checked tasks in a background job (one transaction per task)."""
    me = g.membership.id
    wanted = [int(v) for v in request.form.getlist("workflow_task_id") if v.strip().isdigit()]
    task_ids = list(
        db.session.scalars(
            sa.select(WorkflowTask.id)
            .where(
                WorkflowTask.id.in_(wanted[:200]),
                WorkflowTask.assignee_id == me,
                WorkflowTask.status == OPEN,
                WorkflowTask.kind == "approval",
            )
            .order_by(WorkflowTask.id)
        )
    )
    if not task_ids:
        message = _("Select the tasks to approve.")
        if wants_fragment("inbox-list"):
            return render_page(
                "workflow/inbox.html",
                "workflow/_inbox_list.html",
                "inbox-list",
                status=422,
                **inbox_context(batch_error=message),
            )
        flash(message, "error")
        return redirect_to("suite.inbox", tab="todo")
    key = (request.form.get("key") or "").strip()[:40] or new_key()
    enqueue("suite.workflow.jobs:batch_approve", me, task_ids, f"batch:{me}:{key}")
    message = _("Approving the selected tasks (%(num)d)…", num=len(task_ids))
    if wants_fragment("inbox-list"):
        return render_page(
            "workflow/inbox.html",
            "workflow/_inbox_list.html",
            "inbox-list",
            **inbox_context(batch_pending=message),
        )
    return redirect_to("suite.inbox", message, tab="todo")
