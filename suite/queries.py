"""Query helpers the list services share: a LIKE search that treats % and _ as text, and the
active / inactive filter of master data."""

from __future__ import annotations

import sqlalchemy as sa


def like_pattern(text: str) -> str:
    """`%text%` with the LIKE wildcards in `text` escaped (use with `escape="\\"`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(columns: list[sa.ColumnElement], q: str) -> list[sa.ColumnElement]:
    """One case-insensitive "contains `q`" condition per column (OR them)."""
    like = like_pattern(q.lower())
    return [sa.func.lower(c).like(like, escape="\\") for c in columns]


def by_active(stmt: sa.Select, column: sa.ColumnElement, status: str) -> sa.Select:
    """`active` / `inactive` keeps those rows; anything else (`all`) keeps every row."""
    if status == "active":
        return stmt.where(column.is_(True))
    if status == "inactive":
        return stmt.where(column.is_(False))
    return stmt
