"""An approval or CC node's section: approver rows, mode, policies and SLA <-> its overlay entry."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from suite.workflow.admin.overlay.forms import MAX_ROWS, Errors, FormData, _duration, to_int
from suite.workflow.admin.overlay.params import param_text
from suite.workflow.admin.overlay.spec import Choices
from suite.workflow.resolvers import RESOLVERS

COMMENT_ACTIONS = ("approve", "reject", "send_back")
MODES = ("any", "all", "sequential", "n_of_m")
SELF_POLICIES = ("skip", "forbid", "allow")
EMPTY_POLICIES = ("admin", "auto_pass")
AUTO_ACTIONS = ("approve", "reject", "send_back")
SLA_KEYS = ("remind_after", "escalate_after", "auto_action", "auto_after")
# The argument each resolver reads from its entry (None: it needs none).
RESOLVER_ARG: dict[str, str | None] = {
    "department_head": "department",
    "manager": "levels",
    "role": "role",
    "user": "user",
    "field": "field",
    "initiator_selected": None,
    "initiator": None,
}
MAX_LEVELS = 5
DEFAULTS: dict[str, Any] = {
    "mode": "any",
    "self_approval": "skip",
    "empty": "admin",
    "comment_required": [],
    "sla": {},
    "enabled": True,
}


def entries_key(kind: str) -> str:
    return "recipients" if kind == "cc" else "approvers"


def node_values(node: Mapping[str, Any]) -> dict[str, Any]:
    """Form values for an approval / CC node of the merged draft."""
    kind = node.get("kind")
    rows = [entry_row(e) for e in node.get(entries_key(str(kind))) or () if isinstance(e, Mapping)]
    sla = node.get("sla") or {}
    return {
        "approvers": [*rows, entry_row({})],
        "mode": node.get("mode", DEFAULTS["mode"]),
        "n": param_text(node.get("n")) if node.get("mode") == "n_of_m" else "",
        "self_approval": node.get("self_approval", DEFAULTS["self_approval"]),
        "empty": node.get("empty", DEFAULTS["empty"]),
        "comment_required": list(node.get("comment_required") or ()),
        **{k: str(sla.get(k) or "") for k in SLA_KEYS},
        "enabled": node.get("enabled", True) is not False,
    }


def entry_row(entry: Mapping[str, Any]) -> dict[str, str]:
    row = dict.fromkeys(("resolver", "role", "user", "department", "field"), "")
    row["levels"] = "1"
    for key in row:
        if entry.get(key) is not None:
            row[key] = str(entry[key])
    return row


def parse_node(
    node_id: str,
    template_node: Mapping[str, Any],
    current: Mapping[str, Any],
    form: FormData,
    choices: Choices,
) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    """(the node's overlay entry, form values, errors) for a posted approval / CC node form."""
    kind = str(template_node.get("kind"))
    errors = Errors()
    rows: list[dict[str, str]] = []
    entries: list[dict[str, Any]] = []
    for i in range(min(to_int(form.get("approver-count")) or 0, MAX_ROWS)):
        row = entry_row({k: form.get(f"approver-{i}-{k}") for k in entry_row({})})
        rows.append(row)
        entry = check_entry(row, choices, errors, f"approver-{i}")
        if entry is not None and entry not in entries:
            entries.append(entry)
    if not any(r["resolver"] == "" for r in rows):
        rows.append(entry_row({}))
    if not entries and not errors:
        errors.add(
            "approvers",
            _("Add at least one recipient.") if kind == "cc" else _("Add at least one approver."),
        )
    settings: dict[str, Any] = {entries_key(kind): entries}
    values: dict[str, Any] = {"approvers": rows}
    if kind == "approval":
        settings |= _approval_settings(form, values, errors)
        named = [e for e in entries if e["resolver"] == "user"]
        n = settings.get("n")
        if named and len(named) == len(entries) and isinstance(n, int) and n > len(named):
            # only named people: n can never be reached (with roles, membership may grow)
            errors.add("n", _("Only %(count)s people are named here.", count=len(named)))
    if template_node.get("optional"):
        values["enabled"] = settings["enabled"] = form.get("enabled") == "y"
    else:
        values["enabled"] = current.get("enabled", True) is not False
    return diff(template_node, settings), values, errors


def _approval_settings(form: FormData, values: dict[str, Any], errors: Errors) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, allowed in (
        ("mode", MODES),
        ("self_approval", SELF_POLICIES),
        ("empty", EMPTY_POLICIES),
    ):
        values[key] = settings[key] = str(form.get(key, ""))
        if settings[key] not in allowed:
            errors.add(key, _("Not a valid choice."))
    values["n"] = str(form.get("n", "")).strip()
    if settings["mode"] == "n_of_m":
        n = to_int(values["n"])
        if n is None or n < 1:
            errors.add("n", _("At least 1 approval is needed."))
        settings["n"] = n
    picked = [a for a in form.getlist("comment_required") if a in COMMENT_ACTIONS]
    values["comment_required"] = settings["comment_required"] = picked
    sla: dict[str, Any] = {}
    for key in ("remind_after", "escalate_after", "auto_after"):
        values[key] = str(form.get(key, "")).strip()
        sla[key] = _duration(values[key], errors, key)
    values["auto_action"] = action = str(form.get("auto_action", ""))
    if action and action not in AUTO_ACTIONS:
        errors.add("auto_action", _("Not a valid choice."))
    sla["auto_action"] = action or None
    if action and not values["auto_after"] and "auto_after" not in errors:
        errors.add("auto_after", _("Say after how long the automatic action runs."))
    settings["sla"] = _plain_sla(sla)
    return settings


def check_entry(
    row: Mapping[str, str], choices: Choices, errors: Errors, key: str
) -> dict[str, Any] | None:
    """One approver row as a resolver entry; None for an empty row or an error."""
    resolver = row.get("resolver", "")
    if not resolver:
        return None
    if resolver not in RESOLVERS or resolver not in RESOLVER_ARG:
        errors.add(key, _("Unknown approver rule %(rule)s.", rule=resolver))
        return None
    arg = RESOLVER_ARG[resolver]
    if arg is None:
        return {"resolver": resolver}
    value = str(row.get(arg) or "").strip()
    if arg == "levels":
        levels = to_int(value)
        if levels is None or not 1 <= levels <= MAX_LEVELS:
            errors.add(key, _("Choose 1 to %(max)s levels.", max=MAX_LEVELS))
            return None
        return {"resolver": resolver, "levels": levels}
    if arg == "department" and not value:
        return {"resolver": resolver}  # the initiator's own department
    known = {
        "role": choices.roles,
        "user": choices.users,
        "department": choices.departments,
        "field": choices.fields,
    }[arg]
    if value not in {v for v, _label in known}:
        message = {
            "role": _("Unknown role %(value)s.", value=value),
            "user": _("Unknown person %(value)s.", value=value),
            "department": _("Unknown department %(value)s.", value=value),
            "field": _("Unknown form field %(value)s.", value=value),
        }[arg]
        errors.add(key, message if value else _("Choose one."))
        return None
    return {"resolver": resolver, arg: value}


def _plain_sla(sla: Mapping[str, Any]) -> dict[str, Any]:
    return {k: sla[k] for k in SLA_KEYS if sla.get(k)}


def _normal(key: str, value: Any) -> Any:
    if key == "sla":
        return _plain_sla(value or {})
    if key == "comment_required":
        return sorted(value or ())
    return value


def diff(template_node: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that differ from the template's node (defaults count as set)."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "n":
            continue
        if _normal(key, value) != _normal(key, template_node.get(key, DEFAULTS.get(key))):
            out[key] = copy.deepcopy(value)
    if settings.get("mode") == "n_of_m" and (
        "mode" in out or settings.get("n") != template_node.get("n")
    ):
        out["n"] = settings.get("n")
    return out
