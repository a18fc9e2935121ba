"""Checklist templates: the draft (sections, items, rules, weights) and published versions."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.auth.models import Membership
from suite.checklists import spec as specs
from suite.checklists.models import (
    ITEM_TYPES,
    ChecklistTemplate,
    ChecklistTemplateVersion,
)
from suite.db import db
from suite.errors import DomainError


def save_template(
    template: ChecklistTemplate | None, *, name: str, description: str = ""
) -> ChecklistTemplate:
    """Create a template (with an empty draft) or rename it."""
    name = name.strip()
    if not name:
        raise DomainError(_("This field is required."), "name")
    if len(name) > 200:
        raise DomainError(_("At most %(n)d characters.", n=200), "name")
    if template is None:
        template = ChecklistTemplate(draft={"sections": [{"title": _("General"), "items": []}]})
        db.session.add(template)
    template.name, template.description = name, description.strip()
    db.session.flush()
    return template


def _draft(template: ChecklistTemplate) -> dict[str, Any]:
    """A copy of the draft to change and assign back (JSON columns track assignment, not edits)."""
    return copy.deepcopy(template.draft or {"sections": []})


def _next_key(template: ChecklistTemplate, draft: dict[str, Any]) -> str:
    """Keys are never reused, not even those of items removed since a version was published, so
    an item's answers mean the same thing across versions."""
    numbers = [int(i["key"][1:]) for i in specs.items(draft) if specs.KEY.match(i.get("key", ""))]
    for spec in db.session.scalars(
        sa.select(ChecklistTemplateVersion.spec).where(
            ChecklistTemplateVersion.template_id == template.id
        )
    ):
        numbers += [int(i["key"][1:]) for i in specs.items(spec) if specs.KEY.match(i["key"])]
    return f"i{max(numbers, default=0) + 1}"


def add_section(template: ChecklistTemplate, title: str) -> None:
    title = title.strip()
    if not title:
        raise DomainError(_("Give the section a title."), "section_title")
    draft = _draft(template)
    draft.setdefault("sections", []).append({"title": title[:200], "items": []})
    template.draft = draft


def rename_section(template: ChecklistTemplate, index: int, title: str) -> None:
    draft = _draft(template)
    if not 0 <= index < len(draft["sections"]):
        raise DomainError(_("This section no longer exists."), f"s{index}.title")
    if not title.strip():
        raise DomainError(_("Give the section a title."), f"s{index}.title")
    draft["sections"][index]["title"] = title.strip()[:200]
    template.draft = draft


def remove_section(template: ChecklistTemplate, index: int) -> None:
    draft = _draft(template)
    if 0 <= index < len(draft["sections"]):
        del draft["sections"][index]
    template.draft = draft


def add_item(template: ChecklistTemplate, section: int, kind: str, label: str = "") -> str:
    """Append an item of `kind` to section `section`; returns its key."""
    if kind not in ITEM_TYPES:
        raise DomainError(_("Not a valid choice."), "type")
    draft = _draft(template)
    if not 0 <= section < len(draft.get("sections", [])):
        raise DomainError(_("Add a section first."), "section")
    key = _next_key(template, draft)
    it: dict[str, Any] = {"key": key, "type": kind, "label": label.strip(), "required": True}
    if specs.can_fail(it):
        it["weight"] = "1"
        it["on_fail"] = dict.fromkeys(specs.RULES, False)
    if kind == "number":
        it |= {"min": "", "max": "", "unit": ""}
    if kind == "select":
        it["options"] = []
    draft["sections"][section]["items"].append(it)
    template.draft = draft
    return key


def update_item(template: ChecklistTemplate, key: str, values: dict[str, Any]) -> None:
    """Change one item's fields; refuses (DomainError on the field) what could not be published."""
    draft = _draft(template)
    it = specs.item(draft, key)
    if it is None:
        raise DomainError(_("This item no longer exists."), "label")
    it["label"] = str(values.get("label", "")).strip()
    it["required"] = bool(values.get("required"))
    if specs.can_fail(it):
        it["weight"] = str(values.get("weight") or "1").strip()
        it["on_fail"] = {rule: bool(values.get(rule)) for rule in specs.RULES}
    if it["type"] == "number":
        for f in ("min", "max", "unit"):
            it[f] = str(values.get(f) or "").strip()
        for f in ("min", "max"):
            number = specs.parse_decimal(it[f])
            if number is not None:
                it[f] = str(number)
    if it["type"] == "select":
        raw = values.get("options") or []
        lines = raw.splitlines() if isinstance(raw, str) else list(raw)
        it["options"] = [str(o).strip() for o in lines if str(o).strip()]
    errors = specs.item_errors(it)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field)
    template.draft = draft


def remove_item(template: ChecklistTemplate, key: str) -> None:
    draft = _draft(template)
    for section in draft.get("sections", []):
        section["items"] = [i for i in section["items"] if i.get("key") != key]
    template.draft = draft


def move_item(template: ChecklistTemplate, key: str, step: int) -> None:
    """Move an item up (-1) or down (+1), across section boundaries at the ends of a section."""
    draft = _draft(template)
    flat = [(s, i) for s, sec in enumerate(draft["sections"]) for i in range(len(sec["items"]))]
    pos = next(
        (n for n, (s, i) in enumerate(flat) if draft["sections"][s]["items"][i]["key"] == key),
        None,
    )
    if pos is None:
        return
    s, i = flat[pos]
    items = draft["sections"][s]["items"]
    j = i + step
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
    elif 0 <= s + step < len(draft["sections"]):
        moved = items.pop(i)
        target = draft["sections"][s + step]["items"]
        target.insert(len(target) if step < 0 else 0, moved)
    template.draft = draft


def publish(template: ChecklistTemplate, member: Membership | None) -> ChecklistTemplateVersion:
    """Freeze the draft as the next numbered version; new runs use it, started runs keep theirs."""
    draft = _draft(template)
    errors = specs.validate(draft)
    if errors:
        raise specs.SpecError(errors)
    template = db.session.scalar(
        sa.select(ChecklistTemplate)
        .where(ChecklistTemplate.id == template.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    last = db.session.scalar(
        sa.select(sa.func.max(ChecklistTemplateVersion.number)).where(
            ChecklistTemplateVersion.template_id == template.id
        )
    )
    version = ChecklistTemplateVersion(
        template_id=template.id,
        number=(last or 0) + 1,
        spec=draft,
        published_by_id=member.id if member else None,
    )
    db.session.add(version)
    db.session.flush()
    template.current_version_id = version.id
    db.session.flush()
    return version
