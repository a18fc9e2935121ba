"""Checkpoints: where a QR label hangs, and the tokens its labels encode."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.auth.models import Membership
from suite.checklists.models import (
    ChecklistTemplate,
    Checkpoint,
    CheckpointToken,
)
from suite.db import db, utcnow
from suite.errors import DomainError

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")


def new_token() -> str:
    """32 URL-safe characters (192 random bits): unguessable, short enough for a dense QR code."""
    return secrets.token_urlsafe(24)


def save_checkpoint(
    point: Checkpoint | None,
    *,
    name: str,
    code: str,
    site: str = "",
    area: str = "",
    template_id: int | None,
    owner_id: int | None,
    anonymous_reports: bool = False,
    module: str = "inspections",
) -> Checkpoint:
    """Create a checkpoint (with its first token) or change one; the token stays."""
    name, code = name.strip(), code.strip().upper()
    if not name:
        raise DomainError(_("This field is required."), "name")
    if not CODE.match(code):
        raise DomainError(_("1-20 letters, digits, - or _."), "code")
    clash = sa.select(Checkpoint.id).where(Checkpoint.code == code)
    if point is not None:
        clash = clash.where(Checkpoint.id != point.id)
    if db.session.scalar(clash) is not None:
        raise DomainError(_("Another checkpoint has this code."), "code")
    if (
        template_id is not None
        and db.session.scalar(
            sa.select(ChecklistTemplate.id).where(ChecklistTemplate.id == template_id)
        )
        is None
    ):
        raise DomainError(_("Not a valid choice."), "template_id")
    if (
        owner_id is not None
        and db.session.scalar(
            sa.select(Membership.id).where(Membership.id == owner_id, Membership.active.is_(True))
        )
        is None
    ):
        raise DomainError(_("Not a valid choice."), "owner_id")
    if point is None:
        point = Checkpoint(token=new_token(), module=module)
        db.session.add(point)
    point.name, point.code, point.site, point.area = name[:200], code, site.strip(), area.strip()
    point.template_id, point.owner_id = template_id, owner_id
    point.anonymous_reports = bool(anonymous_reports)
    db.session.flush()
    if not db.session.scalar(
        sa.select(CheckpointToken.id).where(CheckpointToken.token == point.token)
    ):
        db.session.add(CheckpointToken(checkpoint_id=point.id, token=point.token))
        db.session.flush()
    return point


def revoke_token(point: Checkpoint) -> str:
    """Give the checkpoint a new token; the old label then says it is no longer valid."""
    now = utcnow()
    for row in db.session.scalars(
        sa.select(CheckpointToken).where(
            CheckpointToken.checkpoint_id == point.id, CheckpointToken.revoked_at.is_(None)
        )
    ):
        row.revoked_at = now
    point.token = new_token()
    db.session.add(CheckpointToken(checkpoint_id=point.id, token=point.token))
    db.session.flush()
    return point.token


def find_token(token: str) -> CheckpointToken | None:
    """The token row in the current scope (callers look up in SYSTEM scope before login)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(CheckpointToken).where(CheckpointToken.token == token))
