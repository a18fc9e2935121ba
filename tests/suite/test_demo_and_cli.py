"""Demo workspace, admin commands, jobs running inline in the embedded default."""

from __future__ import annotations

import sqlalchemy as sa

from suite.auth.models import Department, Membership, User
from suite.db import db
from suite.demo import DEMO_PASSWORD, DEPARTMENTS
from suite.tenancy import Workspace, system, use_workspace

ROLES_LOGINS = [
    "staff",
    "dept_head",
    "finance",
    "gm",
    "buyer",
    "warehouse",
    "sales",
    "sales_manager",
    "hr",
    "inspector",
    "area_owner",
    "store_manager",
    "area_manager",
    "admin",
    "acceptance",  # purchasing's asset acceptance group (S1.7)
]


def test_seed_demo_is_idempotent_and_every_role_can_log_in(app, new_client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["suite", "seed-demo"])
    assert first.exit_code == 0 and "created" in first.output
    second = runner.invoke(args=["suite", "seed-demo"])
    assert second.exit_code == 0 and "already there" in second.output
    with app.app_context(), system():
        ws = db.session.scalar(sa.select(Workspace).where(Workspace.code == "demo"))
        assert ws.name == "Demo Co. 演示公司"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == len(
            ROLES_LOGINS
        )
        names = set(db.session.scalars(sa.select(Department.name)))
        assert names == set(DEPARTMENTS.values())
    for login in ROLES_LOGINS:
        c = new_client()
        resp = c.form("/login", {"login": login, "password": DEMO_PASSWORD})
        assert resp.status_code == 303, login


def test_demo_reporting_lines(app):
    from suite.demo import seed_demo

    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):

            def member(login):
                return db.session.scalar(
                    sa.select(Membership).join(User).where(User.login == login)
                )

            staff, head, gm = member("staff"), member("dept_head"), member("gm")
            assert staff.department.name.startswith("Production")
            assert staff.department.head_id == head.id
            assert staff.manager_id == head.id
            assert head.manager_id == gm.id
            assert [m.id for m in staff.manager_chain(5)] == [head.id, gm.id]


def test_create_admin_command(app, new_client):
    result = app.test_cli_runner().invoke(
        args=[
            "suite",
            "create-admin",
            "--workspace",
            "newco",
            "--name",
            "New Co",
            "--login",
            "root",
        ],
        input="a-strong-password\na-strong-password\n",
    )
    assert result.exit_code == 0, result.output
    c = new_client()
    assert c.form("/login", {"login": "root", "password": "a-strong-password"}).status_code == 303
    assert c.get("/admin/users").status_code == 200


def test_jobs_run_inline_without_redis(app, make_workspace):
    from suite.jobs import enqueue

    ws = make_workspace()
    with app.app_context(), use_workspace(ws.id):
        enqueue("tests.suite.jobs_for_tests:add_department", "Made by a job")
    with app.app_context(), system():
        dept = db.session.scalar(sa.select(Department).where(Department.name == "Made by a job"))
        assert dept is not None and dept.workspace_id == ws.id


def test_scheduler_once_anchors_the_audit_trail(app, make_workspace):
    make_workspace()
    result = app.test_cli_runner().invoke(args=["suite", "scheduler", "--once"])
    assert result.exit_code == 0, result.output
