"""The organisation as one command sees it, read in one query (docs/PERFORMANCE.md).

A command asks several questions of the org chart: who heads the initiator's department, who
are their managers, who holds a role, who stands in for an absent approver, who are the admins,
which of the people told have an e-mail address, which webhooks listen. Asked one by one that
was a dozen round trips per approval; `Org.load()` answers all of them for the people the
process can reach (the initiator's manager and department chains, the spec's roles, the actor)
with a single UNION ALL, the first time any of them is asked. People outside that set (a field
resolver's ids, a transfer's assignee) fall back to small queries of their own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from suite.auth.models import Department, Membership, MembershipRole, Role, User
from suite.db import db
from suite.notify.models import WebhookEndpoint
from suite.workflow.models import Delegation

ADMIN_ROLE = "suite.admin"
MAX_DEPTH = 50  # department tree / manager chain depth read at most (loops stop earlier)


@dataclass(frozen=True)
class Person:
    id: int
    user_id: int
    manager_id: int | None
    department_id: int | None
    active: bool  # the membership
    user_active: bool
    email: str | None

    @property
    def reachable(self) -> bool:
        """May be told (notify() skips inactive members and disabled accounts)."""
        return self.active and self.user_active


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    events: tuple[str, ...]

    def subscribes(self, event: str) -> bool:
        return "*" in self.events or event in self.events


def _statement() -> sa.Select:
    m, u, d = Membership.__table__, User.__table__, Department.__table__
    mr, r = MembershipRole.__table__, Role.__table__
    dg, we = Delegation.__table__, WebhookEndpoint.__table__
    ws = sa.bindparam("ws", type_=sa.Integer)
    initiator = sa.bindparam("initiator", type_=sa.Integer)

    chain = (
        sa.select(m.c.id, m.c.manager_id, sa.literal_column("0").label("depth"))
        .where(m.c.id == initiator, m.c.workspace_id == ws)
        .cte("chain", recursive=True)
    )
    up = m.alias("up")
    chain = chain.union_all(
        sa.select(up.c.id, up.c.manager_id, chain.c.depth + 1)
        .join(chain, up.c.id == chain.c.manager_id)
        .where(chain.c.depth < sa.bindparam("levels", type_=sa.Integer), up.c.workspace_id == ws)
    )
    dchain = (
        sa.select(d.c.id, d.c.parent_id, d.c.head_id, sa.literal_column("0").label("depth"))
        .join(m, m.c.department_id == d.c.id)
        .where(m.c.id == initiator, d.c.workspace_id == ws)
        .cte("dchain", recursive=True)
    )
    parent = d.alias("parent")
    dchain = dchain.union_all(
        sa.select(parent.c.id, parent.c.parent_id, parent.c.head_id, dchain.c.depth + 1)
        .join(dchain, parent.c.id == dchain.c.parent_id)
        .where(dchain.c.depth < MAX_DEPTH, parent.c.workspace_id == ws)
    )
    holders = (
        sa.select(r.c.code, mr.c.membership_id)
        .join(r, r.c.id == mr.c.role_id)
        .join(m, m.c.id == mr.c.membership_id)
        .where(
            r.c.code.in_(sa.bindparam("codes", expanding=True)),
            r.c.workspace_id == ws,
            m.c.active.is_(True),
        )
        .cte("holders")
    )
    people = sa.union(
        sa.select(chain.c.id),
        sa.select(dchain.c.head_id).where(dchain.c.head_id.is_not(None)),
        sa.select(holders.c.membership_id),
        sa.select(m.c.id).where(m.c.id.in_(sa.bindparam("extra", expanding=True))),
    ).cte("people")

    def row(part: int, *cols: Any) -> list[Any]:
        # part, k (text), a, b, c, d (ints), f, g (flags), s (text): one shape for every part
        types = (sa.Text, *(sa.Integer,) * 4, sa.Boolean, sa.Boolean, sa.Text)
        padded = list(cols) + [None] * (len(types) - len(cols))
        return [sa.literal_column(str(part)).label("part")] + [
            sa.cast(sa.null(), t) if c is None else c for c, t in zip(padded, types, strict=True)
        ]

    now = sa.bindparam("now", type_=Delegation.__table__.c.starts_at.type)
    return sa.union_all(
        sa.select(*row(0, None, chain.c.id, chain.c.depth)),
        sa.select(*row(1, None, dchain.c.id, dchain.c.head_id, dchain.c.depth)),
        sa.select(*row(2, holders.c.code, holders.c.membership_id)),
        sa.select(
            *row(
                3,
                *(None, m.c.id, m.c.manager_id, m.c.department_id, u.c.id),
                *(m.c.active, u.c.active, u.c.email),
            )
        )
        .join(u, u.c.id == m.c.user_id)
        .where(m.c.id.in_(sa.select(people.c.id)), m.c.workspace_id == ws),
        sa.select(*row(4, None, dg.c.member_id, dg.c.delegate_id, dg.c.id)).where(
            dg.c.workspace_id == ws,
            dg.c.member_id.in_(sa.select(people.c.id)),
            dg.c.starts_at <= now,
            dg.c.ends_at > now,
        ),
        sa.select(
            *row(5, sa.cast(we.c.events, sa.Text), we.c.id, None, None, None, None, None, we.c.url)
        ).where(we.c.workspace_id == ws, we.c.active.is_(True)),
    )


_STATEMENT = _statement()


class Org:
    """The org chart around one command's instance, loaded once on first use."""

    def __init__(
        self,
        workspace_id: int,
        initiator: int,
        now: dt.datetime,
        *,
        levels: int = 1,
        roles: Iterable[str] = (),
        extra: Iterable[int | None] = (),
    ) -> None:
        self.workspace_id, self.initiator, self.now = workspace_id, initiator, now
        self.levels = levels
        self.roles = frozenset(roles) | {ADMIN_ROLE}
        self.extra = {i for i in extra if i}
        self.loaded = False
        self.people: dict[int, Person] = {}
        self.chain: list[int] = []  # the initiator, then managers up
        self.departments: list[tuple[int, int | None]] = []  # (department, head) upwards
        self.holders: dict[str, list[int]] = {}
        self.delegates: dict[int, int] = {}  # member -> delegate now
        self.delegations_read: frozenset[int] = frozenset()  # members `delegates` covers
        self._endpoints: list[Endpoint] = []

    # ---- loading
    def load(self) -> Org:
        if self.loaded:
            return self
        rows = db.session.connection().execute(
            _STATEMENT,
            {
                "ws": self.workspace_id,
                "initiator": self.initiator,
                "levels": self.levels,
                "codes": sorted(self.roles),
                "extra": sorted(self.extra) or [0],
                "now": self.now,
            },
        )
        chain: list[tuple[int, int]] = []
        depts: list[tuple[int, int, int | None]] = []
        holders: dict[str, list[int]] = {code: [] for code in self.roles}
        delegations: list[tuple[int, int, int]] = []
        endpoints: list[Endpoint] = []
        for part, k, a, b, c, d, f, g, s in rows:
            if part == 0:
                chain.append((b, a))
            elif part == 1:
                depts.append((c, a, b))
            elif part == 2:
                holders[k].append(a)
            elif part == 3:
                self.people[a] = Person(a, d, b, c, bool(f), bool(g), s)
            elif part == 4:
                delegations.append((c, a, b))
            else:
                events = json.loads(k) if k else []
                endpoints.append(Endpoint(a, s, tuple(events or ())))
        self.chain = [member for _depth, member in sorted(chain)]
        self.departments = [(dept, head) for _depth, dept, head in sorted(depts)]
        self.holders = {code: sorted(set(ids)) for code, ids in holders.items()}
        self.delegations_read = frozenset(self.people)
        for _id, member, delegate in sorted(delegations, reverse=True):  # newest window wins
            self.delegates.setdefault(member, delegate)
        self._endpoints = sorted(endpoints, key=lambda e: e.id)
        self.loaded = True
        return self

    # ---- questions
    def manager_chain(self, levels: int) -> list[int] | None:
        """Managers 1..levels up from the initiator, stopping at a loop; None: not loaded."""
        if levels > self.levels:
            return None
        self.load()
        out: list[int] = []
        seen = {self.initiator}
        for member in self.chain[1:]:
            if len(out) >= levels or member in seen:
                break
            out.append(member)
            seen.add(member)
        return out

    def department_head(self) -> list[int]:
        """The first head up the initiator's department tree who is not the initiator."""
        self.load()
        seen: set[int] = set()
        for dept, head in self.departments:
            if dept in seen:
                break
            seen.add(dept)
            if head and head != self.initiator:
                return self.active([head])
        return []

    def holders_of(self, code: str) -> list[int] | None:
        if code not in self.roles:
            return None
        return list(self.load().holders[code])

    def admins(self) -> list[int]:
        return list(self.load().holders[ADMIN_ROLE])

    def persons(self, members: Sequence[int]) -> dict[int, Person]:
        """People by id (members of other workspaces are missing); reads the ones not loaded."""
        self.load()
        missing = [i for i in dict.fromkeys(members) if i not in self.people]
        if missing:
            m, u = Membership.__table__, User.__table__
            for a, user_id, b, c, f, g, s in db.session.connection().execute(
                sa.select(
                    m.c.id,
                    u.c.id,
                    m.c.manager_id,
                    m.c.department_id,
                    m.c.active,
                    u.c.active,
                    u.c.email,
                )
                .join(u, u.c.id == m.c.user_id)
                .where(m.c.id.in_(missing), m.c.workspace_id == self.workspace_id)
            ):
                self.people[a] = Person(a, user_id, b, c, bool(f), bool(g), s)
        return {i: self.people[i] for i in members if i in self.people}

    def active(self, ids: Sequence[int]) -> list[int]:
        people = self.persons(ids)
        return [i for i in ids if i in people and people[i].active]

    def manager_of(self, member: int) -> int | None:
        person = self.persons([member]).get(member)
        return person.manager_id if person else None

    def delegate_of(self, member: int, now: dt.datetime) -> int | None:
        self.load()
        if member in self.delegations_read and now == self.now:
            return self.delegates.get(member)
        return db.session.scalar(
            sa.select(Delegation.delegate_id)
            .where(
                Delegation.member_id == member,
                Delegation.starts_at <= now,
                Delegation.ends_at > now,
            )
            .order_by(Delegation.id.desc())
            .limit(1)
        )

    def endpoints(self) -> list[Endpoint]:
        """The workspace's active webhook endpoints, by id."""
        return list(self.load()._endpoints)


def needs(spec: Mapping[str, Any]) -> tuple[int, frozenset[str]]:
    """What a spec's resolvers can ask: the manager levels and the role codes."""
    levels, roles = 0, set()
    for node in (spec.get("nodes") or {}).values():
        for entry in (node.get("approvers") or []) + (node.get("recipients") or []):
            if entry.get("resolver") == "manager":
                levels = max(levels, int(entry.get("levels", 1)))
            elif entry.get("resolver") == "role" and entry.get("role"):
                roles.add(str(entry["role"]))
    return levels, frozenset(roles)
