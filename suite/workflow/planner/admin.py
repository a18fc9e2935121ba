"""Commands of administrators and the system (timers): reassign, jump, cancel, timeouts, ..."""

from __future__ import annotations

from dataclasses import replace

from suite.workflow.models import LIVE, OPEN
from suite.workflow.planner.model import HUMAN, CommandRefused, Event, Notify, TaskSnap


class SystemCommands:
    """Part of `_Run`: the `do_*` commands of administrators and of the system."""

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
