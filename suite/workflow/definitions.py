"""Templates, workspace overlays and immutable versions (docs/WORKFLOW.md section 2).

A template is the YAML a module ships. A workspace's edits are an overlay merged into it; the
result is validated and stored as a numbered `ProcessVersion`. Running instances keep theirs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from suite.db import db
from suite.workflow.models import ProcessDefinition, ProcessInstance, ProcessVersion

KINDS = {"edit", "approval", "decision", "parallel", "join", "cc", "automation", "wait", "end"}
MODES = {"any", "all", "sequential", "n_of_m"}
SELF_POLICIES = {"skip", "forbid", "allow"}
EMPTY_POLICIES = {"admin", "auto_pass"}
AUTO_ACTIONS = {None, "approve", "reject", "send_back"}
# What an overlay may change on a node (the rest of the graph is the template's).
OVERLAY_NODE_KEYS = {
    "approvers",
    "mode",
    "n",
    "sla",
    "enabled",
    "cases",
    "comment_required",
    "self_approval",
    "empty",
    "label",
    "field_rights",
    "recipients",
}


class DefinitionError(ValueError):
    """A template or overlay that cannot be published; `problems` are readable sentences."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def templates() -> dict[str, dict[str, Any]]:
    return current_app.extensions["suite.registry"].templates


