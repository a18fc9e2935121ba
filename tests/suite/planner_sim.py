"""An in-memory stand-in for the workflow engine, for unit tests of the pure planner.

`FakeContext` answers the planner's questions from plain dictionaries; `Sim` holds one instance
(status, state, tasks) and applies a Plan's effects the way `suite.workflow.effects.apply_effects`
does: OpenTask rows get fresh ids in effect order, CloseTask / Activate / Suspend change a task
only from the status the engine's guarded UPDATE expects (anything else is a planner bug here, a
`task_changed` 409 there). A refused command raises before any effect exists, so it changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from suite.workflow.models import LIVE, OPEN, WAITING
from suite.workflow.planner import (
    Activate,
    CloseTask,
    Command,
    Event,
    Notify,
    OpenTask,
    Plan,
    RunAction,
    Snapshot,
    StartWait,
    Suspend,
    TaskSnap,
    plan,
)

T0 = dt.datetime(2024, 5, 6, 9, 0, tzinfo=dt.UTC)


def _condition(expr: str, values: Mapping[str, Any]) -> bool:
    try:
        from suite.workflow.conditions import ConditionError, compile_condition, evaluate
    except ImportError:  # pragma: no cover - the kernel ships conditions.py
        name, op, number = expr.split()
        assert op == ">"
        return float(values[name]) > float(number)
    try:
        return evaluate(compile_condition(expr, frozenset(values)), values)
    except ConditionError:
        return False  # like the engine: a case that cannot be evaluated is not taken


@dataclass
class FakeContext:
    """The planner's view of the organisation, from dictionaries."""

    approvers_by_node: Mapping[str, Sequence[int]] = field(default_factory=dict)
    managers: Mapping[int, int] = field(default_factory=dict)
    admin_ids: Sequence[int] = ()
    delegates: Mapping[int, int] = field(default_factory=dict)

    def approvers(self, node_id: str, node: Mapping[str, Any], snap: Snapshot) -> list[int]:
        return list(self.approvers_by_node.get(node_id, ()))

    def manager_of(self, member: int) -> int | None:
        return self.managers.get(member)

    def admins(self) -> list[int]:
        return list(self.admin_ids)

    def delegate_of(self, member: int, now: dt.datetime) -> int | None:
        return self.delegates.get(member)

    def condition(self, expr: str, values: Mapping[str, Any]) -> bool:
        return _condition(expr, values)


class EffectMisfitError(AssertionError):
    """The engine's guarded UPDATE would fail: the planner closed/activated a task it must not."""


@dataclass
class Sim:
    spec: Mapping[str, Any]
    ctx: FakeContext
    initiator: int = 1
    values: Mapping[str, Any] = field(default_factory=dict)
    status: str = "draft"
    state: dict[str, Any] = field(default_factory=dict)
    tasks: dict[int, TaskSnap] = field(default_factory=dict)
    now: dt.datetime = T0
    next_id: int = 1
    events: list[Event] = field(default_factory=list)
    notes: list[Notify] = field(default_factory=list)
    actions: list[RunAction] = field(default_factory=list)
    waits: list[StartWait] = field(default_factory=list)
    last: Plan | None = None

    # ---- running commands
    def snapshot(self) -> Snapshot:
        return Snapshot(
            status=self.status,
            initiator=self.initiator,
            state=self.state,
            tasks=tuple(self.tasks[i] for i in sorted(self.tasks)),
            values={**self.values, **(self.spec.get("params") or {})},
        )

    def plan(self, cmd: Command) -> Plan:
        return plan(self.spec, self.snapshot(), cmd, self.ctx)

    def run(self, cmd: Command) -> Plan:
        result = self.plan(cmd)  # raises CommandRefused before anything changes
        self.apply(result)
        return result

    def do(self, kind: str, actor: int | None, **kw: Any) -> Plan:
        kw.setdefault("now", self.now)
        return self.run(Command(kind, actor, **kw))

    def submit(self) -> Plan:
        return self.do("submit", self.initiator)

    def act(self, member: int, kind: str = "approve", node: str | None = None, **kw: Any) -> Plan:
        """`member` acts on their open task (in `node` when given)."""
        kw.setdefault("task_id", self.task_of(member, node).id)
        return self.do(kind, member, **kw)

    def apply(self, result: Plan) -> None:
        """What effects.apply_effects writes, on the in-memory rows."""
        for effect in result.effects:
            if isinstance(effect, OpenTask):
                status = WAITING if effect.waiting else (OPEN if effect.kind != "cc" else "cc")
                self.tasks[self.next_id] = TaskSnap(
                    self.next_id,
                    effect.node,
                    effect.assignee,
                    status,
                    effect.kind,
                    effect.seq,
                    effect.round,
                    effect.on_behalf_of,
                    effect.added_by,
                    effect.added_how,
                )
                self.next_id += 1
            elif isinstance(effect, CloseTask):
                self._move(effect.task_id, LIVE, effect.outcome, effect)
            elif isinstance(effect, Activate):
                self._move(effect.task_id, (WAITING,), OPEN, effect)
            elif isinstance(effect, Suspend):
                self._move(effect.task_id, (OPEN,), WAITING, effect)
            elif isinstance(effect, Event):
                self.events.append(effect)
            elif isinstance(effect, Notify):
                self.notes.append(effect)
            elif isinstance(effect, RunAction):
                self.actions.append(effect)
            elif isinstance(effect, StartWait):
                self.waits.append(effect)
            else:  # pragma: no cover
                raise AssertionError(f"unknown effect {effect!r}")
        self.status = result.status
        self.state = result.state
        self.last = result

    def _move(self, task_id: int, current: Sequence[str], status: str, effect: Any) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.status not in current:
            raise EffectMisfitError(f"{effect!r} on {task!r}")
        self.tasks[task_id] = replace(task, status=status)

    # ---- reading
    def live(self, node: str | None = None) -> list[TaskSnap]:
        return [
            t
            for t in self.tasks.values()
            if t.status in LIVE and t.kind != "cc" and (node is None or t.node == node)
        ]

    def open(self, node: str | None = None, kind: str | None = None) -> list[TaskSnap]:
        return [t for t in self.live(node) if t.status == OPEN and (kind is None or t.kind == kind)]

    def assignees(self, node: str | None = None) -> list[int]:
        """Who has an open task (sorted)."""
        return sorted(t.assignee for t in self.open(node))

    def task_of(self, member: int, node: str | None = None) -> TaskSnap:
        mine = [t for t in self.live(node) if t.assignee == member]
        assert len(mine) == 1, f"{member} holds {mine}"
        return mine[0]

    def actions_logged(self) -> list[str]:
        return [e.action for e in self.events]
