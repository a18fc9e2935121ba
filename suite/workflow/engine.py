"""apply(): one command = one transaction (ARCHITECTURE 4.3, docs/WORKFLOW.md section 4).

Lock the instance row, check the idempotency key and the expected version, plan, write the
effects (task updates guarded by `WHERE status IN ('open','waiting')`), bump the version, audit,
notify through the outbox, start timers, and move the document's lifecycle on an outcome.
The hot path is kept to about a dozen statements (docs/PERFORMANCE.md): the version's spec is
cached, the org is read in one query, and the engine's own rows are written with Core
statements whose audit events it appends itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from suite.audit import recorder
from suite.db import db, utcnow
from suite.tenancy import Workspace
from suite.workflow import planner
from suite.workflow.definitions import definition_for
from suite.workflow.effects import Writing, apply_effects, plain_values, update_statement
from suite.workflow.models import CommandLog, ProcessInstance
from suite.workflow.org import Org
from suite.workflow.org import needs as org_needs
from suite.workflow.planner import CommandRefused, Snapshot
from suite.workflow.reading import Locked, Pinned, forget, lock_row, pinned, snapshot, task_rows
from suite.workflow.reading import lock as lock
from suite.workflow.reading import typed as typed
from suite.workflow.resolvers import Who, resolve

__all__ = ["DocumentType", "OrgContext", "Result", "command", "lock", "snapshot", "submit", "typed"]

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

    def __init__(
        self, instance: ProcessInstance | Locked, spec: Mapping[str, Any], org: Org | None = None
    ) -> None:
        self.instance, self.spec = instance, spec
        self.names = frozenset(spec.get("fields") or {}) | frozenset(spec.get("params") or {})
        if org is None:
            levels, roles = org_needs(spec)
            org = Org(
                instance.workspace_id, instance.initiator_id, utcnow(), levels=levels, roles=roles
            )
        self.org = org

    def approvers(self, node_id: str, node: Mapping[str, Any], snap: Snapshot) -> list[int]:
        entries = node.get("approvers") or node.get("recipients") or []
        who = Who(
            initiator=snap.initiator,
            node=node_id,
            values=snap.values,
            selected=self.instance.state.get("selected", {}),
            org=self.org if snap.initiator == self.org.initiator else None,
        )
        return resolve(entries, who)

    def manager_of(self, member: int) -> int | None:
        return self.org.manager_of(member)

    def admins(self) -> list[int]:
        return self.org.admins()

    def delegate_of(self, member: int, now: dt.datetime) -> int | None:
        return self.org.delegate_of(member, now)

    def condition(self, expr: str, values: Mapping[str, Any]) -> bool:
        from suite.workflow.conditions import ConditionError, evaluate

        try:
            return evaluate(_compiled(expr, self.names), values)
        except ConditionError:
            return False  # a case that cannot be evaluated is not taken (validated at publish)


def _replay(key: str | None) -> Result | None:
    if not key:
        return None
    r = db.session.scalar(sa.select(CommandLog.result).where(CommandLog.key == key))
    if r is None:
        return None
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
    version = pinned(definition.current_version_id)
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
    workspace = db.session.get(Workspace, instance.workspace_id)
    cmd = planner.Command("submit", initiator, utcnow())
    return _run(instance, version, workspace, cmd, key)


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
    instance, rows = lock_row(instance_id)
    replayed = _replay(key)
    if replayed:
        return replayed
    if expected_version is not None and instance.version != expected_version:
        raise CommandRefused("stale", 409, version=instance.version)
    version = pinned(instance.version_id, instance.published_at)
    cmd = planner.Command(kind, actor, utcnow(), **fields)
    return _run(instance, version, instance, cmd, key, rows)


def _run(
    instance: ProcessInstance | Locked,
    version: Pinned,
    workspace: Any,
    cmd: planner.Command,
    key: str | None,
    rows: dict[int, dict[str, Any]] | None = None,
) -> Result:
    spec = version.spec
    if rows is None:
        rows = task_rows(instance)
    doc_type = document_types()[instance.document_type]
    document = values = None
    task = rows.get(cmd.task_id) if cmd.task_id else None
    if cmd.kind == "approve" and task is not None and task["kind"] == "edit":
        # resubmitted: route on the edited values
        document = doc_type.get(instance.document_id)
        values = plain_values(doc_type.values(document))
    snap = snapshot(instance, spec, rows, values)
    behalf = task["on_behalf_of_id"] if task is not None else None
    org = Org(
        instance.workspace_id,
        instance.initiator_id,
        cmd.now,
        levels=version.levels,
        roles=version.roles,
        extra=(cmd.actor, behalf),
    )
    plan = planner.plan(spec, snap, cmd, OrgContext(instance, spec, org))
    people = org.persons([i for i in (cmd.actor, behalf) if i])
    users = [people[i].user_id if i in people else None for i in (cmd.actor, behalf)]
    with recorder.acting_as(*users):
        w = Writing(instance, spec, cmd, rows, org, workspace, version.number, doc=document)
        moved = apply_effects(w, plan)
        selected = instance.state.get("selected") if instance.state else None
        new: dict[str, Any] = {
            "status": plan.status,
            "state": {**plan.state, **({"selected": selected} if selected else {})},
            "version": instance.version + 1,
        }
        if values is not None:
            new["values"] = values
        if moved:
            new["moved_at"] = cmd.now
        if plan.status in ENDED and instance.ended_at is None:
            new["ended_at"] = cmd.now
        _update_instance(instance, new)
        result = Result(instance.id, instance.status, instance.version)
        if key:
            db.session.connection().execute(
                _LOG,
                {
                    "workspace_id": instance.workspace_id,
                    "key": key,
                    "instance_id": instance.id,
                    "command": cmd.kind,
                    "actor_id": cmd.actor,
                    "result": result.__dict__,
                },
            )
        if plan.status != snap.status and plan.status in ENDED + ("draft",):
            doc_type.on_outcome(w.document(), plan.status)
        db.session.flush()  # the caller's and on_outcome's changes, recorded as this actor
    return result


_LOG = sa.insert(CommandLog.__table__)
_INSTANCE = ProcessInstance.__table__
_INSTANCE_ATTRS = sa.inspect(ProcessInstance).column_attrs


def _update_instance(instance: ProcessInstance | Locked, new: Mapping[str, Any]) -> None:
    """One UPDATE and its audit event, without the ORM's flush (the object is kept current)."""
    changes = {}
    for key, value in new.items():
        attr = _INSTANCE_ATTRS[key]
        old_v = recorder.column_value(None, attr, getattr(instance, key))
        new_v = recorder.column_value(None, attr, value)
        if old_v != new_v:
            changes[key] = [old_v, new_v]
    db.session.connection().execute(
        update_statement(_INSTANCE, tuple(new)),
        {"key_id": instance.id, **{f"new_{k}": v for k, v in new.items()}},
    )
    if isinstance(instance, ProcessInstance):  # submit: the object it created
        for key, value in new.items():
            set_committed_value(instance, key, value)
    else:
        instance.__dict__.update(new)
        forget(instance.id)
    if changes:
        recorder.append(
            db.session,
            workspace_id=instance.workspace_id,
            entity_type="process_instance",
            entity_id=str(instance.id),
            action="update",
            payload={"changes": changes},
        )
