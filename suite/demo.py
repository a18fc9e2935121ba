"""The demo workspace "Demo Co. 演示公司": departments and one user per role (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from suite.auth.models import Department, Membership, User
from suite.auth.services import create_workspace, save_department, save_member, sync_roles
from suite.db import db
from suite.registry import resolve
from suite.tenancy import Workspace, system, use_workspace

DEMO_CODE = "demo"
DEMO_NAME = "Demo Co. 演示公司"
DEMO_PASSWORD = "shunliu-demo"  # noqa: S105 - documented demo password
DEPARTMENTS = {
    "management": "General Management 总经办",
    "production": "Production 生产部",
    "sales": "Sales 销售部",
    "finance": "Finance 财务部",
    "warehouse": "Warehouse 仓储部",
    "hr": "HR 人力资源部",
}


def seed_demo() -> tuple[Workspace, bool]:
    """Create the demo workspace, or top up what is missing; returns (workspace, created)."""
    registry = current_app.extensions["suite.registry"]
    with system():
        ws = db.session.scalar(sa.select(Workspace).where(Workspace.code == DEMO_CODE))
        created = ws is None
        if created:
            ws = create_workspace(DEMO_CODE, DEMO_NAME, registry)
    with use_workspace(ws.id):
        roles = sync_roles(ws, registry)
        depts = {}
        for key, name in DEPARTMENTS.items():
            dept = db.session.scalar(sa.select(Department).where(Department.name == name))
            depts[key] = dept or save_department(
                None, name=name, parent_id=None, head_id=None, sort=len(depts)
            )
        members: dict[str, Membership] = {}
        for code, spec in registry.roles.items():
            if not spec.demo_login:
                continue
            member = _member(spec.demo_login)
            if member is None:
                member = save_member(
                    None,
                    login=spec.demo_login,
                    display_name=spec.demo_login,
                    email=f"{spec.demo_login}@demo.shunliu.local",
                    password=DEMO_PASSWORD,
                    department_id=depts[spec.demo_department].id,
                    manager_id=None,
                    role_ids=[roles[code].id, roles["suite.staff"].id],
                    active=True,
                )
            members[code] = member
            dept = depts[spec.demo_department]
            if spec.demo_head and dept.head_id is None:
                dept.head_id = member.id
        db.session.flush()
        _link_managers(members.values(), depts)
        for m in registry.manifests:
            if m.demo:
                resolve(m.demo)(ws)
        db.session.commit()
    return ws, created


def _member(login: str) -> Membership | None:
    return db.session.scalar(
        sa.select(Membership).join(User, User.id == Membership.user_id).where(User.login == login)
    )


def _link_managers(members: object, depts: dict[str, Department]) -> None:
    """Members report to their department head; heads report to the general manager's head."""
    top = depts["management"].head_id
    for member in members:  # type: ignore[attr-defined]
        if member.manager_id is not None:
            continue
        dept = db.session.get(Department, member.department_id)
        head = dept.head_id if dept else None
        manager = head if head and head != member.id else (top if top != member.id else None)
        member.manager_id = manager
    db.session.flush()
