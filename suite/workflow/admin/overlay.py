"""The process editor's sections: a draft overlay <-> form values, checked field by field.

Each section (the params, one approval / CC node, one decision) turns posted form values into the
overlay entries that differ from the template, or into messages keyed by form field. No request,
no templates: the views pass a `MultiDict` and the workspace's `Choices`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.auth.models import Department, Membership, Role, User
from suite.db import db
from suite.workflow import conditions
from suite.workflow.calendar import parse_duration
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
MAX_ROWS = 30  # approver or condition rows one form may send
EDITABLE_KINDS = ("approval", "cc", "decision")
DEFAULTS: dict[str, Any] = {
    "mode": "any",
    "self_approval": "skip",
    "empty": "admin",
    "comment_required": [],
    "sla": {},
    "enabled": True,
}


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


@dataclasses.dataclass(frozen=True)
class Choices:
    """What approver entries may name in this workspace: (value, label) pairs."""

    roles: list[tuple[str, str]]
    users: list[tuple[str, str]]
    departments: list[tuple[str, str]]
    fields: list[tuple[str, str]]

    def labels(self, node_ids: Collection[str]) -> dict[str, str]:
        """Role codes, logins and fields to display names, for the drawing's summaries.

        `render_flow` reads a node id in the same mapping as that node's whole summary, so a
        login that is also a node id (`finance`) is left out.
        """
        names = dict((*self.roles, *self.users, *self.fields))
        return {k: v for k, v in names.items() if k not in node_ids}


def workspace_choices(spec: Mapping[str, Any], locale: str) -> Choices:
    from suite.templating import role_label

    roles = db.session.scalars(sa.select(Role).order_by(Role.builtin.desc(), Role.code))
    users = db.session.execute(
        sa.select(User.login, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name)
    ).all()
    departments = db.session.scalars(sa.select(Department.name).order_by(Department.name))
    return Choices(
        roles=[(r.code, str(role_label(r))) for r in roles],
        users=[(u.login, u.display_name) for u in users],
        departments=[(d, d) for d in dict.fromkeys(departments)],
        fields=[(n, pick(f.get("label"), locale) or n) for n, f in field_specs(spec).items()],
    )


def pick(label: object, locale: str) -> str:
    """A `{en: ..., zh_CN: ...}` label in `locale`, else English, else a plain string."""
    if isinstance(label, Mapping):
        return str(label.get(locale) or label.get("en") or "")
    return str(label or "")


def field_specs(spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(k): (v or {}) for k, v in (spec.get("fields") or {}).items()}


def successors(node: Mapping[str, Any]) -> list[str]:
    kind = node.get("kind")
    if kind == "decision":
        return [c.get("next") for c in node.get("cases") or ()] + [node.get("default")]
    if kind == "parallel":
        return list(node.get("branches") or ())
    return [] if kind == "end" else [node.get("next")]


def editable_nodes(spec: Mapping[str, Any]) -> list[str]:
    """Approval, CC and decision nodes in flow order: each after every step leading to it, a
    decision's branches in case order (a topological order from a depth-first walk)."""
    nodes = spec.get("nodes") or {}
    seen: set[str] = set()
    finished: list[str] = []

    def visit(node_id: Any) -> None:
        if node_id not in nodes or node_id in seen:
            return
        seen.add(node_id)
        for succ in reversed(successors(nodes[node_id])):
            visit(succ)
        finished.append(node_id)

    visit(spec.get("start"))
    order = finished[::-1] + [n for n in nodes if n not in seen]
    return [n for n in order if nodes[n].get("kind") in EDITABLE_KINDS]


def arrivals(spec: Mapping[str, Any], node_id: str, locale: str) -> list[str]:
    """Where a document comes from into `node_id`: "Amount check, case 2", "Department head"."""
    out = []
    for pred_id, pred in (spec.get("nodes") or {}).items():
        label = pick(pred.get("label"), locale) or pred_id
        if pred.get("kind") == "decision":
            for i, case in enumerate(pred.get("cases") or ()):
                if case.get("next") == node_id:
                    out.append(_("%(step)s, case %(n)s", step=label, n=i + 1))
            if pred.get("default") == node_id:
                out.append(_("%(step)s, otherwise", step=label))
        elif node_id in successors(pred):
            out.append(label)
    return out


class Errors(dict[str, list[str]]):
    def add(self, key: str, message: str) -> None:
        self.setdefault(key, []).append(message)


# --- params ---------------------------------------------------------------------------------------


