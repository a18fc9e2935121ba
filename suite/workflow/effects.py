"""Writing a plan's effects inside the command's transaction (docs/WORKFLOW.md section 4).

Task changes are guarded updates (`WHERE status = <the status read under the lock>`, rowcount
must be 1); new tasks, timers and outbox rows are one INSERT each. These are Core statements, so
the flush-time recorder never sees them: their audit events are appended here, on the rows' own
chains, and the command's events go on the instance's chain (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app

from suite.audit import recorder
from suite.db import db
from suite.workflow import planner
from suite.workflow.models import LIVE, OPEN, WAITING, ProcessInstance, WorkflowTask, WorkflowTimer
from suite.workflow.planner import CommandRefused

TASK = "workflow_task"
_T = WorkflowTask.__table__
_TASK_COLUMNS = [c.key for c in _T.columns]
_INSERT_TASKS = sa.insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_INSERT_TIMERS = sa.insert(WorkflowTimer.__table__)
_CANCEL_TIMERS = (
    sa.update(WorkflowTimer.__table__)
    .where(
        WorkflowTimer.__table__.c.task_id.in_(sa.bindparam("tasks", expanding=True)),
        WorkflowTimer.__table__.c.status == "pending",
    )
    .values(status="cancelled")
)


@dataclass
class Writing:
    """What one command writes with: the locked instance, its pinned spec, the task rows read
    under the lock (kept current as they change), the org, the workspace's settings."""

    instance: Any  # ProcessInstance, or the row locked by suite.workflow.reading.lock_row
    spec: Mapping[str, Any]
    cmd: planner.Command
    tasks: dict[int, dict[str, Any]]
    org: Any
    workspace: Any  # locale, timezone, settings
    rule_version: int | None
    timers: list[dict[str, Any]] = field(default_factory=list)
    doc: Any = None  # the document, loaded once: the session's identity map holds it weakly
    _calendar: Any = None

    def orm_instance(self) -> ProcessInstance:
        """The instance as an ORM object (registered actions take one)."""
        if isinstance(self.instance, ProcessInstance):
            return self.instance
        return db.session.get(ProcessInstance, self.instance.id)

    def document(self) -> Any:
        if self.doc is None:
            from suite.workflow.engine import document_types

            doc_type = document_types()[self.instance.document_type]
            self.doc = doc_type.get(self.instance.document_id)
        return self.doc

    def due(self, after: str) -> dt.datetime:
        from suite.workflow.calendar import calendar_from_settings, parse_duration

        if self._calendar is None:
            settings = (self.workspace.settings or {}).get("calendar") or {}
            # The workspace's own time zone always wins over a copy stored with the calendar.
            self._calendar = calendar_from_settings(
                {**settings, "timezone": self.workspace.timezone}
            )
        return self._calendar.due(self.cmd.now, parse_duration(str(after)))

    def sla_timers(self, task_id: int | None, node: str) -> dt.datetime | None:
        """Queue an approval task's SLA timers; returns the first due time (the task's due_at)."""
        sla = self.spec["nodes"][node].get("sla") or {}
        plan = [("remind", sla.get("remind_after")), ("escalate", sla.get("escalate_after"))]
        if sla.get("auto_action"):
            plan.append(("timeout", sla.get("auto_after")))
        first = None
        for kind, after in plan:
            if after:
                due = self.due(after)
                first = due if first is None else min(first, due)
                self.timer(task_id, node, kind, due)
        return first

    def timer(self, task_id: int | None, node: str, kind: str, due: dt.datetime) -> None:
        self.timers.append(
            {
                "workspace_id": self.instance.workspace_id,
                "instance_id": self.instance.id,
                "task_id": task_id,
                "node": node,
                "kind": kind,
                "due_at": due,
            }
        )


