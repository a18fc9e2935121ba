"""Helpers for workflow tests: demo people by login, requests, open tasks, commands."""

from __future__ import annotations

import itertools
from decimal import Decimal

import sqlalchemy as sa

from suite.auth.models import Membership, User
from suite.db import db
from suite.requests import services
from suite.workflow import engine
from suite.workflow.models import WorkflowTask

_keys = itertools.count(1)


def member(login: str) -> Membership:
    return db.session.scalar(sa.select(Membership).join(User).where(User.login == login))


def new_request(login: str, amount: str, title: str = "Printer toner") -> object:
    req = services.save(
        None, member(login), title=title, amount=Decimal(amount), urgency="normal", reason=""
    )
    services.submit(req, member(login), key=f"submit-{next(_keys)}")
    db.session.commit()
    return req


def open_tasks(instance_id: int, kind: str = "approval") -> list[WorkflowTask]:
    return list(
        db.session.scalars(
            sa.select(WorkflowTask)
            .where(
                WorkflowTask.instance_id == instance_id,
                WorkflowTask.status == "open",
                WorkflowTask.kind == kind,
            )
            .order_by(WorkflowTask.id)
        )
    )


def assignees(instance_id: int, kind: str = "approval") -> list[str]:
    return [
        db.session.get(Membership, t.assignee_id).user.login for t in open_tasks(instance_id, kind)
    ]


def act(login: str, instance_id: int, kind: str = "approve", **fields) -> engine.Result:
    me = member(login)
    task = next((t for t in open_tasks(instance_id) if t.assignee_id == me.id), None)
    if "task_id" not in fields and task is not None:
        fields["task_id"] = task.id
    result = engine.command(instance_id, kind, me.id, key=f"{kind}-{next(_keys)}", **fields)
    db.session.commit()
    return result
