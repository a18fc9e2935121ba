"""Reading an instance for a command: the row lock, the pinned spec, the tasks and their audit
chain heads, all under the lock (docs/WORKFLOW.md section 4, docs/PERFORMANCE.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.db import db
from suite.tenancy import SYSTEM, Workspace, current_workspace_id
from suite.workflow.models import LIVE, ProcessInstance, ProcessVersion, WorkflowTask
from suite.workflow.org import needs as org_needs
from suite.workflow.planner import CommandRefused, Snapshot, TaskSnap

# --- pinned versions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pinned:
    """An immutable ProcessVersion as the engine uses it (cached per process: never mutate)."""

    id: int
    published_at: dt.datetime
    number: int
    spec: Mapping[str, Any]
    levels: int  # the manager levels and role codes its resolvers can ask (suite.workflow.org)
    roles: frozenset[str]


_PINNED: dict[int, Pinned] = {}


def pinned(version_id: int, published_at: dt.datetime | None = None) -> Pinned:
    """A version's spec, read once per process. The cache entry must match `published_at` (read
    with the instance lock): versions never change, but ids come again after a database reset."""
    hit = _PINNED.get(version_id)
    if hit is not None and published_at is not None and hit.published_at == published_at:
        return hit
    row = db.session.execute(
        sa.select(ProcessVersion.spec, ProcessVersion.number, ProcessVersion.published_at).where(
            ProcessVersion.id == version_id
        )
    ).one()
    levels, roles = org_needs(row.spec)
    if len(_PINNED) >= 1000:
        _PINNED.clear()
    hit = _PINNED[version_id] = Pinned(
        version_id, row.published_at, row.number, row.spec, levels, roles
    )
    return hit


# --- reading --------------------------------------------------------------------------------------


def _head(entity_type: str, entity_id: Any) -> Any:
    """`seq:hash` of a chain's last event (a scalar subquery)."""
    a = AuditEvent.__table__
    return (
        sa.select(sa.cast(a.c.seq, sa.String) + ":" + a.c.hash)
        .where(a.c.entity_type == entity_type, a.c.entity_id == entity_id)
        .order_by(a.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


_T = WorkflowTask.__table__
# What the planner reads, and the old values of what the engine changes (status, comment, ...).
_TASK_COLUMNS = [
    _T.c[name]
    for name in (
        *("id", "node", "kind", "assignee_id", "on_behalf_of_id", "status", "seq", "round"),
        *("added_by_task_id", "added_how", "comment", "acted_at", "due_at"),
    )
]
# The chain heads the command will append to, read in the same round trip: the instance's and
# its live tasks' chains are only written under the instance lock.
_TASK_HEAD = sa.case(
    (_T.c.status.in_(LIVE), _head("workflow_task", sa.cast(_T.c.id, sa.String))),
    else_=sa.null(),
)
_INSTANCE_HEAD = _head("process_instance", sa.bindparam("instance_key", type_=sa.String))
_TASKS = (
    sa.select(*_TASK_COLUMNS, _TASK_HEAD.label("audit_head"), _INSTANCE_HEAD.label("instance_head"))
    .where(_T.c.instance_id == sa.bindparam("instance"))
    .order_by(_T.c.id)
)


def task_rows(instance: Any) -> dict[int, dict[str, Any]]:
    """The instance's task rows by id, read fresh under the lock (never from the identity map:
    tasks a page loaded before the lock would keep their old status, and a 会签 node whose other
    approver had just approved would never complete). Seeds the audit chain heads the command
    appends to (`recorder.append` then reads none)."""
    key = str(instance.id)
    rows = db.session.connection().execute(_TASKS, {"instance": instance.id, "instance_key": key})
    return _tasks_and_heads(key, [(dict(row), "") for row in rows.mappings()])


def _tasks_and_heads(
    instance_key: str, rows: list[tuple[dict[str, Any], str]]
) -> dict[int, dict[str, Any]]:
    heads = db.session.info.setdefault("audit_heads", {})
    out = {}
    for row, prefix in rows:
        task = {c.key: row[prefix + c.key] for c in _TASK_COLUMNS}
        for entity, head in (
            (("workflow_task", str(task["id"])), row[prefix + "audit_head"]),
            (("process_instance", instance_key), row["instance_head"]),
        ):
            if head and entity not in heads:
                seq, hash_ = head.split(":", 1)
                heads[entity] = (int(seq), hash_)
        out[task["id"]] = task
    return out


def snapshot(
    instance: ProcessInstance,
    spec: Mapping[str, Any],
    rows: Mapping[int, Mapping[str, Any]] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Snapshot:
    """What the planner sees: status, state, the tasks (`rows`, else read now), typed values."""
    if rows is None:
        rows = task_rows(instance)
    return Snapshot(
        status=instance.status,
        initiator=instance.initiator_id,
        state=instance.state or {},
        tasks=tuple(
            TaskSnap(
                t["id"],
                t["node"],
                t["assignee_id"],
                t["status"],
                t["kind"],
                t["seq"],
                t["round"],
                t["on_behalf_of_id"],
                t["added_by_task_id"],
                t["added_how"],
            )
            for t in rows.values()
        ),
        values={
            **typed(instance.values if values is None else values, spec.get("fields") or {}),
            **(spec.get("params") or {}),
        },
    )


def typed(values: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Stored (JSON) values back to what rules compare: money and numbers as Decimal, dates."""
    from decimal import Decimal, InvalidOperation

    out = dict(values or {})
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


_I = ProcessInstance.__table__
_LOCKS: dict[tuple[bool, bool], sa.Select] = {}


class Locked:
    """The locked process_instance row (plus its version's publishing time and its workspace's
    locale and calendar) as plain attributes: the engine needs no ORM object for it."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    id: int
    workspace_id: int
    version_id: int
    document_type: str
    document_id: int
    title: str
    status: str
    initiator_id: int
    state: dict[str, Any]
    values: dict[str, Any]
    version: int
    ended_at: dt.datetime | None
    published_at: dt.datetime
    locale: str
    timezone: str
    settings: dict[str, Any] | None


def _lock_statement(postgresql: bool, scoped: bool) -> sa.Select:
    """Built once per shape. A Core statement: no tenancy hook, so the workspace is checked
    here (`workspace_id = :ws` unless in SYSTEM scope, as the hook would).

    One row per task (the task columns prefixed `t_`), so that a command that did not wait for
    the lock reads everything in one round trip. One that waited was given the row as it is
    now but the tasks as they were when the statement started: `seen_version` (an InitPlan,
    not evaluated again after the wait) then differs from `version`, and the tasks are read
    again (`lock_row`).
    """
    stmt = _LOCKS.get((postgresql, scoped))
    if stmt is None:
        v, w, seen = ProcessVersion.__table__, Workspace.__table__, _I.alias("seen")
        instance_id = sa.bindparam("instance_id")
        stmt = (
            sa.select(
                _I,
                v.c.published_at,
                w.c.locale,
                w.c.timezone,
                w.c.settings,
                sa.select(seen.c.version)
                .where(seen.c.id == instance_id)
                .scalar_subquery()
                .label("seen_version"),
                _INSTANCE_HEAD.label("instance_head"),
                *(c.label(f"t_{c.key}") for c in _TASK_COLUMNS),
                _TASK_HEAD.label("t_audit_head"),
            )
            .select_from(
                _I.join(v, v.c.id == _I.c.version_id)
                .join(w, w.c.id == _I.c.workspace_id)
                .outerjoin(_T, _T.c.instance_id == _I.c.id)
            )
            .where(_I.c.id == instance_id)
            .order_by(_T.c.id)
            .with_for_update(of=_I)
        )
        if scoped:
            stmt = stmt.where(_I.c.workspace_id == sa.bindparam("ws"))
        if postgresql:
            # SET LOCAL in the locking statement itself (one round trip less): the filter has
            # no column in it, so PostgreSQL evaluates it below the row lock, before waiting.
            stmt = stmt.where(sa.func.set_config("lock_timeout", "2s", True).is_not(None))
        _LOCKS[(postgresql, scoped)] = stmt
    return stmt


_LOCKED = [c.key for c in _I.columns] + ["published_at", "locale", "timezone", "settings"]


def lock_row(instance_id: int) -> tuple[Locked, dict[int, dict[str, Any]]]:
    """The instance row locked until commit (PostgreSQL: gives up after 2 s), and its task rows
    (`task_rows`) read after the lock."""
    ws = current_workspace_id()
    conn = db.session.connection()
    key = str(instance_id)
    rows = (
        conn.execute(
            _lock_statement(conn.dialect.name == "postgresql", ws != SYSTEM),
            {"instance_id": instance_id, "ws": ws, "instance_key": key},
        )
        .mappings()
        .all()
    )
    if not rows:
        raise CommandRefused("unknown_instance", 404)
    forget(instance_id)  # a copy loaded before the lock is stale
    first = rows[0]
    instance = Locked({k: first[k] for k in _LOCKED})
    if first["seen_version"] != first["version"]:  # waited for the lock: read the tasks now
        return instance, task_rows(instance)
    return instance, _tasks_and_heads(key, [(r, "t_") for r in rows if r["t_id"] is not None])


def forget(instance_id: int) -> None:
    """Expire the session's ORM copy of an instance (if any): the engine writes it with Core."""
    obj = db.session.identity_map.get(db.session.identity_key(ProcessInstance, instance_id))
    if obj is not None:
        db.session.expire(obj)


def lock(instance_id: int) -> ProcessInstance:
    """The instance row as an ORM object, locked until commit (PostgreSQL: gives up after 2 s)."""
    lock_row(instance_id)
    return db.session.get(ProcessInstance, instance_id)  # expired by lock_row: read again
