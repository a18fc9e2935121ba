"""Writing a plan's effects inside the command's transaction (docs/WORKFLOW.md section 4).

Task changes are guarded updates (`WHERE status IN (...)`, rowcount must be 1) with their audit
events appended here; opened approval tasks get their SLA timers; events go on the instance's chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app

from suite.audit import recorder
from suite.db import db
from suite.tenancy import Workspace, current_workspace_id
from suite.workflow import planner
from suite.workflow.models import (
    LIVE,
    OPEN,
    WAITING,
    ProcessInstance,
    ProcessVersion,
    WorkflowTask,
    WorkflowTimer,
)
from suite.workflow.planner import CommandRefused


def apply_effects(
    instance: ProcessInstance, spec: Mapping[str, Any], cmd: planner.Command, plan: planner.Plan
) -> None:
    now = cmd.now
    opened: list[WorkflowTask] = []
    closed: list[int] = []
    moved = False
    for effect in plan.effects:
        if isinstance(effect, planner.OpenTask):
            task = WorkflowTask(
                instance_id=instance.id,
                node=effect.node,
                kind=effect.kind,
                assignee_id=effect.assignee,
                on_behalf_of_id=effect.on_behalf_of,
                status=WAITING if effect.waiting else (OPEN if effect.kind != "cc" else "cc"),
                seq=effect.seq,
                round=effect.round,
                added_by_task_id=effect.added_by,
                added_how=effect.added_how,
                created_at=now,
            )
            db.session.add(task)
            opened.append(task)
            moved = moved or effect.kind != "cc"
        elif isinstance(effect, planner.CloseTask):
            _guarded(
                effect.task_id, LIVE, effect.outcome, comment=effect.comment or None, acted_at=now
            )
            closed.append(effect.task_id)
            moved = True
        elif isinstance(effect, planner.Activate):
            _guarded(effect.task_id, (WAITING,), OPEN)
        elif isinstance(effect, planner.Suspend):
            _guarded(effect.task_id, (OPEN,), WAITING)
        elif isinstance(effect, planner.Event):
            _event(instance, spec, effect, cmd)
        elif isinstance(effect, planner.Notify):
            from suite.workflow.messages import send

            send(instance, effect)
        elif isinstance(effect, planner.RunAction):
            action = current_app.extensions["suite.registry"].actions[effect.name]
            action(instance)
        elif isinstance(effect, planner.StartWait):
            db.session.add(
                WorkflowTimer(
                    instance_id=instance.id,
                    node=effect.node,
                    kind="wait",
                    due_at=_due(now, effect.after),
                )
            )
    db.session.flush()
    if closed:
        db.session.execute(
            sa.update(WorkflowTimer)
            .where(WorkflowTimer.task_id.in_(closed), WorkflowTimer.status == "pending")
            .values(status="cancelled")
        )
    for task in opened:
        if task.kind == "approval":
            _timers(instance, spec, task, now)
    for effect in plan.of(planner.Activate):
        task = db.session.get(WorkflowTask, effect.task_id)
        _timers(instance, spec, task, now)
    if moved:
        instance.moved_at = now


def _guarded(task_id: int, current: Sequence[str], status: str, **values: Any) -> None:
    """Change a task only from the expected status: a lost race fails the whole command.

    A plain UPDATE (no ORM flush), so the task's audit event is appended here.
    """
    table = WorkflowTask.__table__
    db.session.flush()
    row = db.session.execute(sa.select(table).where(table.c.id == task_id)).mappings().first()
    if row is None or row["status"] not in current:
        raise CommandRefused("task_changed", 409, task=task_id)
    new = {"status": status, **values}
    result = db.session.execute(
        sa.update(table).where(table.c.id == task_id, table.c.status == row["status"]).values(**new)
    )
    if result.rowcount != 1:
        raise CommandRefused("task_changed", 409, task=task_id)
    attrs = sa.inspect(WorkflowTask).column_attrs
    changes = {}
    for key, value in new.items():
        old_v, new_v = (recorder.column_value(None, attrs[key], v) for v in (row[key], value))
        if old_v != new_v:
            changes[key] = [old_v, new_v]
    recorder.append(
        db.session,
        workspace_id=row["workspace_id"],
        entity_type="workflow_task",
        entity_id=str(task_id),
        action="update",
        payload={"changes": changes},
    )
    task = db.session.identity_map.get(db.session.identity_key(WorkflowTask, task_id))
    if task is not None:
        db.session.expire(task)


def _due(start: dt.datetime, after: str) -> dt.datetime:
    from suite.workflow.calendar import calendar_from_settings, parse_duration

    ws = db.session.get(Workspace, current_workspace_id())
    # The workspace's own time zone always wins over a copy stored with the calendar.
    settings = {**((ws.settings or {}).get("calendar") or {}), "timezone": ws.timezone}
    return calendar_from_settings(settings).due(start, parse_duration(str(after)))


def _timers(
    instance: ProcessInstance, spec: Mapping[str, Any], task: WorkflowTask, now: dt.datetime
) -> None:
    sla = spec["nodes"][task.node].get("sla") or {}
    plan = [("remind", sla.get("remind_after")), ("escalate", sla.get("escalate_after"))]
    if sla.get("auto_action"):
        plan.append(("timeout", sla.get("auto_after")))
    first_due = None
    for kind, after in plan:
        if not after:
            continue
        due = _due(now, after)
        first_due = due if first_due is None else min(first_due, due)
        db.session.add(
            WorkflowTimer(
                instance_id=instance.id, task_id=task.id, node=task.node, kind=kind, due_at=due
            )
        )
    if first_due is not None:
        task.due_at = first_due


def _version_number(instance: ProcessInstance) -> int | None:
    cache = db.session.info.setdefault("wf_version_numbers", {})
    if instance.version_id not in cache:
        cache[instance.version_id] = db.session.scalar(
            sa.select(ProcessVersion.number).where(ProcessVersion.id == instance.version_id)
        )
    return cache[instance.version_id]


def _event(
    instance: ProcessInstance, spec: Mapping[str, Any], effect: planner.Event, cmd: planner.Command
) -> None:
    db.session.flush()  # the instance's own row events first: one chain, in order
    version_no = _version_number(instance)
    recorder.append(
        db.session,
        workspace_id=instance.workspace_id,
        entity_type="process_instance",
        entity_id=str(instance.id),
        action=f"wf.{effect.action}",
        payload=plain_values(dict(effect.data)),
        context={"member": cmd.actor, "rule_version": version_no, "command": cmd.kind},
    )


def plain_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe values (instance snapshot, event payloads); money stays exact as a string."""
    from suite.audit.chain import plain

    return {k: plain(v) for k, v in values.items()}