def param_kind(value: object) -> str:
    """How a template param is edited: bool, number (decimal text), duration or text."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError:
            return "text"
        return "duration"
    return "text"


def param_text(value: object) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else str(value)


def to_number(text: str) -> int | float | None:
    raw = text.replace(",", "").replace("，", "").replace("¥", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > conditions.MAX_NUMBER_CONSTANT:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def parse_params(
    template: Mapping[str, Any], form: FormData
) -> tuple[dict[str, Any], dict[str, Any], Errors]:
    """(params overlay: those differing from the template, form values, errors)."""
    overlay: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors = Errors()
    for name, default in (template.get("params") or {}).items():
        kind = param_kind(default)
        key = f"param-{name}"
        if kind == "bool":
            value: Any = form.get(key) == "y"
            values[name] = value
        else:
            text = str(form.get(key, "")).strip()
            values[name] = text
            value = check_param(kind, text, errors, key)
        if key not in errors and value != default:
            overlay[name] = value
    return overlay, values, errors


def check_param(kind: str, value: object, errors: Errors, key: str) -> Any:
    text = str(value).strip()
    if kind == "number":
        number = to_number(text)
        if number is None:
            errors.add(key, _("Enter a number, e.g. 5000 or 4999.50."))
        return number
    if kind == "duration":
        return _duration(text, errors, key, required=True)
    if kind == "text" and len(text) > 200:
        errors.add(key, _("At most 200 characters."))
    return text


def _duration(text: str, errors: Errors, key: str, required: bool = False) -> str | None:
    if not text:
        if required:
            errors.add(key, _("Enter a duration."))
        return None
    try:
        parse_duration(text)
    except ValueError:
        errors.add(key, _("Write a duration like 30m, 24h, 2d or 2wd (working days)."))
        return None
    return text.lower().replace(" ", "")


# --- approval and CC nodes ------------------------------------------------------------------------


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


def to_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


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


# --- decisions ------------------------------------------------------------------------------------


def case_values(
    template_node: Mapping[str, Any], node: Mapping[str, Any], spec: Mapping[str, Any], locale: str
) -> list[dict[str, Any]]:
    """One entry per template case: its target, and the condition as rows or as text."""
    fields = field_specs(spec)
    current = list(node.get("cases") or ())
    out = []
    for i, case in enumerate(template_node.get("cases") or ()):
        when = str((current[i] if i < len(current) else case).get("when", ""))
        rows = conditions.expression_to_rows(when, fields)
        out.append(
            {
                "next": case.get("next"),
                "as": "rows" if rows else "text",
                "when": when,
                "rows": [*(rows or []), blank_row()],
            }
        )
    return out


def blank_row() -> dict[str, str]:
    return {"join": "and", "field": "", "op": "==", "value": ""}


def parse_cases(
    template_node: Mapping[str, Any], spec: Mapping[str, Any], form: FormData
) -> tuple[dict[str, Any], list[dict[str, Any]], Errors]:
    """(the decision's overlay entry, case form values, errors) for a posted decision form."""
    fields = field_specs(spec)
    names = set(fields) | set(spec.get("params") or {})
    sample = {**conditions.sample_values(fields), **(spec.get("params") or {})}
    errors = Errors()
    cases: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    for i, case in enumerate(template_node.get("cases") or ()):
        key = f"case-{i}"
        mode = "rows" if form.get(f"{key}-as") == "rows" else "text"
        rows = []
        for j in range(min(to_int(form.get(f"{key}-rows")) or 0, MAX_ROWS)):
            row = {k: str(form.get(f"{key}-row-{j}-{k}", "")).strip() for k in blank_row()}
            if row["field"]:
                rows.append(row)
        when = str(form.get(f"{key}-when", "")).strip()
        try:
            if mode == "rows":
                if not rows:
                    raise conditions.ConditionError(_("Add at least one condition row."))
                when = conditions.rows_to_expression(rows, fields)
            conditions.evaluate(conditions.compile_condition(when, names), sample)
        except conditions.ConditionError as exc:
            errors.add(key, str(exc))
        values.append(
            {"next": case.get("next"), "as": mode, "when": when, "rows": [*rows, blank_row()]}
        )
        cases.append({"when": when, "next": case.get("next")})
    template_cases = [
        {"when": str(c.get("when", "")), "next": c.get("next")}
        for c in template_node.get("cases") or ()
    ]
    return ({} if cases == template_cases else {"cases": cases}), values, errors


# --- the whole draft (before publishing) ----------------------------------------------------------


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