def apply_effects(w: Writing, plan: planner.Plan) -> bool:
    """Write `plan`; returns whether the process moved (a human task opened or closed)."""
    now = w.cmd.now
    moved = False
    changed: list[tuple[int, dict[str, list[Any]]]] = []
    timed: list[int] = []  # closed tasks whose SLA timers are still to be cancelled
    # Guarded updates first: a lost race refuses the command before anything else is written.
    for effect in plan.effects:
        if isinstance(effect, planner.CloseTask):
            values = {"status": effect.outcome, "comment": effect.comment or None, "acted_at": now}
            changed.append(_guarded(w, effect.task_id, LIVE, values, timed))
            moved = True
        elif isinstance(effect, planner.Activate):
            values: dict[str, Any] = {"status": OPEN}
            node = w.tasks[effect.task_id]["node"]
            due = w.sla_timers(effect.task_id, node)
            if due is not None:
                values["due_at"] = due
            changed.append(_guarded(w, effect.task_id, (WAITING,), values))
        elif isinstance(effect, planner.Suspend):
            changed.append(_guarded(w, effect.task_id, (OPEN,), {"status": WAITING}))
    instance_key = ("process_instance", str(w.instance.id))
    recorder.prefetch_heads(db.session, [instance_key] + [(TASK, str(i)) for i, _ in changed])
    for task_id, changes in changed:
        recorder.append(
            db.session,
            workspace_id=w.instance.workspace_id,
            entity_type=TASK,
            entity_id=str(task_id),
            action="update",
            payload={"changes": changes},
        )
    opened: list[dict[str, Any]] = []
    notices: list[planner.Notify] = []
    for effect in plan.effects:
        if isinstance(effect, planner.OpenTask):
            opened.append(_new_task(w, effect))
            moved = moved or effect.kind != "cc"
        elif isinstance(effect, planner.Event):
            recorder.append(
                db.session,
                workspace_id=w.instance.workspace_id,
                entity_type="process_instance",
                entity_id=str(w.instance.id),
                action=f"wf.{effect.action}",
                payload=plain_values(dict(effect.data)),
                context={
                    "member": w.cmd.actor,
                    "rule_version": w.rule_version,
                    "command": w.cmd.kind,
                },
            )
        elif isinstance(effect, planner.Notify):
            notices.append(effect)
        elif isinstance(effect, planner.RunAction):
            _insert_tasks(w, opened)  # the action sees the tasks opened before it
            opened = []
            current_app.extensions["suite.registry"].actions[effect.name](w.orm_instance())
        elif isinstance(effect, planner.StartWait):
            w.timer(None, effect.node, "wait", w.due(effect.after))
    _insert_tasks(w, opened)
    if timed:
        db.session.connection().execute(_CANCEL_TIMERS, {"tasks": timed})
    if w.timers:
        db.session.connection().execute(_INSERT_TIMERS, w.timers)
        w.timers = []
    _notify(w, notices)
    return moved


def _guarded(
    w: Writing,
    task_id: int,
    current: tuple[str, ...],
    values: dict[str, Any],
    timed: list[int] | None = None,
) -> tuple[int, dict[str, list[Any]]]:
    """Change a task only from the status read under the instance lock: a lost race (or a task
    of another instance) fails the whole command. Returns the task's column changes.

    `timed`: the task is being closed, so its pending SLA timers are cancelled. Only a task
    with a `due_at` has any (`Writing.sla_timers`); on PostgreSQL that is the same statement,
    elsewhere the id is added to `timed` for one UPDATE later.
    """
    row = w.tasks.get(task_id)
    if row is None or row["status"] not in current:
        raise CommandRefused("task_changed", 409, task=task_id)
    params = {
        "key_id": task_id,
        "key_status": row["status"],
        **{f"new_{k}": v for k, v in values.items()},
    }
    conn = db.session.connection()
    cancel = timed is not None and row["due_at"] is not None
    if cancel and conn.dialect.name == "postgresql":
        updated = conn.execute(_close_statement(tuple(values)), params).scalar()
    else:
        updated = conn.execute(update_statement(_T, tuple(values), guard=True), params).rowcount
        if cancel:
            timed.append(task_id)
    if updated != 1:
        raise CommandRefused("task_changed", 409, task=task_id)
    changes = {}
    for key, value in values.items():
        old_v, new_v = _plain(key, row[key]), _plain(key, value)
        if old_v != new_v:
            changes[key] = [old_v, new_v]
    row.update(values)
    # A copy the caller loaded (a page listing tasks) must not keep the old status.
    task = db.session.identity_map.get(db.session.identity_key(WorkflowTask, task_id))
    if task is not None:
        db.session.expire(task)
    return task_id, changes


