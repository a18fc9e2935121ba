"""Turns every flushed insert/update/delete of an audited row into a chained event."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from suite.audit.chain import GENESIS, REDACTED, event_hash, header_of, plain
from suite.audit.models import AuditEvent
from suite.db import DecimalType, WorkspaceScoped, utcnow


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    on_behalf_of_id: int | None = None


_NOBODY = Actor()
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("suite_actor", default=_NOBODY)


def current_actor() -> Actor:
    return _actor.get()


@contextlib.contextmanager
def acting_as(user_id: int | None, on_behalf_of_id: int | None = None) -> Iterator[None]:
    token = _actor.set(Actor(user_id, on_behalf_of_id))
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(user_id: int | None) -> contextvars.Token[Actor]:
    return _actor.set(Actor(user_id))


def is_audited(obj_or_cls: Any) -> bool:
    return bool(getattr(obj_or_cls, "__audited__", False))


def entity_key(obj: Any) -> tuple[str, str]:
    state = sa.inspect(obj)
    ident = state.identity or state.mapper.primary_key_from_instance(obj)
    return state.mapper.local_table.name, ":".join(str(v) for v in ident)


def column_value(obj: Any, attr: Any, value: Any) -> Any:
    """Canonical value of one column; money/qty quantised as the database stores them."""
    if value is None:
        return None
    col_type = attr.columns[0].type
    if isinstance(col_type, DecimalType):
        return plain(col_type.process_bind_param(value, _Plain()))
    return plain(value)


class _Plain:
    name = "audit"


def snapshot(obj: Any) -> dict[str, Any]:
    redact = getattr(obj, "__audit_redact__", frozenset())
    mapper = sa.inspect(obj).mapper
    out = {}
    for attr in mapper.column_attrs:
        value = column_value(obj, attr, getattr(obj, attr.key))
        out[attr.key] = REDACTED if attr.key in redact and value is not None else value
    return out


_UNKNOWN = object()


def changes(session: Session, obj: Any) -> dict[str, list[Any]]:
    """Changed columns as {key: [old, new]}; old values the session never loaded (expired after
    a commit) are read from the row, which still holds them before the flush."""
    redact = getattr(obj, "__audit_redact__", frozenset())
    mapper = sa.inspect(obj).mapper
    raw: dict[str, tuple[Any, Any]] = {}
    for attr in mapper.column_attrs:
        hist = attributes.get_history(obj, attr.key, passive=attributes.PASSIVE_NO_INITIALIZE)
        if hist.added:
            raw[attr.key] = (hist.deleted[0] if hist.deleted else _UNKNOWN, hist.added[0])
    missing = [k for k, (old, _new) in raw.items() if old is _UNKNOWN]
    if missing:
        table = mapper.local_table
        ident = sa.inspect(obj).identity
        pk_cond = sa.and_(*(col == val for col, val in zip(mapper.primary_key, ident, strict=True)))
        row = (
            session.connection()
            .execute(
                sa.select(*(mapper.get_property(k).columns[0] for k in missing))
                .select_from(table)
                .where(pk_cond)
            )
            .first()
        )
        for k in missing:
            raw[k] = (
                getattr(row, mapper.get_property(k).columns[0].key) if row else None,
                raw[k][1],
            )
    out = {}
    for key, (old, new) in raw.items():
        attr = mapper.get_property(key)
        old_v, new_v = column_value(obj, attr, old), column_value(obj, attr, new)
        if old_v == new_v:
            continue
        out[key] = [REDACTED, REDACTED] if key in redact else [old_v, new_v]
    return out


def workspace_of(obj: Any) -> int | None:
    if isinstance(obj, WorkspaceScoped):
        return obj.workspace_id
    return None


def append(
    session: Session,
    *,
    workspace_id: int | None,
    entity_type: str,
    entity_id: str,
    action: str,
    payload: dict[str, Any],
    context: dict[str, Any] | None = None,
    heads: dict[tuple[str, str], tuple[int, str]] | None = None,
    new: bool = False,
) -> dict[str, Any]:
    """Append one event to the record's chain, inside the caller's transaction.

    Chain heads read in this transaction are cached (session.info, cleared on commit and on any
    rollback): every chain written here belongs to a row this transaction inserted or holds a
    lock on, so nobody else can move its head meanwhile. `new`: the row was inserted by this
    transaction just now, so its chain starts here (no head to read).
    """
    key = (entity_type, entity_id)
    if heads is None:
        heads = session.info.setdefault("audit_heads", {})
    if key in heads:
        seq, prev = heads[key]
    elif new:
        seq, prev = 0, GENESIS
    else:
        row = (
            session.connection()
            .execute(_HEAD, {"entity_type": entity_type, "entity_id": entity_id})
            .first()
        )
        seq, prev = (row.seq, row.hash) if row else (0, GENESIS)
    actor = _actor.get()
    values = {
        "workspace_id": workspace_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "seq": seq + 1,
        "action": action,
        "actor_id": actor.user_id,
        "on_behalf_of_id": actor.on_behalf_of_id,
        "occurred_at": utcnow(),
        "context": context or {},
        "payload": payload,
        "prev_hash": prev,
    }
    values["hash"] = event_hash(prev, header_of(values), payload)
    # Written in one batch before the transaction commits (or a savepoint opens): a command's
    # events cost one INSERT, not one each. Readers in the same transaction see them after that.
    session.info.setdefault("audit_pending", []).append(values)
    heads[key] = (seq + 1, values["hash"])
    return values


def prefetch_heads(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    """Read the heads of several chains in one query (the next `append()`s then read none).

    Only for rows this transaction holds a lock on (or that nobody else writes), like `append()`.
    """
    heads = session.info.setdefault("audit_heads", {})
    wanted = [k for k in dict.fromkeys(keys) if k not in heads]
    if not wanted:
        return
    for key in wanted:
        heads[key] = (0, GENESIS)
    for entity_type, entity_id, seq, hash_ in session.connection().execute(
        _HEADS, {"keys": wanted}
    ):
        heads[(entity_type, entity_id)] = (seq, hash_)


def _heads_statement() -> sa.Select:
    t = AuditEvent.__table__
    last = (
        sa.select(t.c.entity_type, t.c.entity_id, sa.func.max(t.c.seq).label("seq"))
        .where(sa.tuple_(t.c.entity_type, t.c.entity_id).in_(sa.bindparam("keys", expanding=True)))
        .group_by(t.c.entity_type, t.c.entity_id)
        .subquery()
    )
    return sa.select(t.c.entity_type, t.c.entity_id, t.c.seq, t.c.hash).join(
        last,
        sa.and_(
            t.c.entity_type == last.c.entity_type,
            t.c.entity_id == last.c.entity_id,
            t.c.seq == last.c.seq,
        ),
    )


_HEADS = _heads_statement()
_HEAD = (
    sa.select(AuditEvent.__table__.c.seq, AuditEvent.__table__.c.hash)
    .where(
        AuditEvent.__table__.c.entity_type == sa.bindparam("entity_type"),
        AuditEvent.__table__.c.entity_id == sa.bindparam("entity_id"),
    )
    .order_by(AuditEvent.__table__.c.seq.desc())
    .limit(1)
)
_INSERT = sa.insert(AuditEvent.__table__)


def write_pending(session: Session) -> None:
    """Insert the events appended so far in this transaction."""
    pending = session.info.pop("audit_pending", None)
    if pending:
        session.connection().execute(_INSERT, pending)


@event.listens_for(Session, "before_flush")
def _capture_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    # Old values and deleted rows must be read while the rows still hold them.
    updated = session.info.setdefault("audit_updated", {})
    for obj in session.dirty:
        if is_audited(obj) and session.is_modified(obj, include_collections=False):
            diff = changes(session, obj)
            if diff:
                updated[id(obj)] = (obj, diff)
    deleted = session.info.setdefault("audit_deleted", {})
    for obj in session.deleted:
        if is_audited(obj):
            deleted[id(obj)] = (entity_key(obj), workspace_of(obj), snapshot(obj))


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    session.flush()  # its after_flush hook may append more events
    write_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _write_before_savepoint(session: Session, transaction: Any) -> None:
    # A savepoint rolled back must not take earlier events with it: write those first.
    if transaction.nested and session.info.get("audit_pending"):
        write_pending(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_heads(session: Session, *args: Any) -> None:
    session.info.pop("audit_heads", None)
    session.info.pop("audit_pending", None)


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, flush_context: Any) -> None:
    heads = session.info.setdefault("audit_heads", {})
    for obj in list(session.new):
        if is_audited(obj):
            etype, eid = entity_key(obj)
            append(
                session,
                workspace_id=workspace_of(obj),
                entity_type=etype,
                entity_id=eid,
                action="create",
                payload={"values": snapshot(obj)},
                heads=heads,
            )
    for obj, diff in session.info.pop("audit_updated", {}).values():
        etype, eid = entity_key(obj)
        append(
            session,
            workspace_id=workspace_of(obj),
            entity_type=etype,
            entity_id=eid,
            action="update",
            payload={"changes": diff},
            heads=heads,
        )
    deleted = session.info.pop("audit_deleted", {})
    for obj in list(session.deleted):
        if is_audited(obj) and id(obj) in deleted:
            (etype, eid), ws, values = deleted[id(obj)]
            append(
                session,
                workspace_id=ws,
                entity_type=etype,
                entity_id=eid,
                action="delete",
                payload={"values": values},
                heads=heads,
            )
