"""apply(): one command = one transaction (ARCHITECTURE 4.3, docs/WORKFLOW.md section 4).

Lock the instance row, check the idempotency key and the expected version, plan, write the
effects (task updates guarded by `WHERE status IN ('open','waiting')`), bump the version, audit,
notify through the outbox, start timers, and move the document's lifecycle on an outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from suite.audit import recorder
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.workflow import planner
from suite.workflow.definitions import definition_for
from suite.workflow.effects import apply_effects, plain_values
from suite.workflow.models import (
    CommandLog,
    Delegation,
    ProcessInstance,
    ProcessVersion,
    WorkflowTask,
)
from suite.workflow.planner import CommandRefused, Snapshot, TaskSnap
from suite.workflow.resolvers import Who, admins, resolve

ENDED = ("approved", "rejected", "withdrawn", "cancelled")


class DocumentType(Protocol):
    """What the engine needs from a document type a module registers (manifest `documents`)."""

    key: str
    template: str  # the process template key

    def get(self, document_id: int) -> Any: ...
    def values(self, document: Any) -> dict[str, Any]: ...
    def title(self, document: Any) -> str: ...
    def url(self, document: Any) -> str: ...
    def on_outcome(self, document: Any, status: str) -> None: ...


def document_types() -> Mapping[str, DocumentType]:
    return current_app.extensions["suite.registry"].documents


@dataclass(frozen=True)
class Result:
    instance_id: int
    status: str
    version: int
    replayed: bool = False  # the same key was answered before: nothing was written now


# --- context for the planner ----------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _compiled(expr: str, names: frozenset[str]) -> Any:
    from suite.workflow.conditions import compile_condition

    return compile_condition(expr, names)


class OrgContext:
    """The planner's view of the organisation, read inside the command's transaction."""

    def __init__(self, instance: ProcessInstance, spec: Mapping[str, Any]) -> None:
        self.instance, self.spec = instance, spec
        self.names = frozenset(spec.get("fields") or {}) | frozenset(spec.get("params") or {})

    def approvers(self, node_id: str, node: Mapping[str, Any], snap: Snapshot) -> list[int]:
        entries = node.get("approvers") or node.get("recipients") or []
        who = Who(
            initiator=snap.initiator,
            node=node_id,
            values=snap.values,
            selected=self.instance.state.get("selected", {}),
        )
        return resolve(entries, who)

    def manager_of(self, member: int) -> int | None:
        return db.session.scalar(sa.select(Membership.manager_id).where(Membership.id == member))

    def admins(self) -> list[int]:
        return admins()

    def delegate_of(self, member: int, now: dt.datetime) -> int | None:
        return db.session.scalar(
            sa.select(Delegation.delegate_id)
            .where(
                Delegation.member_id == member,
                Delegation.starts_at <= now,
                Delegation.ends_at > now,
            )
            .order_by(Delegation.id.desc())
            .limit(1)
        )

    def condition(self, expr: str, values: Mapping[str, Any]) -> bool:
        from suite.workflow.conditions import ConditionError, evaluate

        try:
            return evaluate(_compiled(expr, self.names), values)
        except ConditionError:
            return False  # a case that cannot be evaluated is not taken (validated at publish)


# --- reading --------------------------------------------------------------------------------------


def snapshot(instance: ProcessInstance, spec: Mapping[str, Any]) -> Snapshot:
    # populate_existing: tasks the caller loaded before the lock (a page listing them) would
    # otherwise keep their old status here; a 会签 node whose other approver had just approved
    # would then never complete.
    tasks = db.session.scalars(
        sa.select(WorkflowTask)
        .where(WorkflowTask.instance_id == instance.id)
        .order_by(WorkflowTask.id)
        .execution_options(populate_existing=True)
    )
    return Snapshot(
        status=instance.status,
        initiator=instance.initiator_id,
        state=instance.state or {},
        tasks=tuple(
            TaskSnap(
                t.id,
                t.node,
                t.assignee_id,
                t.status,
                t.kind,
                t.seq,
                t.round,
                t.on_behalf_of_id,
                t.added_by_task_id,
                t.added_how,
            )
            for t in tasks
        ),
        values={
            **typed(instance.values or {}, spec.get("fields") or {}),
            **(spec.get("params") or {}),
        },
    )


def typed(values: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Stored (JSON) values back to what rules compare: money and numbers as Decimal, dates."""
    from decimal import Decimal, InvalidOperation

    out = dict(values)
    for name, spec in fields.items():
        value = out.get(name)
        if value is None:
            continue
        try:
            if spec.get("type") in ("money", "number"):
                out[name] = Decimal(str(value))
            elif spec.get("type") == "date":
                out[name] = dt.date.fromisoformat(str(value))
        except (InvalidOperation, ValueError):
            out[name] = None
    return out


