"""Workspace scoping on PostgreSQL: every WorkspaceScoped model, reads, get() and bulk writes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from suite.audit.chain import GENESIS
from suite.audit.models import AuditAnchor
from suite.auth.models import Department
from suite.auth.services import save_department, save_role
from suite.db import db
from suite.tenancy import scoped_models, system, use_workspace
from tests.tenancy_rows import populate_modules

pytestmark = pytest.mark.pg


def _populate(app, ws, make_member, make_department) -> None:
    """Rows in every WorkspaceScoped table for `ws`: the kernel's here, the business modules'
    through their services (tests/tenancy_rows.py)."""
    root = make_department(ws, "总部")
    sales = make_department(ws, "Sales", parent_id=root)
    boss = make_member(ws, f"boss-{ws.code}", roles=("suite.admin",), department_id=root)
    make_member(
        ws,
        f"clerk-{ws.code}",
        roles=("suite.staff", "suite.finance"),
        department_id=sales,
        manager_id=boss,
    )
    with app.app_context(), use_workspace(ws.id):
        dept = db.session.get(Department, sales)
        save_department(dept, name="Sales", parent_id=root, head_id=boss)
        save_role(
            None,
            code=f"custom.{ws.code}",
            name="Custom",
            permissions=["suite.audit.read"],
            registry=app.extensions["suite.registry"],
        )
        db.session.add(
            AuditAnchor(
                day=dt.date(2026, 1, 1),
                events=0,
                heads_hash=GENESIS,
                prev_hash=GENESIS,
                hash=GENESIS,
            )
        )
        db.session.commit()
        _workflow_rows(app, ws, boss)
    populate_modules(app, ws.id, marker=f"WS-{ws.code.upper()}", prefix=ws.code)


def _workflow_rows(app, ws, boss: int) -> None:
    """A request through the engine (definition, version, instance, tasks, timers, command log,
    outbox, notifications, counter) plus delegation, webhook and API token rows."""
    from decimal import Decimal

    from suite.api.models import ApiToken
    from suite.auth.models import Membership, User
    from suite.notify.delivery import drain
    from suite.notify.models import WebhookEndpoint
    from suite.requests import services
    from suite.workflow import engine
    from suite.workflow.models import Delegation, WorkflowTask

    with app.app_context(), use_workspace(ws.id):
        clerk = db.session.scalar(
            sa.select(Membership).join(User).where(User.login == f"clerk-{ws.code}")
        )
        db.session.add(
            WebhookEndpoint(kind="dingtalk", url="https://robot.invalid/x", events=["*"])
        )
        now = dt.datetime.now(dt.UTC)
        db.session.add(
            Delegation(
                member_id=boss,
                delegate_id=clerk.id,
                starts_at=now,
                ends_at=now + dt.timedelta(hours=1),
                note="x",
            )
        )
        db.session.add(
            ApiToken(membership_id=clerk.id, name="t", token_hash=f"h-{ws.code}", prefix="slt_x")
        )
        req = services.save(
            None, clerk, title="Toner", amount=Decimal("10.00"), urgency="normal", reason=""
        )
        services.submit(req, clerk, key=f"submit-{ws.code}")
        db.session.commit()
        task = db.session.scalar(sa.select(WorkflowTask).where(WorkflowTask.status == "open"))
        engine.command(task.instance_id, "comment", clerk.id, comment="hi", key=f"c-{ws.code}")
        db.session.commit()
        drain(now=now + dt.timedelta(seconds=1))
        db.session.commit()


def _pks(model, mapper, where=None) -> set[tuple]:
    stmt = sa.select(model)
    if where is not None:
        stmt = stmt.where(where)
    return {tuple(mapper.primary_key_from_instance(o)) for o in db.session.scalars(stmt)}


@pytest.fixture
def two_workspaces(pg_app, pg_workspace, pg_member, pg_department):
    a, b = pg_workspace("a", "A 公司"), pg_workspace("b", "B 公司")
    for ws in (a, b):
        _populate(pg_app, ws, pg_member, pg_department)
    return a, b


def _rows_by_workspace(app, a, b) -> dict[type, tuple[set[tuple], set[tuple]]]:
    out = {}
    with app.app_context(), system():
        for model in scoped_models():
            mapper = sa.inspect(model)
            out[model] = (
                _pks(model, mapper, model.workspace_id == a.id),
                _pks(model, mapper, model.workspace_id == b.id),
            )
        db.session.remove()
    missing = [m.__name__ for m, (in_a, in_b) in out.items() if not in_a or not in_b]
    assert not missing, f"add rows for {missing} to _populate() so the scoping test covers them"
    return out


def test_every_scoped_model_lists_only_the_current_workspace(pg_app, two_workspaces):
    a, b = two_workspaces
    rows = _rows_by_workspace(pg_app, a, b)
    assert {m.__name__ for m in rows} >= {
        "AuditAnchor",
        "AuditEvent",
        "Department",
        "Membership",
        "MembershipRole",
        "Role",
    }
    for ws, other in ((a, b), (b, a)):
        with pg_app.app_context(), use_workspace(ws.id):
            for model, (in_a, in_b) in rows.items():
                mine, theirs = (in_a, in_b) if ws is a else (in_b, in_a)
                mapper = sa.inspect(model)
                listed = list(db.session.scalars(sa.select(model)))
                assert {o.workspace_id for o in listed} == {ws.id}, model.__name__
                assert {tuple(mapper.primary_key_from_instance(o)) for o in listed} == mine
                count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
                assert count == len(mine), model.__name__
                # Asking for the other workspace's rows by column finds nothing either.
                assert (
                    db.session.scalars(sa.select(model).where(model.workspace_id == other.id)).all()
                    == []
                )
            db.session.remove()


def test_get_by_primary_key_of_another_workspace_is_none(pg_app, two_workspaces):
    a, b = two_workspaces
    rows = _rows_by_workspace(pg_app, a, b)
    with pg_app.app_context(), use_workspace(a.id):
        for model, (in_a, in_b) in rows.items():
            for pk in in_b:
                key = pk[0] if len(pk) == 1 else pk
                assert db.session.get(model, key) is None, (model.__name__, pk)
            for pk in in_a:
                key = pk[0] if len(pk) == 1 else pk
                assert db.session.get(model, key) is not None, (model.__name__, pk)
        db.session.remove()


def test_bulk_update_and_delete_in_a_cannot_touch_b(pg_app, two_workspaces):
    a, b = two_workspaces
    rows = _rows_by_workspace(pg_app, a, b)
    with pg_app.app_context():
        with system():
            before_b = {
                d.id: (d.name, d.sort)
                for d in db.session.scalars(
                    sa.select(Department).where(Department.workspace_id == b.id)
                )
            }
            db.session.remove()
        with use_workspace(a.id):
            # Every model: a no-op UPDATE without WHERE matches exactly A's rows.
            for model, (in_a, _in_b) in rows.items():
                res = db.session.execute(sa.update(model).values(workspace_id=model.workspace_id))
                assert res.rowcount == len(in_a), model.__name__
            # ...and so does a DELETE (rolled back).
            with db.session.begin_nested() as sp:
                res = db.session.execute(sa.delete(Department).where(Department.id.in_(before_b)))
                assert res.rowcount == 0
                sp.rollback()
            res = db.session.execute(sa.update(Department).values(sort=Department.sort + 100))
            assert res.rowcount == len(rows[Department][0])
            res = db.session.execute(
                sa.update(Department).where(Department.id.in_(before_b)).values(name="hacked")
            )
            assert res.rowcount == 0
            # ORM bulk UPDATE by primary key (a list of dicts) is scoped too.
            db.session.execute(
                sa.update(Department), [{"id": i, "name": f"hacked-{i}"} for i in before_b]
            )
            db.session.commit()
        with system():
            after_b = {
                d.id: (d.name, d.sort)
                for d in db.session.scalars(
                    sa.select(Department).where(Department.workspace_id == b.id)
                )
            }
            sorts_a = set(
                db.session.scalars(
                    sa.select(Department.sort).where(Department.workspace_id == a.id)
                )
            )
            db.session.remove()
    assert after_b == before_b
    assert sorts_a == {100}


def test_new_rows_take_the_workspace_and_cannot_name_another(pg_app, two_workspaces):
    a, b = two_workspaces
    with pg_app.app_context(), use_workspace(a.id):
        dept = Department(name="New")
        db.session.add(dept)
        db.session.commit()
        assert dept.workspace_id == a.id
        db.session.add(Department(name="Sneaky", workspace_id=b.id))
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()
        db.session.remove()
