"""The route a draft would take, shown to the requester before submitting (ARCHITECTURE 4.1).

`preview()` walks the compiled spec the way the planner does when a document is submitted:
decisions take their first true case on the document's values and the params, approval and CC
nodes resolve their people with the registered resolvers, the self-approval and empty-node
policies apply. It only reads (the org chart); nothing is written and no instance exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from suite.auth.models import Membership, User
from suite.db import db
from suite.workflow import resolvers
from suite.workflow.drawing import node_label

MAX_STEPS = 200  # a published spec is acyclic; this only guards against a broken one


class Step(NamedTuple):
    """One node on the predicted path: (node id, label, names of the people it asks)."""

    node: str
    label: str
    names: list[str]


def preview(
    spec: Mapping[str, Any],
    values: Mapping[str, Any],
    initiator: int,
    *,
    locale: str = "zh_CN",
    selected: Mapping[str, Sequence[int]] | None = None,
) -> list[Step]:
    """The nodes a document with `values` submitted by `initiator` would pass, in order.

    Decisions and parallel/join nodes are walked through but not listed; an approval node the
    initiator alone would approve (self-approval `skip`) or that resolves nobody with
    `empty: auto_pass` is left out, as the planner passes it.
    """
    walker = _Walk(spec, values, initiator, selected or {})
    walker.walk(spec["start"])
    names = _names([m for _, people in walker.path for m in people])
    return [
        Step(node, node_label(node, spec["nodes"][node], locale), [names[m] for m in people])
        for node, people in walker.path
    ]


class _Walk:
    def __init__(
        self,
        spec: Mapping[str, Any],
        values: Mapping[str, Any],
        initiator: int,
        selected: Mapping[str, Sequence[int]],
    ) -> None:
        from suite.workflow.engine import typed

        self.nodes: Mapping[str, Mapping[str, Any]] = spec["nodes"]
        self.fields = spec.get("fields") or {}
        self.values = {**typed(values, self.fields), **(spec.get("params") or {})}
        self.names = frozenset(self.fields) | frozenset(spec.get("params") or {})
        self.initiator = initiator
        self.selected = selected
        self.path: list[tuple[str, list[int]]] = []
        self.steps = 0

    def walk(self, node_id: str | None, stop: str | None = None) -> None:
        """Follow the graph from `node_id` to an end (or to the join `stop` of a parallel)."""
        while node_id is not None and node_id != stop and self.steps < MAX_STEPS:
            self.steps += 1
            node = self.nodes[node_id]
            kind = node.get("kind")
            if kind == "end":
                self.path.append((node_id, []))
                return
            if node.get("enabled") is False:
                node_id = node.get("next")
                continue
            if kind == "decision":
                node_id = self.decide(node)
                continue
            if kind == "parallel":
                for start in node.get("branches") or ():
                    self.walk(start, stop=node.get("join"))
                node_id = node.get("join")
                continue
            if kind == "edit":
                self.path.append((node_id, [self.initiator]))
            elif kind == "approval":
                people = self.approvers(node_id, node)
                if people:
                    self.path.append((node_id, people))
            elif kind == "cc":
                self.path.append((node_id, self.resolve(node_id, node.get("recipients") or [])))
            elif kind in ("automation", "wait"):
                self.path.append((node_id, []))
            node_id = node.get("next")

    def decide(self, node: Mapping[str, Any]) -> str:
        from suite.workflow.conditions import ConditionError, compile_condition, evaluate

        for case in node.get("cases") or ():
            try:
                if evaluate(compile_condition(str(case["when"]), self.names), self.values):
                    return case["next"]
            except ConditionError:
                continue  # as at run time: a case that cannot be evaluated is not taken
        return node["default"]

    def resolve(self, node_id: str, entries: Sequence[Mapping[str, Any]]) -> list[int]:
        who = resolvers.Who(
            initiator=self.initiator, node=node_id, values=self.values, selected=self.selected
        )
        return resolvers.resolve(entries, who)

    def approvers(self, node_id: str, node: Mapping[str, Any]) -> list[int]:
        people = self.resolve(node_id, node.get("approvers") or [])
        if self.initiator in people and node.get("self_approval", "skip") in ("skip", "forbid"):
            people.remove(self.initiator)
            if not people and node.get("self_approval", "skip") == "skip":
                return []
        if not people and node.get("empty", "admin") == "admin":
            people = resolvers.admins()
        return people


def _names(member_ids: Sequence[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.id, User.display_name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.id.in_(set(member_ids)))
    ).all()
    return {**{m: f"#{m}" for m in member_ids}, **dict(rows)}
