"""The demo seed gives each demo checkpoint a daily round for the demo inspector, once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from modules.inspections.models import InspectionSchedule
from suite.auth.models import Membership, User
from suite.db import db
from suite.demo import seed_demo
from suite.tenancy import use_workspace


def test_demo_has_a_daily_round_per_checkpoint_once(app):
    with app.app_context():
        ws, _ = seed_demo()
        seed_demo()  # again: nothing doubles
        with use_workspace(ws.id):
            inspector = db.session.scalar(
                sa.select(Membership.id).join(User).where(User.login == "inspector")
            )
            rows = [
                (s.checkpoint.code, s.frequency, s.time_of_day, s.window_hours, s.inspector_id)
                for s in db.session.scalars(
                    sa.select(InspectionSchedule).order_by(InspectionSchedule.id)
                )
            ]
        db.session.remove()
    assert rows == [
        (code, "daily", dt.time(9), 4, inspector) for code in ("FS-01", "FS-02", "FS-03")
    ]