_UPDATES: dict[tuple[str, tuple[str, ...], bool], Any] = {}


def update_statement(table: sa.Table, columns: tuple[str, ...], guard: bool = False) -> sa.Update:
    """`UPDATE table SET <columns> WHERE id = :key_id [AND status = :key_status]`, built once per
    shape (parameters `new_<column>`): building a statement costs more than running it."""
    shape = (table.name, columns, guard)
    stmt = _UPDATES.get(shape)
    if stmt is None:
        where = [table.c.id == sa.bindparam("key_id")]
        if guard:
            where.append(table.c.status == sa.bindparam("key_status"))
        stmt = _UPDATES[shape] = (
            sa.update(table)
            .where(*where)
            .values({c: sa.bindparam(f"new_{c}", type_=table.c[c].type) for c in columns})
        )
    return stmt


def _close_statement(columns: tuple[str, ...]) -> sa.Select:
    """PostgreSQL: the guarded UPDATE and its timers' cancellation in one statement; returns
    how many tasks it changed (must be 1)."""
    shape = ("close", columns, True)
    stmt = _UPDATES.get(shape)
    if stmt is None:
        timers = WorkflowTimer.__table__
        closed = update_statement(_T, columns, guard=True).returning(_T.c.id).cte("closed")
        cancelled = (
            sa.update(timers)
            .where(timers.c.task_id.in_(sa.select(closed.c.id)), timers.c.status == "pending")
            .values(status="cancelled")
            .returning(timers.c.id)
            .cte("cancelled")
        )
        stmt = _UPDATES[shape] = sa.select(
            sa.select(sa.func.count()).select_from(closed).scalar_subquery(),
            sa.select(sa.func.count()).select_from(cancelled).scalar_subquery(),
        )
    return stmt  # type: ignore[return-value]


def _new_task(w: Writing, effect: planner.OpenTask) -> dict[str, Any]:
    row = dict.fromkeys(_TASK_COLUMNS)
    row.pop("id")
    row.update(
        workspace_id=w.instance.workspace_id,
        instance_id=w.instance.id,
        node=effect.node,
        kind=effect.kind,
        assignee_id=effect.assignee,
        on_behalf_of_id=effect.on_behalf_of,
        status=WAITING if effect.waiting else (OPEN if effect.kind != "cc" else "cc"),
        seq=effect.seq,
        round=effect.round,
        added_by_task_id=effect.added_by,
        added_how=effect.added_how,
        created_at=w.cmd.now,
    )
    return row


def _insert_tasks(w: Writing, rows: list[dict[str, Any]]) -> None:
    """One INSERT for the opened tasks, their create events, and approval tasks' SLA timers."""
    if not rows:
        return
    spans = []
    for row in rows:
        if row["kind"] == "approval":  # due_at is known before the id: the timers get it below
            start = len(w.timers)
            row["due_at"] = w.sla_timers(None, row["node"])
            spans.append((row, start, len(w.timers)))
    ids = db.session.connection().execute(_INSERT_TASKS, rows).scalars().all()
    for row, task_id in zip(rows, ids, strict=True):
        row["id"] = task_id
        w.tasks[task_id] = row
        recorder.append(
            db.session,
            workspace_id=w.instance.workspace_id,
            entity_type=TASK,
            entity_id=str(task_id),
            action="create",
            payload={"values": {key: _plain(key, row.get(key)) for key in _TASK_COLUMNS}},
            new=True,
        )
    for row, start, end in spans:
        for timer in w.timers[start:end]:
            timer["task_id"] = row["id"]


def _notify(w: Writing, notices: list[planner.Notify]) -> None:
    if not any(r for n in notices for r in n.recipients):
        return
    from suite.notify import write_rows
    from suite.workflow import messages
    from suite.workflow.engine import document_types

    link = document_types()[w.instance.document_type].url(w.document())
    write_rows(messages.rows(w.instance, w.spec, notices, w.org, w.workspace.locale, link))


_ATTRS = sa.inspect(WorkflowTask).column_attrs


def _plain(key: str, value: Any) -> Any:
    return recorder.column_value(None, _ATTRS[key], value)


def plain_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe values (instance snapshot, event payloads); money stays exact as a string."""
    from suite.audit.chain import plain

    return {k: plain(v) for k, v in values.items()}