def template_hash(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def merge(template: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """The template with the overlay's params and node settings applied."""
    spec = copy.deepcopy(dict(template))
    params = dict(spec.get("params") or {})
    for key, value in (overlay.get("params") or {}).items():
        params[key] = value
    spec["params"] = params
    for node_id, changes in (overlay.get("nodes") or {}).items():
        node = spec["nodes"].get(node_id)
        if node is None:
            continue  # validate() reports it
        for key, value in changes.items():
            if key in OVERLAY_NODE_KEYS:
                node[key] = copy.deepcopy(value)
    return spec


def successors(node: Mapping[str, Any]) -> list[str]:
    """The steps a node can lead to (send-back edges are commands, not graph edges)."""
    kind = node.get("kind")
    if kind == "decision":
        return [c.get("next") for c in node.get("cases") or ()] + [node.get("default")]
    if kind == "parallel":
        return list(node.get("branches") or ())
    if kind == "end":
        return []
    return [node.get("next")]


def validate(spec: Mapping[str, Any], overlay: Mapping[str, Any] | None = None) -> list[str]:
    """Every reason the spec cannot run, as sentences an admin can act on; [] when valid."""
    from suite.workflow import conditions
    from suite.workflow.resolvers import RESOLVERS

    problems: list[str] = []
    nodes: Mapping[str, Mapping[str, Any]] = spec.get("nodes") or {}
    start = spec.get("start")
    if start not in nodes or nodes[start].get("kind") != "edit":
        problems.append(str(_l("The process must start with the requester's node.")))
        return problems
    for node_id in (overlay or {}).get("nodes") or {}:
        if node_id not in nodes:
            problems.append(str(_l("The settings name an unknown step %(node)s.", node=node_id)))
    params = spec.get("params") or {}
    names = set(spec.get("fields") or {}) | set(params)
    sample = {**conditions.sample_values(spec.get("fields") or {}), **params}
    for node_id, node in nodes.items():
        kind = node.get("kind")
        if kind not in KINDS:
            problems.append(
                str(_l("Step %(node)s has an unknown kind %(kind)s.", node=node_id, kind=kind))
            )
            continue
        for succ in successors(node):
            if succ not in nodes:
                problems.append(
                    str(
                        _l(
                            "Step %(node)s leads to a missing step %(next)s.",
                            node=node_id,
                            next=succ,
                        )
                    )
                )
        if kind == "decision":
            if not node.get("default"):
                problems.append(str(_l("Branch %(node)s needs a default path.", node=node_id)))
            for case in node.get("cases") or ():
                try:
                    cond = conditions.compile_condition(str(case.get("when", "")), names)
                    conditions.evaluate(cond, sample)
                except conditions.ConditionError as exc:
                    problems.append(
                        str(_l("Condition of %(node)s: %(error)s", node=node_id, error=str(exc)))
                    )
        if kind == "approval":
            if node.get("mode", "any") not in MODES:
                problems.append(
                    str(_l("Step %(node)s has an unknown approval mode.", node=node_id))
                )
            if node.get("mode") == "n_of_m" and not (
                isinstance(node.get("n"), int) and node["n"] >= 1
            ):
                problems.append(
                    str(_l("Step %(node)s needs how many approvals (n).", node=node_id))
                )
            if (
                node.get("self_approval", "skip") not in SELF_POLICIES
                or node.get("empty", "admin") not in EMPTY_POLICIES
            ):
                problems.append(str(_l("Step %(node)s has an unknown policy.", node=node_id)))
            if ((node.get("sla") or {}).get("auto_action")) not in AUTO_ACTIONS:
                problems.append(
                    str(_l("Step %(node)s has an unknown automatic action.", node=node_id))
                )
        if kind in ("approval", "cc"):
            entries = node.get("approvers" if kind == "approval" else "recipients") or []
            if not entries:
                problems.append(str(_l("Step %(node)s has nobody to ask.", node=node_id)))
            for entry in entries:
                if entry.get("resolver") not in RESOLVERS:
                    problems.append(
                        str(
                            _l(
                                "Step %(node)s uses an unknown approver rule %(rule)s.",
                                node=node_id,
                                rule=entry.get("resolver"),
                            )
                        )
                    )
        if kind == "parallel" and (
            node.get("join") not in nodes or nodes[node["join"]].get("kind") != "join"
        ):
            problems.append(str(_l("Parallel step %(node)s needs a join step.", node=node_id)))
        if kind == "automation":
            actions = current_app.extensions["suite.registry"].actions
            if node.get("action") not in actions:
                problems.append(
                    str(
                        _l(
                            "Step %(node)s runs an unknown action %(action)s.",
                            node=node_id,
                            action=node.get("action"),
                        )
                    )
                )
        if kind == "wait" and not _duration_ok(node.get("after")):
            problems.append(str(_l("Step %(node)s has an invalid waiting time.", node=node_id)))
        sla = node.get("sla") or {}
        for key in ("remind_after", "escalate_after", "auto_after"):
            if sla.get(key) is not None and not _duration_ok(sla[key]):
                problems.append(str(_l("Step %(node)s has an invalid time limit.", node=node_id)))
        if sla.get("auto_action") and not sla.get("auto_after"):
            problems.append(str(_l("Step %(node)s has an invalid time limit.", node=node_id)))
    if problems:
        return problems
    problems.extend(_graph_problems(nodes, start))
    return problems


def _duration_ok(value: Any) -> bool:
    from suite.workflow.calendar import parse_duration

    try:
        parse_duration(str(value))
    except ValueError:
        return False
    return True


def _graph_problems(nodes: Mapping[str, Mapping[str, Any]], start: str) -> list[str]:
    """Reachable, acyclic, and every path ends (send-back edges are commands, not graph edges)."""
    problems: list[str] = []
    state: dict[str, int] = {}

    def visit(node_id: str) -> bool:
        if state.get(node_id) == 1:
            return False
        if state.get(node_id) == 2:
            return True
        state[node_id] = 1
        ok = all(visit(s) for s in successors(nodes[node_id]))
        state[node_id] = 2
        return ok

    if not visit(start):
        problems.append(str(_l("The process loops back on itself; use send back instead.")))
    unreachable = sorted(set(nodes) - set(state))
    if unreachable:
        problems.append(
            str(_l("Steps that can never be reached: %(nodes)s", nodes=", ".join(unreachable)))
        )
    if not any(n.get("kind") == "end" for n in nodes.values()):
        problems.append(str(_l("The process has no end.")))
    return problems


# --- per workspace --------------------------------------------------------------------------------


def definition_for(key: str) -> ProcessDefinition:
    """The current workspace's definition of a template, installed on first use."""
    definition = db.session.scalar(sa.select(ProcessDefinition).where(ProcessDefinition.key == key))
    if definition is None:
        if key not in templates():
            raise KeyError(key)
        definition = ProcessDefinition(key=key, draft={})
        db.session.add(definition)
        db.session.flush()
        publish(definition, {}, by=None)
    return definition


def publish(
    definition: ProcessDefinition, overlay: Mapping[str, Any], by: int | None
) -> ProcessVersion:
    """Validate the overlay on the template and store it as the next immutable version."""
    template = templates()[definition.key]
    spec = merge(template, overlay)
    problems = validate(spec, overlay)
    if problems:
        raise DefinitionError(problems)
    last = (
        db.session.scalar(
            sa.select(sa.func.max(ProcessVersion.number)).where(
                ProcessVersion.definition_id == definition.id
            )
        )
        or 0
    )
    version = ProcessVersion(
        definition_id=definition.id,
        number=last + 1,
        overlay=dict(overlay),
        spec=spec,
        template_hash=template_hash(template),
        published_by_id=by,
    )
    db.session.add(version)
    db.session.flush()
    definition.current_version_id = version.id
    definition.draft = dict(overlay)
    db.session.flush()
    return version


def instances_per_version(definition: ProcessDefinition) -> dict[int, int]:
    """Running instances per version number (to show how many stay on older versions)."""
    rows = db.session.execute(
        sa.select(ProcessVersion.number, sa.func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
        .where(ProcessVersion.definition_id == definition.id, ProcessInstance.status == "running")
        .group_by(ProcessVersion.number)
    ).all()
    return dict(rows)
