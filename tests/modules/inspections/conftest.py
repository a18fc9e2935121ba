"""Inspections fixtures: a workspace with the S8 people and 3 checkpoints."""

from __future__ import annotations

import contextlib

import pytest

from suite.db import db
from suite.tenancy import use_workspace
from tests.modules.inspections.factories import make_points


@pytest.fixture
def insp(app, make_workspace, make_member, make_department):
    """{'ws', 'head', 'owner', 'inspector', 'admin', 'points': [ids]}; checkpoint 1 takes
    anonymous reports, 2 does not, 3 has had its token revoked (old token in 'old_token')."""
    from suite.checklists import services as checklists

    ws = make_workspace("insp")
    head = make_member(ws, "head", roles=("suite.dept_head",))
    dept = make_department(ws, "Production", head_id=head)
    owner = make_member(
        ws, "owner", roles=("inspections.area_owner",), department_id=dept, manager_id=head
    )
    inspector = make_member(ws, "inspector", roles=("inspections.inspector",), department_id=dept)
    admin = make_member(ws, "boss", roles=("suite.admin",))
    with app.app_context(), use_workspace(ws.id):
        points = make_points(owner, 3, sites=("Plant A", "Plant B", "Plant A"))
        points[0].anonymous_reports = True
        old_token = points[2].token
        points[2].anonymous_reports = True
        checklists.revoke_token(points[2])
        data = {
            "ws": ws,
            "head": head,
            "owner": owner,
            "inspector": inspector,
            "admin": admin,
            "points": [p.id for p in points],
            "tokens": [p.token for p in points],
            "old_token": old_token,
        }
        db.session.commit()
        db.session.remove()
    return data


@pytest.fixture
def inside(app, insp):
    """`with inside():` an app context in the workspace, removed afterwards."""

    @contextlib.contextmanager
    def enter():
        with app.app_context(), use_workspace(insp["ws"].id):
            yield
            db.session.remove()

    return enter
