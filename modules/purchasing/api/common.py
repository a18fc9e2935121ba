"""Helpers the purchasing API views share: permission checks, query arguments, keyset pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _

from suite.api.blueprint import Invalid
from suite.api.views.common import paging
from suite.auth.permissions import has_permission
from suite.db import db


def may(*permissions: str) -> None:
    """403 unless the caller holds one of `permissions`."""
    if not any(has_permission(p) for p in permissions):
        abort(403)


def args(**choices: tuple[str, ...] | None) -> dict[str, Any]:
    """Query arguments: a tuple of allowed values, or None for a whole number (an id)."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name, allowed in choices.items():
        raw = request.args.get(name) or None
        if raw is None:
            out[name] = None
        elif allowed is None and not raw.isdigit():
            errors[name] = [_("Give a whole number.")]
        elif allowed is not None and raw not in allowed:
            errors[name] = [_("Choose one of: %(options)s.", options=", ".join(allowed))]
        else:
            out[name] = int(raw) if allowed is None else raw
    if errors:
        raise Invalid(errors)
    return out


def newest_first(stmt: sa.Select, key: Any) -> tuple[list[Any], int | None]:
    """One page of `stmt`, newest first after `?after=` (keyset on the id)."""
    after, limit = paging()
    if after is not None:
        stmt = stmt.where(key < after)
    rows = list(db.session.scalars(stmt.order_by(key.desc()).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
