"""The commands people give: submit, approve, reject, send back, withdraw, transfer, ..."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from suite.workflow.models import LIVE, OPEN, WAITING
from suite.workflow.planner.model import (
    APPROVE,
    REJECT,
    CommandRefused,
    Event,
    Notify,
    OpenTask,
    Suspend,
    TaskSnap,
)


class UserCommands:
    """Part of `_Run`: the `do_*` commands of initiators and approvers."""

    def do_submit(self) -> None:
        if self.status not in ("draft", "withdrawn", "rejected"):
            raise CommandRefused("already_submitted")
        if self.cmd.actor != self.snap.initiator:
            raise CommandRefused("not_initiator", 403)
        self.status = "running"
        # a new round, so votes of an earlier submission of this instance never count again
        last = max((t.round for t in self.tasks.values()), default=0)
        self.state = {"active": {}, "arrived": {}, "round": last + 1}
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

    def send_back_scope(
        self, target: str, node: str, branch: list[list[str]]
    ) -> tuple[list[list[str]], str, list[list[str]]]:
        """What a send-back from `node` (inside `branch`) to `target` resets, and where a
        "returning" resubmission resumes.

        Target in the sender's own branch: only that branch runs again; the other branches of
        the split keep their tasks and votes. Target before a split the sender is in: that whole
        split runs again, and a returning resubmission resumes at the split, not at the sender
        (its sibling branches were reset too).
        """
        target_path = self.branch_of(target)
        common = 0
        while common < min(len(branch), len(target_path)) and branch[common] == target_path[common]:
            common += 1
        if common == len(branch):
            return branch, node, branch
        return branch[:common], branch[common][0], branch[:common]

    def reset_scope(self, scope: list[list[str]]) -> None:
        """Cancel live tasks and forget active nodes and pending joins inside `scope`."""
        n = len(scope)
        for other in list(self.tasks.values()):
            if (
                other.status in LIVE
                and other.kind != "cc"
                and self.branch_of(other.node)[:n] == scope
            ):
                self.close(other, "cancelled")
        self.state["active"] = {
            k: v for k, v in self.state["active"].items() if v.get("branch", [])[:n] != scope
        }
        for split_id, node in self.nodes.items():
            if node["kind"] == "parallel" and self.branch_of(split_id)[:n] == scope:
                self.state["arrived"].pop(node["join"], None)

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
        branch = self.state["active"].get(t.node, {}).get("branch", [])
        scope, resume_node, resume_branch = self.send_back_scope(target, t.node, branch)
        self.reset_scope(scope)
        # splits the target lies in had joined already: their other branches stay done
        for split_id, start in self.branch_of(target)[len(resume_branch) :]:
            split = self.nodes[split_id]
            self.state["arrived"][split["join"]] = [b for b in split["branches"] if b != start]
        self.state["round"] += 1
        if self.cmd.resume == "returning":
            self.state["return_to"] = {
                "target": target,
                "node": resume_node,
                "branch": resume_branch,
            }
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
        self.enter(target, self.branch_of(target))

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
