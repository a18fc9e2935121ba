"""What each node shows: its kind, title, summary (approvers, mode, wait) and box size."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from suite.workflow.drawing.shapes import CARD_W, CARDS, END_H, HEAD_H, PILL_H, PILLS
from suite.workflow.drawing.text import _pick, _t, _width, _wrap, node_label


@dataclass(frozen=True)
class _View:
    kind: str  # a known kind, or "other"
    label: str  # node_label(): label, English label, or id
    title: str  # the text on the node
    summary: str  # the card's body, in full (the <title> has it)
    lines: list[str]  # the summary as drawn: at most two lines
    disabled: bool
    w: float
    h: float


def _view(
    nid: str,
    node: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> _View:
    raw_kind = str(node.get("kind") or "")
    kind = raw_kind if raw_kind in CARDS | PILLS | {"end"} else "other"
    label = node_label(nid, node, locale)
    explicit = _pick(node.get("label"), locale)
    structural = kind in PILLS | {"edit", "end"}
    title = explicit or (_t(f"kind.{kind}", lang) if structural else nid)
    summary = names.get(nid) or _summary(nid, kind, node, spec, locale, lang, names)
    disabled = node.get("enabled") is False
    if disabled:
        summary = f"{_t('disabled', lang)} · {summary}" if summary else _t("disabled", lang)
    lines = _wrap(summary, 12, CARD_W - 20, 2) if kind in CARDS or kind == "other" else []
    if kind in PILLS:
        w, h = min(max(_width(title, 13, bold=True) + 44, 84.0), CARD_W), PILL_H
    elif kind == "end":
        w, h = max(END_H, _width(title, 12) + 22), END_H
    else:
        w, h = CARD_W, HEAD_H + 17 + 15 * max(len(lines), 1)
    return _View(kind, label, title, summary, lines, disabled, w, h)


def _summary(
    nid: str,
    kind: str,
    node: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> str:
    if kind == "edit":
        return _t("kind.edit", lang) if node.get("label") else _t("submits", lang)
    if kind == "approval":
        who = _people(node.get("approvers"), spec, locale, lang, names)
        if not who:
            return _t("no_approvers", lang)
        mode = str(node.get("mode") or "")
        if mode == "n_of_m":
            n, m = node.get("n") or "?", node.get("m")
            mode_text = f"{n}/{m}" if m else _t("n_of", lang, n)
        else:
            mode_text = _t(mode, lang) if mode in ("any", "all", "sequential") else mode
        return f"{who} · {mode_text}" if mode_text else who
    if kind == "cc":
        return _people(node.get("recipients"), spec, locale, lang, names)
    if kind == "automation":
        action = str(node.get("action") or "")
        return names.get(action, action)
    if kind == "wait":
        after = str(node.get("after") or "")
        found = re.fullmatch(r"(\d+)\s*(wd|m|h|d)", after)
        return _t("wait", lang, _t(f"unit.{found[2]}", lang, found[1]) if found else after)
    return ""


def _people(
    entries: object, spec: Mapping[str, Any], locale: str, lang: str, names: Mapping[str, str]
) -> str:
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list | tuple):
        return ""
    texts = [_resolver(e, spec, locale, lang, names) for e in entries if isinstance(e, Mapping)]
    return _t("sep", lang).join(dict.fromkeys(t for t in texts if t))


def _resolver(
    entry: Mapping[str, Any],
    spec: Mapping[str, Any],
    locale: str,
    lang: str,
    names: Mapping[str, str],
) -> str:
    name = str(entry.get("resolver") or "")

    def shown(key: str) -> str:
        value = str(entry.get(key) or "")
        return names.get(value, value)

    if name == "user":
        return shown("user")
    if name == "role":
        return _t("role", lang, shown("role"))
    if name == "department_head":
        dept = shown("department")
        return _t("department_head_of", lang, dept) if dept else _t("department_head", lang)
    if name == "manager":
        try:
            levels = int(entry.get("levels") or 1)
        except (TypeError, ValueError):
            levels = 1
        return _t("manager_levels", lang, levels) if levels > 1 else _t("manager", lang)
    if name == "field":
        fname = str(entry.get("field") or "")
        fdef = (spec.get("fields") or {}).get(fname)
        flabel = _pick(fdef.get("label"), locale) if isinstance(fdef, Mapping) else ""
        return _t("field", lang, names.get(fname) or flabel or fname)
    if name in ("initiator", "initiator_selected"):
        return _t(name, lang)
    return names.get(name, name)
