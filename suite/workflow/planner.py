"""plan(): definition + snapshot + command -> effects. Pure: no database, no clock, no I/O.

The engine (`suite.workflow.engine`) builds the snapshot under a row lock, calls `plan()` and
writes the effects. Everything the planner needs from the outside world (who approves a node,
who is someone's manager, delegation windows, condition evaluation) comes through `Context`, so
tests drive it with plain dictionaries (docs/WORKFLOW.md section 4).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from suite.workflow.models import LIVE, OPEN, WAITING

HUMAN = ("edit", "approval")
HANDED_OVER = ("transferred", "escalated")  # the task lives on in its replacement
APPROVE, REJECT = "approved", "rejected"


class CommandRefused(Exception):  # noqa: N818 - reads as the outcome it is
    """The command does not fit the instance's state; nothing is written.

    `code` is a stable reason (`not_your_task`, `comment_required`, ...) the UI maps to a
    message and the API returns; `status` is the HTTP status (409, or 422 for bad input).
    """

    def __init__(self, code: str, status: int = 409, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.details = details


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSnap:
    id: int
    node: str
    assignee: int
    status: str
    kind: str = "approval"
    seq: int = 0
    round: int = 1
    on_behalf_of: int | None = None
    added_by: int | None = None  # the task that added this one (加签)
    added_how: str | None = None  # before / after / parallel / escalated


@dataclass(frozen=True)
class Snapshot:
    status: str  # "draft" before submit, then running / approved / rejected / withdrawn / cancelled
    initiator: int
    state: Mapping[str, Any] = field(default_factory=dict)
    tasks: tuple[TaskSnap, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # document fields + params


@dataclass(frozen=True)
class Command:
    kind: str
    actor: int | None  # membership id; None for the system (timers)
    now: dt.datetime
    task_id: int | None = None
    comment: str = ""
    target: str | None = None  # send_back / jump target node
    resume: str = "returning"  # send_back: returning | rerun
    assignees: tuple[int, ...] = ()  # transfer / add_approver / cc / reassign
    position: str = "after"  # add_approver: before | after | parallel
    is_admin: bool = False
    selected: Mapping[str, Sequence[int]] = field(default_factory=dict)  # initiator-selected


class Context(Protocol):
    def approvers(self, node_id: str, node: Mapping[str, Any], snap: Snapshot) -> list[int]: ...
    def manager_of(self, member: int) -> int | None: ...
    def admins(self) -> list[int]: ...
    def delegate_of(self, member: int, now: dt.datetime) -> int | None: ...
    def condition(self, expr: str, values: Mapping[str, Any]) -> bool: ...


# --- outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTask:
    node: str
    assignee: int
    kind: str = "approval"
    seq: int = 0
    round: int = 1
    waiting: bool = False
    on_behalf_of: int | None = None
    added_by: int | None = None
    added_how: str | None = None


@dataclass(frozen=True)
class CloseTask:
    task_id: int
    outcome: str  # approved / rejected / returned / transferred / cancelled / escalated
    comment: str = ""


@dataclass(frozen=True)
class Activate:
    task_id: int


@dataclass(frozen=True)
class Suspend:
    task_id: int  # an open task waits again (前加签: the added approver goes first)


@dataclass(frozen=True)
class Notify:
    recipients: tuple[int, ...]
    event: str
    node: str | None = None


@dataclass(frozen=True)
class RunAction:
    name: str
    node: str


@dataclass(frozen=True)
class StartWait:
    node: str
    after: str


@dataclass(frozen=True)
class Event:
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)


Effect = OpenTask | CloseTask | Activate | Suspend | Notify | RunAction | StartWait | Event


@dataclass
class Plan:
    status: str
    state: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]


# --- the planner ----------------------------------------------------------------------------------


class _Run:
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
        r = self.state["round"]
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

    def open_for(
        self, node: str, assignees: Sequence[int], in_turn: bool = False, **kw: Any
    ) -> list[int]:
        """Open (or queue) tasks, routing each to a delegate when one is away (代理).

        A delegate who already has a task in the node, or is asked here in their own right, is
        passed over (the member keeps the task), so nobody holds two tasks in one node.
        `in_turn` (sequential): the first opens, the others wait in order. Returns who got them.
        """
        taken = {t.assignee for t in self.live(node)} | set(assignees)
        got = []
        for i, member in enumerate(assignees):
            if in_turn:
                kw.update(seq=i, waiting=i > 0)
            delegate = self.ctx.delegate_of(member, self.cmd.now)
            if delegate is not None and delegate not in taken:
                taken.add(delegate)
                self.emit(
                    OpenTask(node, delegate, on_behalf_of=member, round=self.state["round"], **kw)
                )
                got.append(delegate)
            else:
                self.emit(OpenTask(node, member, round=self.state["round"], **kw))
                got.append(member)
        return got

    def notify_open(
        self, node: str, assignees: Sequence[int], event: str = "task_assigned"
    ) -> None:
        if assignees:
            self.emit(Notify(tuple(assignees), event, node))

    # ---- graph traversal
    def enter(self, node_id: str, branch: list[list[str]]) -> None:
        node = self.nodes[node_id]
        kind = node["kind"]
        if kind != "end" and node.get("enabled") is False:
            self.emit(Event("node_skipped", {"node": node_id, "reason": "disabled"}))
            self.enter(node["next"], branch)
            return
        handler = getattr(self, f"enter_{kind}")
        handler(node_id, node, branch)

    def activate_node(self, node_id: str, branch: list[list[str]]) -> None:
        self.state["active"][node_id] = {"round": self.state["round"], "branch": branch}

    def enter_edit(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        self.activate_node(node_id, branch)
        got = self.open_for(node_id, [self.snap.initiator], kind="edit")
        self.notify_open(node_id, got, "returned_to_you")

    def enter_approval(
        self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]
    ) -> None:
        people = list(dict.fromkeys(self.ctx.approvers(node_id, node, self.snap)))
        policy = node.get("self_approval", "skip")
        if self.snap.initiator in people and policy in ("skip", "forbid"):
            people.remove(self.snap.initiator)
            self.emit(Event("self_approval_" + policy, {"node": node_id}))
            if not people and policy == "skip":
                self.emit(Event("node_passed", {"node": node_id, "reason": "self"}))
                self.after_node(node_id, node, branch)
                return
        if not people:
            if node.get("empty", "admin") == "admin" and self.ctx.admins():
                people = list(self.ctx.admins())
                self.emit(Event("no_approver_admin", {"node": node_id}))
            else:
                self.emit(Event("node_passed", {"node": node_id, "reason": "no_approver"}))
                self.after_node(node_id, node, branch)
                return
        self.activate_node(node_id, branch)
        if node.get("mode", "any") == "sequential":
            got = self.open_for(node_id, people, in_turn=True)
            self.notify_open(node_id, got[:1])
        else:
            self.notify_open(node_id, self.open_for(node_id, people))

    def enter_decision(
        self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]
    ) -> None:
        for i, case in enumerate(node.get("cases", ())):
            if self.ctx.condition(case["when"], self.values):
                self.emit(Event("decision", {"node": node_id, "case": i, "next": case["next"]}))
                self.enter(case["next"], branch)
                return
        self.emit(Event("decision", {"node": node_id, "case": "default", "next": node["default"]}))
        self.enter(node["default"], branch)

    def enter_parallel(
        self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]
    ) -> None:
        self.state["arrived"][node["join"]] = []
        for start in node["branches"]:
            self.enter(start, [*branch, [node_id, start]])

    def enter_join(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        split_id, start = branch[-1]
        arrived = self.state["arrived"].setdefault(node_id, [])
        if start not in arrived:
            arrived.append(start)
        if set(arrived) >= set(self.nodes[split_id]["branches"]):
            del self.state["arrived"][node_id]
            self.enter(node["next"], branch[:-1])

    def enter_cc(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        people = list(dict.fromkeys(self.ctx.approvers(node_id, node, self.snap)))
        for member in people:
            self.emit(OpenTask(node_id, member, kind="cc", round=self.state["round"]))
        self.notify_open(node_id, people, "cc")
        self.enter(node["next"], branch)

    def enter_automation(
        self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]
    ) -> None:
        self.emit(RunAction(node["action"], node_id))
        self.enter(node["next"], branch)

    def enter_wait(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        self.activate_node(node_id, branch)
        self.emit(StartWait(node_id, node["after"]))

    def enter_end(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        self.finish(node.get("outcome", APPROVE))

    def after_node(self, node_id: str, node: Mapping[str, Any], branch: list[list[str]]) -> None:
        """A node completed: continue, or jump back to the node that sent the document back."""
        self.state["active"].pop(node_id, None)
        back = self.state.get("return_to")
        if back and back["target"] == node_id:
            del self.state["return_to"]
            self.enter(back["node"], back["branch"])
            return
        self.enter(node["next"], branch)

    def finish(self, outcome: str) -> None:
        for t in list(self.tasks.values()):
            if t.status in LIVE and t.kind != "cc":
                self.close(t, "cancelled")
        self.state["active"] = {}
        self.state["arrived"] = {}
        self.state.pop("return_to", None)
        self.status = outcome
        self.emit(Event(outcome, {}))
        self.emit(Notify((self.snap.initiator,), outcome))

    # ---- votes
    def node_done(self, node_id: str) -> bool | None:
        """True when the node is approved, False when it can no longer be, None while open."""
        node = self.nodes[node_id]
        mine = [t for t in self.node_tasks(node_id) if t.kind == "approval"]
        group = [t for t in mine if t.added_by is None or t.added_how == "escalated"]
        extras = [t for t in mine if t.added_by is not None and t.added_how != "escalated"]
        approved = sum(t.status == APPROVE for t in group)
        live = sum(t.status in LIVE for t in group)
        mode = node.get("mode", "any")
        if mode == "n_of_m":  # n, or everyone asked when fewer (self-approval skipped, ...)
            need = min(int(node.get("n", 1)), sum(t.status not in HANDED_OVER for t in group))
            if approved + live < need:
                return False  # out of reach: the added approvers cannot change that
        if any(t.status in LIVE for t in extras):
            return None
        if mode == "any":
            return True if approved else (None if live else False)
        if mode == "n_of_m":
            return True if approved >= need else None
        return None if live else True  # all / sequential: everyone (still asked) approved

    def complete_if_done(self, node_id: str) -> None:
        done = self.node_done(node_id)
        if done is None:
            return
        if done is False:
            self.finish(REJECT)
            return
        for t in self.live(node_id):
            self.close(t, "cancelled")
        entry = self.state["active"].get(node_id, {})
        self.after_node(node_id, self.nodes[node_id], entry.get("branch", []))

    def next_in_line(self, node_id: str) -> None:
        """Sequential: open the next waiting original approver when nobody is open."""
        if any(t.status == OPEN for t in self.live(node_id)):
            return
        waiting = sorted(
            (t for t in self.live(node_id) if t.status == WAITING and t.added_by is None),
            key=lambda t: t.seq,
        )
        if waiting:
            self.emit(Activate(waiting[0].id))
            self.tasks[waiting[0].id] = replace(waiting[0], status=OPEN)
            self.notify_open(node_id, [waiting[0].assignee])

    # ---- commands
    def do_submit(self) -> None:
        if self.status not in ("draft", "withdrawn", "rejected"):
            raise CommandRefused("already_submitted")
        if self.cmd.actor != self.snap.initiator:
            raise CommandRefused("not_initiator", 403)
        self.status = "running"
        self.state = {"active": {}, "arrived": {}, "round": 1}
        self.tasks = {}
        start = self.spec["start"]
        self.emit(Event("submitted", {}))
        self.enter(self.nodes[start]["next"], [])

    def do_approve(self) -> None:
        self.running()
        t = self.my_open_task()
        self.need_comment(t.node, "approve")
        self.close(t, APPROVE, self.cmd.comment)
        self.emit(
            Event("approve" if t.kind == "approval" else "resubmit", {"node": t.node, "task": t.id})
        )
        if t.kind == "edit":  # resubmitted after a send-back
            entry = self.state["active"].get(t.node, {})
            self.after_node(t.node, self.nodes[t.node], entry.get("branch", []))
            return
        self.release_after(t)
        if t.added_by is not None and t.added_how == "before":
            self.release_before(t)
        if self.nodes[t.node].get("mode") == "any" and t.added_by is None:
            for other in self.live(t.node):
                if other.added_by is None and other.id != t.id:
                    self.close(other, "cancelled")
                    self.drop_added(other)
        if self.nodes[t.node].get("mode") == "sequential":
            self.next_in_line(t.node)
        self.complete_if_done(t.node)

    def drop_added(self, t: TaskSnap) -> None:
        """`t` no longer votes: cancel the live approvers it added (加签), who hang on it."""
        for other in self.live(t.node):
            if other.added_by == t.id:
                self.close(other, "cancelled")
                self.drop_added(other)

    def tied(self, t: TaskSnap) -> bool:
        """Approvers `t` added before or after itself are live: they are linked to this task."""
        return any(
            o.added_by == t.id and o.added_how in ("before", "after") for o in self.live(t.node)
        )

    def release_after(self, t: TaskSnap) -> None:
        for other in self.live(t.node):
            if other.added_by == t.id and other.added_how == "after" and other.status == WAITING:
                self.emit(Activate(other.id))
                self.tasks[other.id] = replace(other, status=OPEN)
                self.notify_open(t.node, [other.assignee])

    def release_before(self, t: TaskSnap) -> None:
        adder = self.tasks.get(t.added_by or -1)
        pending = [
            o for o in self.live(t.node) if o.added_by == t.added_by and o.added_how == "before"
        ]
        if adder is not None and adder.status == WAITING and not pending:
            self.emit(Activate(adder.id))
            self.tasks[adder.id] = replace(adder, status=OPEN)
            self.notify_open(t.node, [adder.assignee])

    def do_reject(self) -> None:
        self.running()
        t = self.my_open_task()
        if t.kind != "approval":
            raise CommandRefused("task_not_open")
        self.need_comment(t.node, "reject")
        self.close(t, REJECT, self.cmd.comment)
        self.emit(Event("reject", {"node": t.node, "task": t.id, "comment": self.cmd.comment}))
        if self.nodes[t.node].get("mode") == "n_of_m" and t.added_by is None:
            self.drop_added(t)
            self.complete_if_done(t.node)  # a "no" vote; rejected only when n is out of reach
            return
        self.finish(REJECT)

    def passed_human_nodes(self) -> list[str]:
        """Human nodes the document has been through, in path order, the start first."""
        seen = [self.spec["start"]]
        for t in sorted(self.tasks.values(), key=lambda t: t.id):
            if t.kind == "approval" and t.status == APPROVE and t.node not in seen:
                seen.append(t.node)
        return seen

    def leads_to(self, source: str, node_id: str) -> bool:
        """Whether `node_id` can be reached from `source` (so `source` is earlier on the path)."""
        seen: set[str] = set()
        todo = [source]
        while todo:
            current = todo.pop()
            if current == node_id:
                return True
            if current in seen or current not in self.nodes:
                continue
            seen.add(current)
            node = self.nodes[current]
            todo += [node[k] for k in ("next", "default", "join") if node.get(k)]
            todo += [case["next"] for case in node.get("cases", ())]
            todo += list(node.get("branches", ()))
        return False

    def do_send_back(self) -> None:
        self.running()
        t = self.my_open_task()
        if t.kind != "approval":
            raise CommandRefused("task_not_open")
        self.need_comment(t.node, "send_back")
        target = self.cmd.target or self.spec["start"]
        if (
            target == t.node
            or target not in self.passed_human_nodes()
            or not self.leads_to(target, t.node)  # passed in an earlier round, but later on
        ):
            raise CommandRefused("bad_send_back_target", 422, target=target)
        self.close(t, "returned", self.cmd.comment)
        for other in list(self.tasks.values()):
            if other.status in LIVE and other.kind != "cc":
                self.close(other, "cancelled")
        branch = self.state["active"].get(t.node, {}).get("branch", [])
        self.state["active"] = {}
        self.state["arrived"] = {}
        self.state["round"] += 1
        if self.cmd.resume == "returning":
            self.state["return_to"] = {"target": target, "node": t.node, "branch": branch}
        else:
            self.state.pop("return_to", None)
        self.emit(
            Event(
                "send_back",
                {
                    "node": t.node,
                    "target": target,
                    "resume": self.cmd.resume,
                    "comment": self.cmd.comment,
                },
            )
        )
        self.enter(target, [] if target == self.spec["start"] else branch)

    def do_withdraw(self) -> None:
        self.running()
        if self.cmd.actor != self.snap.initiator:
            raise CommandRefused("not_initiator", 403)
        acted = [
            t
            for t in self.tasks.values()
            if t.kind == "approval" and t.status in (APPROVE, REJECT, "returned")
        ]
        if acted:
            raise CommandRefused("already_acted")
        for t in list(self.tasks.values()):
            if t.status in LIVE and t.kind != "cc":
                self.close(t, "cancelled")
        self.state = {"active": {}, "arrived": {}, "round": self.state["round"]}
        self.status = "withdrawn"
        self.emit(Event("withdraw", {"comment": self.cmd.comment}))

    def check_newcomers(self, node: str, people: Sequence[int]) -> None:
        if not people:
            raise CommandRefused("no_assignee", 422)
        busy = {t.assignee for t in self.live(node)}
        if busy & set(people):
            raise CommandRefused("already_assigned", 422)

    def handover(self, t: TaskSnap, to: int, outcome: str, behalf: int | None, event: str) -> None:
        if self.tied(t):  # the added tasks point at this task's id: they would never be released
            raise CommandRefused("added_approvers_pending")
        self.check_newcomers(t.node, [to])
        self.close(t, outcome, self.cmd.comment)
        how = "escalated" if outcome == "escalated" and t.added_by is None else t.added_how
        self.emit(
            OpenTask(
                t.node,
                to,
                kind=t.kind,
                seq=t.seq,
                round=t.round,
                waiting=t.status == WAITING,
                on_behalf_of=behalf,
                added_by=t.added_by,
                added_how=how,  # an escalated 加签 task stays one
            )
        )
        self.emit(Event(event, {"node": t.node, "task": t.id, "to": to}))
        self.notify_open(t.node, [to])

    def do_transfer(self) -> None:
        self.running()
        t = self.my_open_task()
        if len(self.cmd.assignees) != 1:
            raise CommandRefused("no_assignee", 422)
        self.handover(t, self.cmd.assignees[0], "transferred", None, "transfer")

    def do_add_approver(self) -> None:
        self.running()
        t = self.my_open_task()
        if t.kind != "approval":
            raise CommandRefused("task_not_open")
        how = self.cmd.position
        if how not in ("before", "after", "parallel"):
            raise CommandRefused("bad_position", 422)
        people = list(dict.fromkeys(self.cmd.assignees))
        self.check_newcomers(t.node, people)
        got = self.open_for(
            t.node, people, seq=t.seq, waiting=how == "after", added_by=t.id, added_how=how
        )
        if how == "before":
            self.emit(Suspend(t.id))
            self.tasks[t.id] = replace(t, status=WAITING)
        if how != "after":
            self.notify_open(t.node, got)
        self.emit(
            Event(
                "add_approver", {"node": t.node, "task": t.id, "position": how, "assignees": people}
            )
        )

    def do_urge(self) -> None:
        self.running()
        if self.cmd.actor != self.snap.initiator and not self.cmd.is_admin:
            raise CommandRefused("not_initiator", 403)
        last = self.state.get("urged_at")
        if last and self.cmd.now - dt.datetime.fromisoformat(last) < dt.timedelta(hours=1):
            raise CommandRefused("urged_recently", 429)
        open_people = tuple(
            t.assignee for t in self.tasks.values() if t.status == OPEN and t.kind != "cc"
        )
        self.state["urged_at"] = self.cmd.now.isoformat()
        self.emit(Notify(open_people, "urge"))
        self.emit(Event("urge", {"to": list(open_people)}))

    def do_comment(self) -> None:
        if not self.cmd.comment.strip():
            raise CommandRefused("comment_required", 422, action="comment")
        self.emit(Event("comment", {"comment": self.cmd.comment}))

    def do_cc(self) -> None:
        people = list(dict.fromkeys(self.cmd.assignees))
        if not people:
            raise CommandRefused("no_assignee", 422)
        node = next(iter(self.state["active"]), self.spec["start"])
        for member in people:
            self.emit(OpenTask(node, member, kind="cc", round=self.state["round"]))
        self.emit(Notify(tuple(people), "cc"))
        self.emit(Event("cc", {"to": people, "comment": self.cmd.comment}))

    # ---- administrators and the system
    def admin_only(self) -> None:
        if not self.cmd.is_admin and self.cmd.actor is not None:
            raise CommandRefused("admin_only", 403)

    def live_task(self) -> TaskSnap:
        t = self.task()
        if t.status not in LIVE or t.kind == "cc":
            raise CommandRefused("task_not_open")
        return t

    def do_reassign(self) -> None:
        self.running()
        self.admin_only()
        if len(self.cmd.assignees) != 1:
            raise CommandRefused("no_assignee", 422)
        self.handover(self.live_task(), self.cmd.assignees[0], "transferred", None, "reassign")

    def do_jump(self) -> None:
        self.running()
        self.admin_only()
        target = self.cmd.target
        if target not in self.nodes or self.nodes[target]["kind"] not in (*HUMAN, "end"):
            raise CommandRefused("bad_jump_target", 422, target=target)
        for t in list(self.tasks.values()):
            if t.status in LIVE and t.kind != "cc":
                self.close(t, "cancelled")
        self.state["active"] = {}
        self.state["arrived"] = {}
        self.state["round"] += 1
        self.emit(Event("jump", {"target": target, "comment": self.cmd.comment}))
        self.enter(target, [])

    def do_cancel(self) -> None:
        self.running()
        self.admin_only()
        for t in list(self.tasks.values()):
            if t.status in LIVE and t.kind != "cc":
                self.close(t, "cancelled")
        self.state["active"] = {}
        self.state["arrived"] = {}
        self.status = "cancelled"
        self.emit(Event("cancel", {"comment": self.cmd.comment}))
        self.emit(Notify((self.snap.initiator,), "cancelled"))

    def do_remind(self) -> None:
        self.running()
        t = self.live_task()
        if t.status == OPEN:
            self.emit(Notify((t.assignee,), "remind", t.node))
            self.emit(Event("remind", {"task": t.id, "node": t.node}))

    def do_escalate(self) -> None:
        """Past the escalation limit the task moves to the assignee's manager, on their behalf."""
        self.running()
        t = self.live_task()
        owner = t.on_behalf_of or t.assignee
        manager = self.ctx.manager_of(t.assignee)
        if manager is None or manager in {x.assignee for x in self.live(t.node)} or self.tied(t):
            self.emit(Notify((t.assignee,), "remind", t.node))
            self.emit(Event("escalate_skipped", {"task": t.id, "node": t.node}))
            return
        self.handover(t, manager, "escalated", owner, "escalate")

    def do_timeout(self) -> None:
        """The node's auto action when its time is up: approve / reject / send back to start."""
        self.running()
        t = self.live_task()
        action = (self.nodes[t.node].get("sla") or {}).get("auto_action")
        if action not in ("approve", "reject", "send_back") or t.status != OPEN:
            return
        self.emit(Event("timeout", {"task": t.id, "node": t.node, "action": action}))
        system = replace(self.cmd, actor=t.assignee, task_id=t.id, comment="auto", target=None)
        self.cmd = system
        {"approve": self.do_approve, "reject": self.do_reject, "send_back": self.do_send_back}[
            action
        ]()

    def do_resume(self) -> None:
        """A wait node's timer fired: continue after it."""
        self.running()
        node_id = self.cmd.target or ""
        entry = self.state["active"].get(node_id)
        if entry is None or self.nodes[node_id]["kind"] != "wait":
            raise CommandRefused("not_waiting")
        self.after_node(node_id, self.nodes[node_id], entry.get("branch", []))


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
