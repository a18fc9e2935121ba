"""What a document page shows about its process: where it is, what I may do, and its history.

Read-only helpers for the views (`suite.workflow.views`, the modules' document pages): a
`Panel` for the "where is it now" and action bar fragments, and `history()` for the timeline.
Which commands are offered mirrors the planner's rules, but the engine still decides: a form
shown a moment too long is refused there and answered with a fresh panel.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l

from suite.audit.models import AuditEvent
from suite.auth.models import Membership, User
from suite.auth.permissions import has_permission
from suite.db import db, utcnow
from suite.workflow.drawing import node_label
from suite.workflow.models import LIVE, OPEN, ProcessInstance, WorkflowTask

ACTED = ("approved", "rejected", "returned")
HUMAN = ("edit", "approval")
URGE_EVERY = dt.timedelta(hours=1)

STATUS_LABELS = {
    "draft": _l("Draft"),
    "running": _l("In approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Cancelled"),
}
TASK_LABELS = {
    "open": _l("To do"),
    "waiting": _l("Waiting"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "returned": _l("Sent back"),
    "transferred": _l("Transferred"),
    "escalated": _l("Escalated"),
    "cancelled": _l("Not needed"),
    "skipped": _l("Skipped"),
    "cc": _l("CC"),
}


def locale() -> str:
    from suite.templating import current_locale

    return current_locale()


def label_of(spec: Mapping[str, Any] | None, node_id: str | None) -> str:
    if not spec or not node_id:
        return node_id or ""
    node = spec["nodes"].get(node_id)
    return node_label(node_id, node, locale()) if node else node_id


def member_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Membership.id, User.display_name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.id.in_(wanted))
    ).all()
    return dict(rows)


def member_choices(exclude: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Active members of the workspace, for the transfer / add approver / CC selects."""
    skip = set(exclude)
    rows = db.session.execute(
        sa.select(Membership.id, User.display_name, User.login)
        .join(User, User.id == Membership.user_id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name, Membership.id)
    ).all()
    return [(r.id, f"{r.display_name} ({r.login})") for r in rows if r.id not in skip]


def humanize(delta: dt.timedelta) -> str:
    """`3 hours`, `2 days` in the page's language."""
    return format_timedelta(max(delta, dt.timedelta(0)), threshold=1.1)


def new_key() -> str:
    """An idempotency key for one rendered form: a double click sends the same one twice."""
    return uuid.uuid4().hex


# --- the panel ------------------------------------------------------------------------------------


@dataclass
class Person:
    task: WorkflowTask
    name: str
    behalf: str | None = None


@dataclass
class CurrentStep:
    node: str
    label: str
    people: list[Person] = field(default_factory=list)


@dataclass
class Panel:
    """The process of one document as the current member sees it."""

    prefix: str  # fragment root ids: `<prefix>-status`, `<prefix>-actions`
    instance: ProcessInstance | None
    spec: Mapping[str, Any] | None = None
    steps: list[CurrentStep] = field(default_factory=list)
    my_task: WorkflowTask | None = None
    can: set[str] = field(default_factory=set)
    send_back_targets: list[tuple[str, str]] = field(default_factory=list)
    jump_targets: list[tuple[str, str]] = field(default_factory=list)
    live_tasks: list[tuple[int, str]] = field(default_factory=list)  # reassign: (task, text)
    members: list[tuple[int, str]] = field(default_factory=list)
    urged_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    notice: str | None = None  # why the last command was refused (409 and friends)
    failed: Mapping[str, Any] | None = None  # {command, field, message, values} of a 422
    # The action forms' <details name=...> group: new on every render, so a swapped-in panel
    # does not share the exclusive group of the one it replaces (which would close its form).
    group: str = field(default_factory=lambda: new_key()[:10])

    @property
    def status(self) -> str:
        return self.instance.status if self.instance else "draft"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def running(self) -> bool:
        return self.instance is not None and self.instance.status == "running"

    @property
    def version(self) -> int:
        return self.instance.version if self.instance else 0

    @property
    def waiting(self) -> str | None:
        if not self.running:
            return None
        return humanize(utcnow() - self.instance.moved_at)

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < utcnow()

    def key(self) -> str:
        return new_key()

    def can_any(self, *commands: str) -> bool:
        return bool(self.can.intersection(commands))

    def failed_on(self, command: str) -> Mapping[str, Any] | None:
        return self.failed if self.failed and self.failed.get("command") == command else None


