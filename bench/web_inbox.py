"""The people and the inbox of the `bench/web.py` seed: members, general requests, tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from bench.web_bulk import Numbers, mix, money, next_id, write
from suite.auth.models import Department, Membership
from suite.db import db, utcnow

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "强", "丽", "涛", "明")


def add_members(ws_id: int, count: int) -> list[int]:
    """`count` extra people (they cannot log in) spread over the departments; all member ids."""
    depts = list(db.session.scalars(sa.select(Department.id).order_by(Department.id)))
    first_user, first_member = next_id("user"), next_id("membership")
    now = utcnow()
    users = (
        (
            first_user + i,
            f"bench{i:05d}",
            SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + f"{i:03d}",
            "!",
            True,
            1,
            now,
        )
        for i in range(count)
    )
    write("user", "id login display_name password_hash active auth_version created_at", users)
    members = (
        (
            first_member + i,
            ws_id,
            first_user + i,
            depts[i % len(depts)] if depts else None,
            True,
            now,
        )
        for i in range(count)
    )
    write("membership", "id workspace_id user_id department_id active created_at", members)
    return list(db.session.scalars(sa.select(Membership.id).order_by(Membership.id)))


def add_inbox(ws_id: int, tasks: int, members: Sequence[int], me: int, my_share: float) -> int:
    """General requests with two approval tasks each (department head approved, then finance:
    open for one in five), `my_share` of the tasks assigned to `me`; returns the task count."""
    from suite.workflow.definitions import definition_for

    version_id = definition_for("suite.general_request").current_version_id
    depts = dict(db.session.execute(sa.select(Membership.id, Membership.department_id)).all())
    instances = tasks // 2
    first_gr, first_pi, first_task = (
        next_id("general_request"),
        next_id("process_instance"),
        next_id("workflow_task"),
    )
    numbers = Numbers("GR")
    now = utcnow()
    others = [m for m in members if m != me] or [me]
    share = int(my_share * 1000)

    def started(k: int) -> dt.datetime:
        return now - dt.timedelta(minutes=10 * (instances - k))

    def is_running(k: int) -> bool:
        return k % 5 == 0

    def assignee(t: int) -> int:
        h = mix(t + 7)
        return me if h % 1000 < share else others[(h >> 10) % len(others)]

    def instance_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(instances):
            running = is_running(k)
            state = {"active": {"finance": {}} if running else {}, "arrived": {}, "round": 1}
            amount = 5001 + mix(k) % 45000
            yield (
                first_pi + k,
                ws_id,
                version_id,
                "suite.general_request",
                first_gr + k,
                f"采购申请 {k:06d}",
                "running" if running else "approved",
                others[k % len(others)],
                state,
                {"amount": str(amount), "title": f"采购申请 {k:06d}", "urgency": "normal"},
                3 if running else 4,
                started(k),
                started(k) + dt.timedelta(hours=1),
                None if running else started(k) + dt.timedelta(hours=2),
            )

    write(
        "process_instance",
        "id workspace_id version_id document_type document_id title status initiator_id state values version started_at moved_at ended_at",
        instance_rows(),
        json_cols=("state", "values"),
    )

    def request_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(instances):
            requester = others[k % len(others)]
            yield (
                first_gr + k,
                ws_id,
                numbers.next(started(k).year),
                f"采购申请 {k:06d}",
                money(100 * (5001 + mix(k) % 45000)),
                "normal",
                "",
                requester,
                depts.get(requester),
                "submitted" if is_running(k) else "approved",
                first_pi + k,
                started(k),
                started(k),
            )

    write(
        "general_request",
        "id workspace_id number title amount urgency reason requester_id department_id status instance_id created_at submitted_at",
        request_rows(),
    )
    numbers.save()

    def task_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(instances):
            at = started(k)
            for j, node in enumerate(("dept_head", "finance")):
                t = 2 * k + j
                is_open = j == 1 and is_running(k)
                created = at + dt.timedelta(hours=j)
                yield (
                    first_task + t,
                    ws_id,
                    first_pi + k,
                    node,
                    "approval",
                    assignee(t),
                    "open" if is_open else "approved",
                    0,
                    1,
                    created,
                    None if is_open else created + dt.timedelta(minutes=30),
                    created + dt.timedelta(days=2) if is_open else None,
                )

    return write(
        "workflow_task",
        "id workspace_id instance_id node kind assignee_id status seq round created_at acted_at due_at",
        task_rows(),
    )
