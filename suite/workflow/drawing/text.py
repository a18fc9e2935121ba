"""The drawing's words: display names per locale (`TEXT`), labels, and text fitted to a width.

Widths are estimated per character (CJK a full em, narrow Latin letters less): the SVG is laid out
here, before any browser measures it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from suite.i18n import localized as _pick

TEXT: dict[str, dict[str, str]] = {
    "any": {"zh_CN": "或签", "en": "any one"},
    "all": {"zh_CN": "会签", "en": "all"},
    "sequential": {"zh_CN": "依次", "en": "in turn"},
    "n_of": {"zh_CN": "{0} 人同意", "en": "{0} must approve"},
    "initiator": {"zh_CN": "发起人", "en": "Initiator"},
    "initiator_selected": {"zh_CN": "发起人自选", "en": "Chosen by initiator"},
    "department_head": {"zh_CN": "部门负责人", "en": "Department head"},
    "department_head_of": {"zh_CN": "{0}负责人", "en": "Head of {0}"},
    "manager": {"zh_CN": "直属主管", "en": "Manager"},
    "manager_levels": {"zh_CN": "逐级 {0} 级", "en": "Managers, {0} levels"},
    "role": {"zh_CN": "角色：{0}", "en": "Role: {0}"},
    "field": {"zh_CN": "表单字段：{0}", "en": "Form field: {0}"},
    "no_approvers": {"zh_CN": "未设置审批人", "en": "No approvers set"},
    "wait": {"zh_CN": "等待 {0}", "en": "Wait {0}"},
    "submits": {"zh_CN": "提交申请", "en": "Submits the request"},
    "default_edge": {"zh_CN": "其他", "en": "Default"},
    "disabled": {"zh_CN": "已停用", "en": "Disabled"},
    "current": {"zh_CN": "当前", "en": "current"},
    "done": {"zh_CN": "已完成", "en": "done"},
    "flow": {"zh_CN": "流程图", "en": "Process flow"},
    "kind.edit": {"zh_CN": "发起人", "en": "Initiator"},
    "kind.approval": {"zh_CN": "审批人", "en": "Approver"},
    "kind.cc": {"zh_CN": "抄送人", "en": "CC"},
    "kind.automation": {"zh_CN": "自动操作", "en": "Automation"},
    "kind.wait": {"zh_CN": "等待", "en": "Wait"},
    "kind.decision": {"zh_CN": "条件分支", "en": "Condition"},
    "kind.parallel": {"zh_CN": "并行分支", "en": "Parallel"},
    "kind.join": {"zh_CN": "汇合", "en": "Join"},
    "kind.end": {"zh_CN": "结束", "en": "End"},
    "kind.other": {"zh_CN": "节点", "en": "Step"},
    "unit.m": {"zh_CN": "{0} 分钟", "en": "{0} min"},
    "unit.h": {"zh_CN": "{0} 小时", "en": "{0} h"},
    "unit.d": {"zh_CN": "{0} 天", "en": "{0} days"},
    "unit.wd": {"zh_CN": "{0} 个工作日", "en": "{0} working days"},
    "sep": {"zh_CN": "、", "en": ", "},
}


def _t(key: str, lang: str, *args: object) -> str:
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(*args) if args else text


def node_label(node_id: str, node: Mapping[str, Any], locale: str) -> str:
    """A node's label in `locale`, else in English, else its id."""
    return _pick(node.get("label"), locale) or node_id


def _char_em(ch: str) -> float:
    o = ord(ch)
    if o >= 0x2E80:
        return 1.0
    if ch in " il.,:;'|!()[]·`":
        return 0.3
    if ch.isupper() or ch in "mw@%&_=<>+~":
        return 0.72
    return 0.58


def _width(text: str, size: float, bold: bool = False) -> float:
    return sum(_char_em(ch) for ch in text) * size * (1.12 if bold else 1.0)


def _fit_count(text: str, size: float, max_w: float) -> int:
    total = 0.0
    for i, ch in enumerate(text):
        total += _char_em(ch) * size
        if total > max_w:
            return max(i, 1)
    return len(text)


def _fit(text: str, size: float, max_w: float, bold: bool = False) -> str:
    """`text` on one line of `max_w`, cut with an ellipsis when longer."""
    if bold:
        size *= 1.12
    if _width(text, size) <= max_w + 0.5:
        return text
    return text[: _fit_count(text, size, max_w - size)].rstrip() + "…"


def _wrap(text: str, size: float, max_w: float, max_lines: int) -> list[str]:
    """Greedy lines: whole " · " segments where they fit, else CJK characters and ASCII words."""
    lines: list[str] = []
    cur = ""
    for seg in " ".join(text.split()).split(" · "):
        joined = f"{cur} · {seg}" if cur else seg
        if _width(joined, size) <= max_w:
            cur = joined
            continue
        if cur:
            lines.append(cur)
            cur = ""
        for token in re.findall(r"[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+|\s+", seg):
            if cur and _width((cur + token).rstrip(), size) > max_w:
                lines.append(cur.rstrip())
                cur = token.lstrip()
            else:
                cur += token
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(last + "…", size) > max_w:
            last = last[:-1]
        lines[max_lines - 1] = last.rstrip() + "…"
    return [_fit(line, size, max_w) for line in lines[:max_lines]]
