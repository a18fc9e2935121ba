"""The whole draft before publishing: what `definitions.validate` leaves to the editor's checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suite.workflow.admin.overlay.forms import Errors, _duration
from suite.workflow.admin.overlay.nodes import RESOLVER_ARG, check_entry, entries_key, entry_row
from suite.workflow.admin.overlay.params import check_param, param_kind
from suite.workflow.admin.overlay.spec import Choices, pick


def draft_problems(
    spec: Mapping[str, Any], template: Mapping[str, Any], choices: Choices, locale: str
) -> list[str]:
    """What `definitions.validate` does not check: params, SLA times, named roles and people."""
    problems: list[str] = []
    for name, default in (template.get("params") or {}).items():
        value = (spec.get("params") or {}).get(name)
        kind = param_kind(default)
        errors = Errors()
        if kind != "bool" and not (kind == "number" and isinstance(value, int | float)):
            check_param(kind, "" if value is None else value, errors, name)
        problems += [f"{name}: {m}" for ms in errors.values() for m in ms]
    for node_id, node in (spec.get("nodes") or {}).items():
        if node.get("kind") not in ("approval", "cc"):
            continue
        errors = Errors()
        for i, entry in enumerate(node.get(entries_key(str(node.get("kind")))) or ()):
            if isinstance(entry, Mapping) and entry.get("resolver") in RESOLVER_ARG:
                check_entry(entry_row(entry), choices, errors, f"approver-{i}")
        for key in ("remind_after", "escalate_after", "auto_after"):
            _duration(str((node.get("sla") or {}).get(key) or ""), errors, key)
        label = pick(node.get("label"), locale) or node_id
        problems += [f"{label}: {m}" for ms in errors.values() for m in ms]
    return problems
