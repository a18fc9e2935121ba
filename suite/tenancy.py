"""Workspaces (tenants) and the automatic scoping of every ORM query to the current one.

The current workspace lives in a context variable. In a web request it is set from the logged-in
user's membership; jobs and commands set it with `use_workspace()`. Three states:

* a workspace id: every SELECT/UPDATE/DELETE on a `WorkspaceScoped` class gets
  `workspace_id = :id`, and new rows get that `workspace_id`;
* `NO_WORKSPACE` (an anonymous web request): scoped classes return nothing;
* `SYSTEM` (commands, migrations, the audit verifier): no filter. Code must opt in to it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from suite.db import WorkspaceScoped, db, utcnow

T = TypeVar("T")

SYSTEM = -1
NO_WORKSPACE = 0
_current: contextvars.ContextVar[int] = contextvars.ContextVar("suite_workspace", default=SYSTEM)


class Workspace(db.Model):
    """A company. Numbers, settings, definitions and audit chains are per workspace."""

    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # calendar, ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Workspace {self.code}>"


def current_workspace_id() -> int:
    return _current.get()


def set_workspace(workspace_id: int) -> contextvars.Token[int]:
    return _current.set(workspace_id)


def reset_workspace(token: contextvars.Token[int]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def use_workspace(workspace_id: int) -> Iterator[None]:
    """Run a block (a job, a command, a test) as if inside `workspace_id`."""
    token = _current.set(workspace_id)
    try:
        yield
    finally:
        _current.reset(token)


@contextlib.contextmanager
def system() -> Iterator[None]:
    """Run a block without workspace filtering (commands, the audit verifier, login lookups)."""
    with use_workspace(SYSTEM):
        yield


def get_or_404(model: type[T], ident: int, *options: Any, fresh: bool = False) -> T:
    """The row of the current workspace with this id, else 404.

    Always queries: `session.get` could return an object the identity map holds from an
    unscoped (SYSTEM) load, bypassing the workspace filter. `options` are loader options
    (joinedload, also of a collection: its rows are folded into the one object); `fresh`
    overwrites what the session already holds of the row. A page that loads the same way on
    every request builds its loader once with `OneOr404`.
    """
    return OneOr404(model, *options, fresh=fresh)(ident)


class OneOr404(Generic[T]):
    """`get_or_404(model, ident, *options, fresh=...)` with the statement built once.

    `ORDER = OneOr404(PurchaseOrder, joinedload(PurchaseOrder.supplier))` at module level,
    then `ORDER(order_id)` per request: SQLAlchemy keeps a reused statement's cache key, so
    building the select and its loader options and keying them is not paid per request.
    """

    def __init__(self, model: type[T], *options: Any, fresh: bool = False) -> None:
        self.model = model
        stmt = sa.select(model).where(model.id == sa.bindparam("ident")).options(*options)  # type: ignore[attr-defined]
        self.stmt = stmt.execution_options(populate_existing=True) if fresh else stmt

    def __call__(self, ident: int) -> T:
        from flask import abort

        obj = db.session.scalars(self.stmt, {"ident": ident}).unique().one_or_none()
        ws = _current.get()
        if obj is None or (ws != SYSTEM and getattr(obj, "workspace_id", ws) != ws):
            abort(404)
        return obj


def scoped_models() -> list[type]:
    return [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, WorkspaceScoped)]


@event.listens_for(Session, "do_orm_execute")
def _scope_to_workspace(state: ORMExecuteState) -> None:
    if state.is_column_load or state.execution_options.get("all_workspaces"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    ws = _current.get()
    if ws == SYSTEM:
        return
    mapper = state.bind_mapper
    if (
        state.is_update
        and state.is_executemany
        and mapper is not None
        and issubclass(mapper.class_, WorkspaceScoped)
    ):
        # ORM bulk UPDATE by primary key (a list of parameter dicts) ignores loader criteria:
        # scope it with a WHERE. SQLAlchemy cannot "evaluate"-synchronize such a statement.
        state.statement = state.statement.where(mapper.class_.workspace_id == ws)
        state.update_execution_options(synchronize_session=False)
        return
    state.statement = state.statement.options(_criteria(ws))


_CRITERIA: dict[int, Any] = {}


def _criteria(ws: int) -> Any:
    """The loader criteria of one workspace, built once: building it for every ORM query cost
    about 0.1 ms each (the lambda's `ws` is a bound parameter; the compiled SQL is shared)."""
    option = _CRITERIA.get(ws)
    if option is None:
        if len(_CRITERIA) >= 10_000:
            _CRITERIA.clear()
        option = _CRITERIA[ws] = with_loader_criteria(
            WorkspaceScoped, lambda cls: cls.workspace_id == ws, include_aliases=True
        )
    return option


@event.listens_for(Session, "before_flush")
def _stamp_workspace(session: Session, flush_context: object, instances: object) -> None:
    ws = _current.get()
    for obj in session.new:
        if not isinstance(obj, WorkspaceScoped):
            continue
        if obj.workspace_id is None:
            if ws <= 0:
                raise RuntimeError(
                    f"{type(obj).__name__} has no workspace_id and no workspace is active"
                )
            obj.workspace_id = ws
        elif ws > 0 and obj.workspace_id != ws:
            raise PermissionError(f"{type(obj).__name__} belongs to another workspace")
