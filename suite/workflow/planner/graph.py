"""Graph traversal: entering each kind of node, opening tasks, continuing and finishing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from suite.workflow.models import LIVE
from suite.workflow.planner.model import (
    APPROVE,
    Event,
    Notify,
    OpenTask,
    RunAction,
    StartWait,
)


def branch_paths(nodes: Mapping[str, Mapping[str, Any]], start: str) -> dict[str, list[list[str]]]:
    """For every node, the parallel branches it lies in: `[[split, branch start], ...]`,
    outermost first (a join belongs to the level outside its split)."""
    paths: dict[str, list[list[str]]] = {}
    todo: list[tuple[str, list[list[str]]]] = [(start, [])]
    while todo:
        node_id, path = todo.pop()
        if node_id in paths or node_id not in nodes:
            continue
        node = nodes[node_id]
        kind = node["kind"]
        if kind == "join":
            path = path[:-1]
            if node_id in paths:
                continue
        paths[node_id] = path
        if kind == "parallel":
            todo += [(b, [*path, [node_id, b]]) for b in node["branches"]]
        elif kind == "decision":
            todo += [(c["next"], path) for c in node.get("cases", ())]
            todo.append((node["default"], path))
        elif kind != "end":
            todo.append((node["next"], path))
    return paths


class GraphMixin:
    """Part of `_Run`: walks the compiled spec from node to node."""

    def branch_of(self, node_id: str) -> list[list[str]]:
        if not hasattr(self, "_paths"):
            self._paths = branch_paths(self.nodes, self.spec["start"])
        return self._paths.get(node_id, [])

    def node_round(self, node_id: str) -> int:
        """The round a node's tasks belong to: the one it was activated in (a branch that a
        send-back elsewhere did not touch keeps its round)."""
        return self.state["active"].get(node_id, {}).get("round", self.state["round"])

    def open_for(
        self, node: str, assignees: Sequence[int], in_turn: bool = False, **kw: Any
    ) -> list[int]:
        """Open (or queue) tasks, routing each to a delegate when one is away (代理).

        A delegate who already has a task in the node, or is asked here in their own right, is
        passed over (the member keeps the task), so nobody holds two tasks in one node.
        `in_turn` (sequential): the first opens, the others wait in order. Returns who got them.
        """
        taken = {t.assignee for t in self.live(node)} | set(assignees)
        spec = self.nodes.get(node, {})
        if spec.get("kind") == "approval" and spec.get("self_approval", "skip") != "allow":
            taken.add(self.snap.initiator)  # never the initiator's own request, as a delegate
        got = []
        for i, member in enumerate(assignees):
            if in_turn:
                kw.update(seq=i, waiting=i > 0)
            delegate = self.ctx.delegate_of(member, self.cmd.now)
            if delegate is not None and delegate not in taken:
                taken.add(delegate)
                self.emit(
                    OpenTask(node, delegate, on_behalf_of=member, round=self.node_round(node), **kw)
                )
                got.append(delegate)
            else:
                self.emit(OpenTask(node, member, round=self.node_round(node), **kw))
                got.append(member)
        return got

    def notify_open(
        self, node: str, assignees: Sequence[int], event: str = "task_assigned"
    ) -> None:
        if assignees:
            self.emit(Notify(tuple(assignees), event, node))

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
            admins = list(self.ctx.admins())
            if policy != "allow" and len(admins) > 1 and self.snap.initiator in admins:
                admins.remove(self.snap.initiator)  # another admin decides an admin's request
            if node.get("empty", "admin") == "admin" and admins:
                people = admins
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
