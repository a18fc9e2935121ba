"""Fixtures of the tenant-isolation tests: workspace A (Acme) and B, whose rows carry a SECRET.

B holds kernel rows (people, departments, a role, a general request, a delegation, an API token,
a group robot, audit anchors) and, through the modules' services (tests/tenancy_rows.py), rows
in every crm, inventory and purchasing model with DOC_SECRET in every text a page may show.
`acme_rows` gives A module rows of its own. Load with
`pytest_plugins = ["tests.suite.tenancy_fixtures"]` (and import names from tests.tenancy_rows:
importing this module before pytest registers it would skip its assertion rewriting).
"""

from __future__ import annotations

import pytest

from suite.auth.models import Membership
from suite.auth.services import save_department, save_role
from suite.db import db
from suite.tenancy import system, use_workspace
from tests.tenancy_rows import ACME_OWN, DOC_SECRET, SECRET, populate_modules


@pytest.fixture
def workspaces(app, make_workspace, make_member):
    """A (Acme) and B (SECRET), with kernel rows: people, departments, a role."""
    a = make_workspace("acme", "Acme")
    b = make_workspace("beta", f"{SECRET} Co")
    make_member(a, "boss", roles=("suite.admin",))
    make_member(a, "amy")
    with app.app_context(), use_workspace(a.id):
        save_department(None, name="Acme Sales", parent_id=None, head_id=None)
        db.session.commit()
    head = make_member(b, "beta_boss", roles=("suite.admin",), display_name=f"{SECRET} boss")
    with app.app_context(), use_workspace(b.id):
        dept = save_department(None, name=f"{SECRET} dept", parent_id=None, head_id=head)
        save_department(None, name=f"{SECRET} child", parent_id=dept.id, head_id=None)
        save_role(
            None,
            code="beta.secret",
            name=f"{SECRET} role",
            permissions=[],
            registry=app.extensions["suite.registry"],
        )
        db.session.commit()
    make_member(b, "beta_staff", display_name=f"{SECRET} staff")
    return a, b


@pytest.fixture
def beta_rows(app, workspaces):
    """B's rows in every module model, and the kernel documents those bring along."""
    rows = populate_modules(app, workspaces[1].id, marker=DOC_SECRET, prefix="beta")
    _kernel_rows(app, workspaces[1].id, rows.members)
    return rows


@pytest.fixture
def two_workspaces(workspaces, beta_rows):
    return workspaces


def _kernel_rows(app, ws_id, members) -> None:
    """B's general request (in approval), out-of-office delegation, API token, group robot and
    audit anchors, so every kernel model has rows and the routes taking their ids are walked."""
    import datetime as dt

    from suite.api import tokens
    from suite.audit.anchor import anchor_workspace
    from suite.notify.models import WebhookEndpoint
    from suite.requests import services
    from suite.workflow.models import Delegation

    with app.app_context(), use_workspace(ws_id):
        staff = db.session.get(Membership, members["staff"])
        req = services.save(
            None, staff, title=f"{SECRET} toner", amount=None, urgency="normal", reason=SECRET
        )
        services.submit(req, staff, key="beta-general-request")
        now = dt.datetime.now(dt.UTC)
        db.session.add(
            Delegation(
                member_id=members["head"],
                delegate_id=members["staff"],
                starts_at=now,
                ends_at=now + dt.timedelta(days=1),
                note=SECRET,
            )
        )
        tokens.issue(staff, f"{SECRET} token")
        # Added after the notifications went out: nothing is posted to it.
        db.session.add(
            WebhookEndpoint(kind="dingtalk", url="https://robot.invalid/beta", events=["*"])
        )
        db.session.commit()
        with system():  # the daily anchor job, run for today
            anchor_workspace(db.session, ws_id, until=now.date() + dt.timedelta(days=2))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def acme_rows(app, two_workspaces):
    """A's own module rows, so a route can be aimed at A's party with B's contact, and A's lists
    have something to show."""
    return populate_modules(app, two_workspaces[0].id, marker=ACME_OWN, prefix="acme")
