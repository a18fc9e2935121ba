"""Findings: problems visitors report at a checkpoint (anonymous), triaged by inspectors."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from modules.inspections.models import CONVERTED, DISMISSED, NEW, CorrectiveAction, Finding
from modules.inspections.services import actions
from modules.inspections.services.photos import Upload, store_all
from suite.auth.models import Membership
from suite.checklists.models import Checkpoint
from suite.db import db, utcnow
from suite.errors import DomainError

MAX_TEXT = 2000
WINDOW = dt.timedelta(hours=1)


class TooManyReportsError(DomainError):
    """The address reported too often lately."""


def per_hour() -> int:
    return int(current_app.config.get("INSPECTIONS_REPORTS_PER_HOUR", 5))


def report(
    checkpoint: Checkpoint, *, description: str, contact: str, photo: Upload | None, address: str
) -> Finding:
    """A visitor's report; refused past the address's hourly limit."""
    recent = db.session.scalar(
        sa.select(sa.func.count(Finding.id)).where(
            Finding.address == address[:64], Finding.created_at >= utcnow() - WINDOW
        )
    )
    if (recent or 0) >= per_hour():
        raise TooManyReportsError(
            _("Too many reports from this connection. Please try again in an hour.")
        )
    description = (description or "").strip()
    if not description:
        raise DomainError(_("Describe the problem."), "description")
    if len(description) > MAX_TEXT:
        raise DomainError(_("At most %(n)s characters.", n=MAX_TEXT), "description")
    finding = Finding(
        checkpoint_id=checkpoint.id,
        description=description,
        contact=(contact or "").strip()[:120],
        address=address[:64],
        photo_ids=store_all([photo], "photo", None) if photo is not None else [],
    )
    db.session.add(finding)
    db.session.flush()
    return finding


def _pending(finding: Finding) -> None:
    if finding.status != NEW:
        raise DomainError(_("This finding has been handled already."))


def convert(finding: Finding, actor: Membership) -> CorrectiveAction:
    """Turn the finding into a corrective action for the checkpoint's area owner."""
    _pending(finding)
    ca = actions.start(
        finding.checkpoint,
        actor.id,
        item_label=_("Reported problem"),
        description=finding.description,
        photo_ids=list(finding.photo_ids or []),
    )
    finding.status, finding.corrective_action_id = CONVERTED, ca.id
    finding.handled_by_id, finding.handled_at = actor.id, utcnow()
    db.session.flush()
    return ca


def dismiss(finding: Finding, actor: Membership) -> None:
    _pending(finding)
    finding.status, finding.handled_by_id, finding.handled_at = DISMISSED, actor.id, utcnow()
    db.session.flush()
