"""Keyset pagination: `?after=<last key>`; never OFFSET, never the whole table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, request

from suite.db import db


@dataclass
class Page:
    items: list[Any]
    next_after: Any | None


def keyset(
    stmt: sa.Select,
    key: sa.ColumnElement,
    *,
    scalars: bool = True,
    key_type: Callable[[str], Any] = int,
) -> Page:
    """Rows of `stmt` ordered by the unique `key`, after `request.args['after']`.

    `key_type=str` pages by a unique text column (a code) served by its unique index.
    """
    size = current_app.config["SUITE_PAGE_SIZE"]
    after = request.args.get("after", type=key_type)
    if after is not None:
        stmt = stmt.where(key > after)
    stmt = stmt.order_by(key).limit(size + 1)
    result = db.session.scalars(stmt) if scalars else db.session.execute(stmt)
    rows = list(result)
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    next_after = None
    if more and last is not None:
        next_after = getattr(last, key.key) if scalars else last._mapping[key.key]
    return Page(rows, next_after)


def newest_first(
    stmt: sa.Select, key: sa.ColumnElement, *, scalars: bool = True
) -> tuple[list[Any], int | None]:
    """Rows of `stmt` by the unique `key` descending, before `?before=<key>` (never OFFSET), and
    the `before` of the next page (None on the last one).

    `scalars=False` returns result rows: rows of columns that include `key`, or rows whose
    first entity holds the key (a join's lists).
    """
    size = current_app.config["SUITE_PAGE_SIZE"]
    before = request.args.get("before", type=int)
    if before is not None:
        stmt = stmt.where(key < before)
    stmt = stmt.order_by(key.desc()).limit(size + 1)
    rows = list(db.session.scalars(stmt) if scalars else db.session.execute(stmt))
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    if scalars:
        return rows[:size], getattr(last, key.key)
    if key in last._mapping:
        return rows[:size], last._mapping[key]
    return rows[:size], getattr(last[0], key.key)
