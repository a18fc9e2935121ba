"""Walks every chain and every audited table; reports the first broken link."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from suite.audit.anchor import anchor_of
from suite.audit.chain import GENESIS, REDACTED, event_hash, header_of
from suite.audit.models import AuditAnchor, AuditEvent
from suite.audit.recorder import entity_key, is_audited, snapshot
from suite.db import db


@dataclass(frozen=True)
class Break:
    event_id: int | None  # the first event that no longer holds (None: a row with no history)
    where: str
    reason: str

    def __str__(self) -> str:
        ref = f"event #{self.event_id}" if self.event_id is not None else "no event"
        return f"{ref} ({self.where}): {self.reason}"


def _events(session: Session) -> Iterator[AuditEvent]:
    stmt = (
        sa.select(AuditEvent)
        .order_by(AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.seq)
        .execution_options(yield_per=2000, all_workspaces=True)
    )
    yield from session.scalars(stmt)


def _replay(state: dict[str, Any] | None, ev: AuditEvent) -> dict[str, Any] | None:
    if ev.action == "create":
        return dict(ev.payload["values"])
    if ev.action == "delete":
        return None
    if ev.action == "update" and state is not None:
        state = dict(state)
        for key, (_old, new) in ev.payload["changes"].items():
            state[key] = new
    return state


def verify(session: Session | None = None) -> list[Break]:
    """Every broken link, ordered so the first is the earliest event that fails."""
    session = session or db.session
    breaks: list[Break] = []
    replayed: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {}
    for (etype, eid), chain in itertools.groupby(
        _events(session), lambda e: (e.entity_type, e.entity_id)
    ):
        prev, expected_seq, state, last_id = GENESIS, 1, None, None
        where = f"{etype} {eid}"
        for ev in chain:
            if ev.seq != expected_seq:
                breaks.append(
                    Break(ev.id, where, f"sequence jumps to {ev.seq}, expected {expected_seq}")
                )
                break
            if ev.prev_hash != prev:
                breaks.append(Break(ev.id, where, "does not link to the previous event"))
                break
            if event_hash(prev, header_of(ev), ev.payload) != ev.hash:
                breaks.append(Break(ev.id, where, "event content does not match its hash"))
                break
            prev, expected_seq, last_id = ev.hash, expected_seq + 1, ev.id
            state = _replay(state, ev)
        else:
            replayed[(etype, eid)] = (state, last_id)
    breaks.extend(_compare_rows(session, replayed))
    breaks.extend(_check_anchors(session))
    return sorted(breaks, key=lambda b: (b.event_id is None, b.event_id or 0))


def _compare_rows(
    session: Session, replayed: dict[tuple[str, str], tuple[Any, int]]
) -> Iterator[Break]:
    """A row changed outside the app no longer equals the state its chain replays to."""
    seen: set[tuple[str, str]] = set()
    held = set(session.identity_map.keys())  # the caller's objects stay attached

    def release(obj: Any) -> None:
        if sa.inspect(obj).key not in held:
            session.expunge(obj)  # keep memory flat over big tables

    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if not is_audited(cls):
            continue
        stmt = sa.select(cls).execution_options(yield_per=2000, all_workspaces=True)
        for obj in session.scalars(stmt):
            key = entity_key(obj)
            seen.add(key)
            where = f"{key[0]} {key[1]}"
            if key not in replayed:
                release(obj)
                yield Break(None, where, "row has no audit history (written outside the app)")
                continue
            state, last_id = replayed[key]
            current = snapshot(obj)
            release(obj)
            if state is None:
                yield Break(last_id, where, "row exists but its history ends in a delete")
                continue
            diff = sorted(
                k for k in current if state.get(k) != current[k] and state.get(k) != REDACTED
            )
            if diff:
                shown = ", ".join(f"{k}: {state.get(k)!r} -> {current[k]!r}" for k in diff[:3])
                yield Break(
                    last_id, where, f"row differs from its audit history after this event ({shown})"
                )
    for key, (state, last_id) in replayed.items():
        if state is not None and key not in seen:
            yield Break(last_id, f"{key[0]} {key[1]}", "row was deleted outside the app")


def _check_anchors(session: Session) -> Iterator[Break]:
    stmt = sa.select(AuditAnchor).order_by(AuditAnchor.workspace_id, AuditAnchor.day)
    prev: dict[int, str] = {}
    for anchor in session.scalars(stmt.execution_options(all_workspaces=True)):
        expected_prev = prev.get(anchor.workspace_id, GENESIS)
        events, heads_hash, digest = anchor_of(
            session, anchor.workspace_id, anchor.day, expected_prev
        )
        if (
            anchor.prev_hash != expected_prev
            or digest != anchor.hash
            or heads_hash != anchor.heads_hash
        ):
            yield Break(
                None,
                f"anchor {anchor.workspace_id}/{anchor.day}",
                "the day's chain heads no longer match the anchor",
            )
        prev[anchor.workspace_id] = anchor.hash
