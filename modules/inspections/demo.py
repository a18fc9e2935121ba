"""Demo inspections (S8): a daily 09:00 round (4 h window) for the demo `inspector` at each of
the kernel's demo checkpoints; idempotent (a checkpoint with a schedule is left alone)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from modules.inspections.models import InspectionSchedule
from modules.inspections.services import rounds
from suite.auth.models import Membership, User
from suite.checklists.demo import CHECKPOINTS
from suite.checklists.models import Checkpoint
from suite.db import db
from suite.tenancy import Workspace


def seed(ws: Workspace) -> None:
    inspector = db.session.scalar(
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(User.login == "inspector")
    )
    codes = [code for code, *_rest in CHECKPOINTS]
    for point in db.session.scalars(
        sa.select(Checkpoint).where(Checkpoint.code.in_(codes)).order_by(Checkpoint.code)
    ):
        if db.session.scalar(
            sa.select(InspectionSchedule.id).where(InspectionSchedule.checkpoint_id == point.id)
        ):
            continue
        rounds.save_schedule(
            None,
            checkpoint_id=point.id,
            frequency="daily",
            weekdays=(),
            time_of_day=dt.time(9),
            window_hours=4,
            inspector_id=inspector,
        )
    db.session.flush()
