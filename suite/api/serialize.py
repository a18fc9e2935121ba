"""Domain objects as the API's JSON (the shapes `suite.api.spec` documents).

Money is a string with two decimals, times are ISO 8601 in UTC, people are `{id, name}` with the
membership id. Lists load their people and process labels in one query each, never per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.audit.timeline import entries
from suite.auth.models import Department, User
from suite.db import db
from suite.i18n import localized
from suite.requests.models import GeneralRequest
from suite.workflow.messages import node_label
from suite.workflow.models import LIVE, ProcessInstance, ProcessVersion, WorkflowTask

TIMELINE_LIMIT = 500


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def _locale() -> str:
    from suite.templating import current_locale

    return current_locale()


def members(ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    """{membership id: {"id", "name"}} for the given ids (one query)."""
    from suite.workflow.panels import member_names

    return {mid: {"id": mid, "name": name} for mid, name in member_names(ids).items()}


def specs(version_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = set(version_ids)
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(ProcessVersion.id, ProcessVersion.spec).where(ProcessVersion.id.in_(wanted))
    )
    return dict(rows.all())


def instance_summary(instance: ProcessInstance, people: Mapping[int, Any]) -> dict[str, Any]:
    return {
        "id": instance.id,
        "title": instance.title,
        "status": instance.status,
        "version": instance.version,
        "document_type": instance.document_type,
        "document_id": instance.document_id,
        "initiator": people.get(instance.initiator_id),
        "started_at": iso(instance.started_at),
        "ended_at": iso(instance.ended_at),
    }


def task(
    t: WorkflowTask,
    spec: Mapping[str, Any],
    people: Mapping[int, Any],
    instance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out = {
        "id": t.id,
        "instance_id": t.instance_id,
        "node": t.node,
        "node_label": node_label(dict(spec), t.node, _locale()) if spec else t.node,
        "kind": t.kind,
        "status": t.status,
        "round": t.round,
        "assignee": people.get(t.assignee_id),
        "on_behalf_of": people.get(t.on_behalf_of_id) if t.on_behalf_of_id else None,
        "comment": t.comment,
        "created_at": iso(t.created_at),
        "acted_at": iso(t.acted_at),
        "due_at": iso(t.due_at),
    }
    if instance is not None:
        out["instance"] = instance
    return out


def task_rows(rows: list[tuple[WorkflowTask, ProcessInstance]]) -> list[dict[str, Any]]:
    """Inbox rows: each task with a summary of its instance."""
    people = members(
        i for t, inst in rows for i in (t.assignee_id, t.on_behalf_of_id, inst.initiator_id)
    )
    labels = specs(inst.version_id for _t, inst in rows)
    return [
        task(t, labels.get(inst.version_id, {}), people, instance_summary(inst, people))
        for t, inst in rows
    ]


def instance_rows(instances: list[ProcessInstance]) -> list[dict[str, Any]]:
    people = members(i.initiator_id for i in instances)
    return [instance_summary(i, people) for i in instances]


def instance_detail(instance: ProcessInstance, me: int) -> dict[str, Any]:
    """Status, version, current steps with their assignees, every task, and the timeline."""
    spec = instance.process_version.spec
    tasks = list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(WorkflowTask.instance_id == instance.id)
            .order_by(WorkflowTask.id)
        )
    )
    people = members(
        [instance.initiator_id]
        + [t.assignee_id for t in tasks]
        + [t.on_behalf_of_id for t in tasks]
    )
    locale = _locale()
    current_round = (instance.state or {}).get("round", 1)
    current = []
    for node_id in (instance.state or {}).get("active", {}):
        live = [
            t for t in tasks if t.node == node_id and t.round == current_round and t.status in LIVE
        ]
        current.append(
            {
                "node": node_id,
                "label": node_label(spec, node_id, locale),
                "kind": spec["nodes"].get(node_id, {}).get("kind"),
                "assignees": [people[t.assignee_id] for t in live if t.assignee_id in people],
                "task_ids": [t.id for t in live],
            }
        )
    label = localized(spec.get("label"), locale) or spec.get("key")
    doc = _document(instance)
    return {
        **instance_summary(instance, people),
        "process": {
            "key": spec.get("key"),
            "label": label,
            "version": instance.process_version.number,
        },
        "document": doc,
        "values": instance.values or {},
        "current": current,
        "my_open_task_ids": [t.id for t in tasks if t.assignee_id == me and t.status == "open"],
        "tasks": [task(t, spec, people) for t in tasks],
        "timeline": timeline(instance),
    }


def _document(instance: ProcessInstance) -> dict[str, Any]:
    from suite.workflow.engine import document_types

    doc_type = document_types().get(instance.document_type)
    document = doc_type.get(instance.document_id) if doc_type else None
    return {
        "type": instance.document_type,
        "id": instance.document_id,
        "url": doc_type.url(document) if document is not None else None,
    }


def timeline(instance: ProcessInstance) -> list[dict[str, Any]]:
    """The instance's audit events, oldest first."""
    events = list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity_type == "process_instance",
                AuditEvent.entity_id == str(instance.id),
            )
            .order_by(AuditEvent.seq)
            .limit(TIMELINE_LIMIT)
        )
    )
    behalf_ids = {e.on_behalf_of_id for e in events if e.on_behalf_of_id}
    behalf = (
        dict(
            db.session.execute(
                sa.select(User.id, User.display_name).where(User.id.in_(behalf_ids))
            ).all()
        )
        if behalf_ids
        else {}
    )
    out = []
    for entry in entries(events):
        e = entry.event
        out.append(
            {
                "seq": e.seq,
                "action": e.action,
                "at": iso(e.occurred_at),
                "actor": {"id": e.actor_id, "name": entry.actor} if e.actor_id else None,
                "on_behalf_of": (
                    {"id": e.on_behalf_of_id, "name": behalf.get(e.on_behalf_of_id)}
                    if e.on_behalf_of_id
                    else None
                ),
                "data": e.payload or {},
            }
        )
    return out


def general_requests(reqs: list[GeneralRequest]) -> list[dict[str, Any]]:
    people = members(r.requester_id for r in reqs)
    dept_ids = {r.department_id for r in reqs if r.department_id}
    depts = (
        dict(
            db.session.execute(
                sa.select(Department.id, Department.name).where(Department.id.in_(dept_ids))
            ).all()
        )
        if dept_ids
        else {}
    )
    return [
        {
            "id": req.id,
            "number": req.number,
            "title": req.title,
            "amount": money(req.amount),
            "urgency": req.urgency,
            "reason": req.reason,
            "status": req.status,
            "requester": people.get(req.requester_id),
            "department": (
                {"id": req.department_id, "name": depts[req.department_id]}
                if req.department_id in depts
                else None
            ),
            "instance_id": req.instance_id,
            "created_at": iso(req.created_at),
            "submitted_at": iso(req.submitted_at),
        }
        for req in reqs
    ]


def general_request(req: GeneralRequest) -> dict[str, Any]:
    return general_requests([req])[0]