def panel_for(
    instance: ProcessInstance | None,
    prefix: str,
    *,
    notice: str | None = None,
    failed: Mapping[str, Any] | None = None,
) -> Panel:
    """Where the process is and which commands the current member is offered."""
    panel = Panel(prefix=prefix, instance=instance, notice=notice, failed=failed)
    if instance is None:
        return panel
    spec = instance.process_version.spec
    panel.spec = spec
    me = g.membership.id
    admin = has_permission("suite.workflow.manage")
    tasks = list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(WorkflowTask.instance_id == instance.id)
            .order_by(WorkflowTask.id)
        )
    )
    live = [t for t in tasks if t.status in LIVE and t.kind != "cc"]
    names = member_names([t.assignee_id for t in live] + [t.on_behalf_of_id for t in live])
    by_node: dict[str, CurrentStep] = {}
    for t in live:
        step = by_node.setdefault(t.node, CurrentStep(t.node, label_of(spec, t.node)))
        step.people.append(
            Person(t, names.get(t.assignee_id, "?"), names.get(t.on_behalf_of_id or 0))
        )
    panel.steps = list(by_node.values())
    opened = [t for t in live if t.status == OPEN]
    panel.due_at = min((t.due_at for t in opened if t.due_at), default=None)
    panel.my_task = next((t for t in opened if t.assignee_id == me), None)
    urged = (instance.state or {}).get("urged_at")
    panel.urged_at = dt.datetime.fromisoformat(urged) if urged else None
    can = panel.can
    can.update({"comment", "cc"})
    if panel.running:
        mine = panel.my_task
        if mine is not None and mine.kind == "approval":
            can.update({"approve", "reject", "send_back", "transfer", "add_approver"})
            panel.send_back_targets = _send_back_targets(spec, tasks, mine.node)
            if not panel.send_back_targets:
                can.discard("send_back")
            if any(
                t.added_by_task_id == mine.id and t.added_how in ("before", "after") for t in live
            ):
                can.discard("transfer")  # approvers added after me wait for my answer
        elif mine is not None and mine.kind == "edit":
            can.add("resubmit")
        if instance.initiator_id == me:
            if opened and not (panel.urged_at and utcnow() - panel.urged_at < URGE_EVERY):
                can.add("urge")
            if not any(t.kind == "approval" and t.status in ACTED for t in tasks):
                can.add("withdraw")
        if admin:
            can.update({"jump", "cancel"})
            if live:
                can.add("reassign")
            panel.jump_targets = [
                (nid, label_of(spec, nid))
                for nid, node in spec["nodes"].items()
                if node.get("kind") in (*HUMAN, "end")
            ]
            panel.live_tasks = [
                (t.id, f"{label_of(spec, t.node)} · {names.get(t.assignee_id, '?')}") for t in live
            ]
    if can & {"transfer", "add_approver", "cc", "reassign"}:
        panel.members = member_choices(exclude=[me])
    return panel


def _send_back_targets(
    spec: Mapping[str, Any], tasks: Sequence[WorkflowTask], current: str
) -> list[tuple[str, str]]:
    """Earlier human nodes, as the planner's `passed_human_nodes`: the start, then approved."""
    seen = [spec["start"]]
    for t in tasks:
        if t.kind == "approval" and t.status == "approved" and t.node not in seen:
            seen.append(t.node)
    return [(nid, label_of(spec, nid)) for nid in seen if nid != current]


def passed_nodes(instance: ProcessInstance) -> set[str]:
    """Nodes the instance has been through (for the flow drawing)."""
    spec = instance.process_version.spec
    done = {spec["start"]}
    events = db.session.scalars(
        sa.select(AuditEvent.payload).where(
            AuditEvent.entity_type == "process_instance",
            AuditEvent.entity_id == str(instance.id),
            AuditEvent.action.in_(("wf.approve", "wf.decision", "wf.node_passed")),
        )
    )
    done.update(p["node"] for p in events if p.get("node"))
    done.update(
        db.session.scalars(
            sa.select(WorkflowTask.node).where(
                WorkflowTask.instance_id == instance.id, WorkflowTask.kind == "cc"
            )
        )
    )
    if instance.status == "approved":
        done.update(n for n, node in spec["nodes"].items() if node.get("kind") == "end")
    return done & set(spec["nodes"])


def flow_labels(instance: ProcessInstance | None = None) -> dict[str, str]:
    """Display names for the flow drawing: role codes, and who each node asked on `instance`."""
    from flask import current_app

    labels = {
        code: str(spec.label)
        for code, spec in current_app.extensions["suite.registry"].roles.items()
    }
    if instance is None:
        return labels
    tasks = list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(
                WorkflowTask.instance_id == instance.id,
                WorkflowTask.status.notin_(("cancelled", "transferred", "escalated")),
            )
            .order_by(WorkflowTask.id)
        )
    )
    names = member_names([instance.initiator_id, *(t.assignee_id for t in tasks)])
    start = instance.process_version.spec["start"]
    by_node: dict[str, list[str]] = {start: [names.get(instance.initiator_id, "")]}
    for t in tasks:
        people = by_node.setdefault(t.node, [])
        if names.get(t.assignee_id) and names[t.assignee_id] not in people:
            people.append(names[t.assignee_id])
    labels.update({node: "、".join(people) for node, people in by_node.items() if people})
    return labels


def current_nodes(instance: ProcessInstance) -> set[str]:
    return (
        set((instance.state or {}).get("active") or {}) if instance.status == "running" else set()
    )
