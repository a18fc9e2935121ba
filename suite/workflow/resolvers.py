"""Approver resolvers, registered by name: who is asked at an approval (or CC) node.

Each takes the node's entry (e.g. `{resolver: role, role: suite.finance}`) and a `Who` with the
initiator, the document's values and the initiator's selections; it returns membership ids.
Inside a command `Who.org` is the command's org chart (`suite.workflow.org`, read in one query);
without it (previews) each resolver asks the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from suite.auth.models import Department, Membership, MembershipRole, Role, User
from suite.db import db


@dataclass(frozen=True)
class Who:
    initiator: int
    node: str
    values: Mapping[str, Any] = field(default_factory=dict)
    selected: Mapping[str, Sequence[int]] = field(default_factory=dict)
    org: Any = None  # suite.workflow.org.Org of the same initiator, when a command resolves


Resolver = Callable[[Mapping[str, Any], Who], list[int]]
RESOLVERS: dict[str, Resolver] = {}


def resolver(name: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        RESOLVERS[name] = fn
        return fn

    return register


def _active(ids: Sequence[int], org: Any = None) -> list[int]:
    if not ids:
        return []
    if org is not None:
        return org.active(ids)
    found = set(
        db.session.scalars(
            sa.select(Membership.id).where(Membership.id.in_(ids), Membership.active.is_(True))
        )
    )
    return [i for i in ids if i in found]


@resolver("user")
def by_login(entry: Mapping[str, Any], who: Who) -> list[int]:
    member = db.session.scalar(
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(User.login == str(entry.get("user", "")).lower(), Membership.active.is_(True))
    )
    return [member] if member else []


@resolver("role")
def by_role(entry: Mapping[str, Any], who: Who) -> list[int]:
    held = who.org.holders_of(entry.get("role")) if who.org is not None else None
    if held is not None:
        return held
    return list(
        db.session.scalars(
            sa.select(Membership.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .join(Role, Role.id == MembershipRole.role_id)
            .where(Role.code == entry.get("role"), Membership.active.is_(True))
            .order_by(Membership.id)
        )
    )


@resolver("department_head")
def department_head(entry: Mapping[str, Any], who: Who) -> list[int]:
    """The head of the named department, else of the initiator's; a head asks the next one up."""
    if who.org is not None and not entry.get("department"):
        return who.org.department_head()
    if entry.get("department"):
        dept = db.session.scalar(
            sa.select(Department).where(Department.name == entry["department"])
        )
    else:
        initiator = db.session.get(Membership, who.initiator)
        dept = initiator.department if initiator else None
    seen: set[int] = set()
    while dept is not None and dept.id not in seen:
        seen.add(dept.id)
        if dept.head_id and dept.head_id != who.initiator:
            return _active([dept.head_id])
        dept = dept.parent
    return []


@resolver("manager")
def manager_chain(entry: Mapping[str, Any], who: Who) -> list[int]:
    """逐级: managers 1..N levels up the chain, in order, without repeats."""
    levels = int(entry.get("levels", 1))
    chain = who.org.manager_chain(levels) if who.org is not None else None
    if chain is not None:
        return _active(chain, who.org)
    initiator = db.session.get(Membership, who.initiator)
    if initiator is None:
        return []
    return _active([m.id for m in initiator.manager_chain(levels)])


@resolver("field")
def from_field(entry: Mapping[str, Any], who: Who) -> list[int]:
    value = who.values.get(str(entry.get("field")))
    ids = value if isinstance(value, list) else [value]
    return _active(
        [int(v) for v in ids if isinstance(v, int) or (isinstance(v, str) and v.isdigit())],
        who.org,
    )


@resolver("initiator_selected")
def initiator_selected(entry: Mapping[str, Any], who: Who) -> list[int]:
    return _active([int(v) for v in who.selected.get(who.node, ())], who.org)


@resolver("initiator")
def initiator(entry: Mapping[str, Any], who: Who) -> list[int]:
    return [who.initiator]


def resolve(entries: Sequence[Mapping[str, Any]], who: Who) -> list[int]:
    """All entries' people, in order, each once."""
    out: list[int] = []
    for entry in entries:
        out.extend(RESOLVERS[entry["resolver"]](entry, who))
    return list(dict.fromkeys(out))


def admins() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Membership.id)
            .join(MembershipRole, MembershipRole.membership_id == Membership.id)
            .join(Role, Role.id == MembershipRole.role_id)
            .where(Role.code == "suite.admin", Membership.active.is_(True))
            .order_by(Membership.id)
        )
    )