def lock(instance_id: int) -> ProcessInstance:
    """The instance row, locked until commit (PostgreSQL: gives up after 2 s)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
    instance = db.session.scalar(
        sa.select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise CommandRefused("unknown_instance", 404)
    return instance


def _replay(key: str | None) -> Result | None:
    if not key:
        return None
    log = db.session.scalar(sa.select(CommandLog).where(CommandLog.key == key))
    if log is None:
        return None
    r = log.result
    return Result(r["instance_id"], r["status"], r["version"], replayed=True)


# --- commands -------------------------------------------------------------------------------------


def submit(
    document_type: str,
    document: Any,
    initiator: int,
    *,
    key: str | None = None,
    selected: Mapping[str, Sequence[int]] | None = None,
) -> Result:
    """Start the document type's process for a document (a new instance each submission)."""
    # Lock the document (ARCHITECTURE 4.3), then look: two submissions at once (two tabs, a
    # double click with different keys) must not start two processes for one document.
    db.session.flush()
    doc_table = sa.inspect(document).mapper.local_table
    db.session.execute(
        sa.select(doc_table.c.id).where(doc_table.c.id == document.id).with_for_update()
    )
    replayed = _replay(key)
    if replayed:
        return replayed
    running = db.session.scalar(
        sa.select(ProcessInstance.id)
        .where(
            ProcessInstance.document_type == document_type,
            ProcessInstance.document_id == document.id,
            ProcessInstance.status == "running",
        )
        .limit(1)
    )
    if running is not None:
        raise CommandRefused("already_submitted", 409, instance=running)
    doc_type = document_types()[document_type]
    definition = definition_for(doc_type.template)
    version = db.session.get(ProcessVersion, definition.current_version_id)
    instance = ProcessInstance(
        version_id=version.id,
        document_type=document_type,
        document_id=document.id,
        title=doc_type.title(document)[:200],
        status="draft",
        initiator_id=initiator,
        state={"selected": {k: list(v) for k, v in (selected or {}).items()}},
        values=plain_values(doc_type.values(document)),
        version=0,
    )
    db.session.add(instance)
    db.session.flush()
    return _run(instance, version.spec, planner.Command("submit", initiator, utcnow()), key, None)


def command(
    instance_id: int,
    kind: str,
    actor: int | None,
    *,
    key: str | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> Result:
    """Run `kind` on a locked instance; a repeated key returns its first answer."""
    instance = lock(instance_id)
    replayed = _replay(key)
    if replayed:
        return replayed
    if expected_version is not None and instance.version != expected_version:
        raise CommandRefused("stale", 409, version=instance.version)
    version = db.session.get(ProcessVersion, instance.version_id)
    cmd = planner.Command(kind, actor, utcnow(), **fields)
    if kind == "approve" and cmd.task_id:
        task = db.session.get(WorkflowTask, cmd.task_id)
        if task is not None and task.kind == "edit":  # resubmitted: route on the edited values
            doc_type = document_types()[instance.document_type]
            instance.values = plain_values(doc_type.values(doc_type.get(instance.document_id)))
    return _run(instance, version.spec, cmd, key, expected_version)


def _run(
    instance: ProcessInstance,
    spec: Mapping[str, Any],
    cmd: planner.Command,
    key: str | None,
    expected_version: int | None,
) -> Result:
    snap = snapshot(instance, spec)
    plan = planner.plan(spec, snap, cmd, OrgContext(instance, spec))
    actor_user, behalf_user = _actor_users(cmd, snap)
    with recorder.acting_as(actor_user, behalf_user):
        apply_effects(instance, spec, cmd, plan)
        instance.status = plan.status
        selected = instance.state.get("selected") if instance.state else None
        instance.state = {**plan.state, **({"selected": selected} if selected else {})}
        instance.version += 1
        if plan.status in ENDED and instance.ended_at is None:
            instance.ended_at = cmd.now
        result = Result(instance.id, instance.status, instance.version)
        if key:
            db.session.add(
                CommandLog(
                    key=key,
                    instance_id=instance.id,
                    command=cmd.kind,
                    actor_id=cmd.actor,
                    result=result.__dict__,
                )
            )
        db.session.flush()
        if plan.status != snap.status and plan.status in ENDED + ("draft",):
            doc_type = document_types()[instance.document_type]
            doc_type.on_outcome(doc_type.get(instance.document_id), plan.status)
            db.session.flush()
    return result


def _actor_users(cmd: planner.Command, snap: Snapshot) -> tuple[int | None, int | None]:
    """(user id of the actor, user id of whom they act for) for the audit trail."""
    behalf = None
    if cmd.task_id:
        task = next((t for t in snap.tasks if t.id == cmd.task_id), None)
        behalf = task.on_behalf_of if task else None
    ids = [i for i in (cmd.actor, behalf) if i]
    users = (
        dict(
            db.session.execute(
                sa.select(Membership.id, Membership.user_id).where(Membership.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    return users.get(cmd.actor), users.get(behalf)
