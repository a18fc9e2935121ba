"""Votes: when a node is done, who is next in line, and the approvers added (加签)."""

from __future__ import annotations

from dataclasses import replace

from suite.workflow.models import LIVE, OPEN, WAITING
from suite.workflow.planner.model import APPROVE, HANDED_OVER, REJECT, Activate, TaskSnap


class VotesMixin:
    """Part of `_Run`: counting a node's votes and releasing the tasks that wait on others."""

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
