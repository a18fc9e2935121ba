"""plan(): definition + snapshot + command -> effects. Pure: no database, no clock, no I/O.

The engine (`suite.workflow.engine`) builds the snapshot under a row lock, calls `plan()` and
writes the effects. Everything the planner needs from the outside world (who approves a node,
who is someone's manager, delegation windows, condition evaluation) comes through `Context`, so
tests drive it with plain dictionaries (docs/WORKFLOW.md section 4).

The code is split by concern: `model` (inputs, outputs, `CommandRefused`), `graph` (traversal),
`votes` (node completion, 加签), `commands` (user commands), `admin` (admin and system commands).
`_Run` composes them; this module re-exports the public names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from suite.workflow.models import LIVE, OPEN
from suite.workflow.planner.admin import SystemCommands
from suite.workflow.planner.commands import UserCommands
from suite.workflow.planner.graph import GraphMixin
from suite.workflow.planner.model import (
    APPROVE,
    HANDED_OVER,
    HUMAN,
    REJECT,
    USER_COMMANDS,
    Activate,
    CloseTask,
    Command,
    CommandRefused,
    Context,
    Effect,
    Event,
    Notify,
    OpenTask,
    Plan,
    RunAction,
    Snapshot,
    StartWait,
    Suspend,
    TaskSnap,
)
from suite.workflow.planner.votes import VotesMixin

__all__ = [
    "USER_COMMANDS",
    "APPROVE",
    "COMMANDS",
    "HANDED_OVER",
    "HUMAN",
    "REJECT",
    "Activate",
    "CloseTask",
    "Command",
    "CommandRefused",
    "Context",
    "Effect",
    "Event",
    "Notify",
    "OpenTask",
    "Plan",
    "RunAction",
    "Snapshot",
    "StartWait",
    "Suspend",
    "TaskSnap",
    "plan",
]


# --- the planner ----------------------------------------------------------------------------------


class _Run(GraphMixin, VotesMixin, UserCommands, SystemCommands):
    """One command being planned: working copies of state and tasks."""

    def __init__(self, spec: Mapping[str, Any], snap: Snapshot, cmd: Command, ctx: Context) -> None:
        self.spec, self.snap, self.cmd, self.ctx = spec, snap, cmd, ctx
        self.nodes: Mapping[str, Mapping[str, Any]] = spec["nodes"]
        self.state: dict[str, Any] = copy.deepcopy(dict(snap.state)) or {
            "active": {},
            "arrived": {},
            "round": 1,
        }
        self.state.setdefault("active", {})
        self.state.setdefault("arrived", {})
        self.state.setdefault("round", 1)
        self.status = snap.status
        self.effects: list[Effect] = []
        self.tasks: dict[int, TaskSnap] = {t.id: t for t in snap.tasks}
        self.values = dict(snap.values)

    # ---- helpers
    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)

    def close(self, task: TaskSnap, outcome: str, comment: str = "") -> None:
        self.emit(CloseTask(task.id, outcome, comment))
        self.tasks[task.id] = replace(task, status=outcome)

    def node_tasks(self, node: str, kind: str | None = None) -> list[TaskSnap]:
        r = self.node_round(node)
        return [
            t
            for t in self.tasks.values()
            if t.node == node and t.round == r and (kind is None or t.kind == kind)
        ]

    def live(self, node: str) -> list[TaskSnap]:
        return [t for t in self.node_tasks(node) if t.status in LIVE and t.kind != "cc"]

    def task(self) -> TaskSnap:
        t = self.tasks.get(self.cmd.task_id or -1)
        if t is None:
            raise CommandRefused("unknown_task", 404)
        return t

    def my_open_task(self) -> TaskSnap:
        t = self.task()
        if t.status != OPEN or t.kind == "cc":
            raise CommandRefused("task_not_open")
        if t.assignee != self.cmd.actor:
            raise CommandRefused("not_your_task", 403)
        return t

    def need_comment(self, node: str, action: str) -> None:
        rule = self.nodes[node].get("comment_required") or ()
        if action in rule and not self.cmd.comment.strip():
            raise CommandRefused("comment_required", 422, action=action)

    def running(self) -> None:
        if self.status != "running":
            raise CommandRefused("not_running")


COMMANDS: dict[str, Callable[[_Run], None]] = {
    name[3:]: getattr(_Run, name) for name in dir(_Run) if name.startswith("do_")
}


def plan(spec: Mapping[str, Any], snap: Snapshot, cmd: Command, ctx: Context) -> Plan:
    """The effects of `cmd` on an instance in state `snap`; raises `CommandRefused`."""
    handler = COMMANDS.get(cmd.kind)
    if handler is None:
        raise CommandRefused("unknown_command", 422)
    run = _Run(spec, snap, cmd, ctx)
    handler(run)
    return Plan(status=run.status, state=run.state, effects=run.effects)
