"""Checklist services: templates and their versions, checkpoints and tokens, runs and answers.

No `request`, no templates: views and the API call these, tests call them directly. Refusals are
`DomainError`s with the field (or item key) they belong to; a refused submission raises
`SubmitRefused` naming every item that blocks it.
"""

from __future__ import annotations

import copy
import io
import re
import secrets
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from suite import files
from suite.auth.models import Membership
from suite.checklists import spec as specs
from suite.checklists.models import (
    DRAFT,
    ITEM_TYPES,
    SUBMITTED,
    ChecklistAnswer,
    ChecklistRun,
    ChecklistTemplate,
    ChecklistTemplateVersion,
    Checkpoint,
    CheckpointToken,
)
from suite.checklists.signals import run_submitted
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError

RUN_PREFIX = "INS"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class SubmitRefused(DomainError):  # noqa: N818 - a refusal, like DomainError
    """A run that cannot be submitted yet: `items` maps item keys to what is missing."""

    def __init__(self, items: dict[str, str]) -> None:
        super().__init__(_("Some items need attention before you can submit."), "items")
        self.items = items


# --- templates -----------------------------------------------------------------------------------


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


# --- checkpoints ---------------------------------------------------------------------------------


def new_token() -> str:
    """32 URL-safe characters (192 random bits): unguessable, short enough for a dense QR code."""
    return secrets.token_urlsafe(24)


def save_checkpoint(
    point: Checkpoint | None,
    *,
    name: str,
    code: str,
    site: str = "",
    area: str = "",
    template_id: int | None,
    owner_id: int | None,
    anonymous_reports: bool = False,
    module: str = "inspections",
) -> Checkpoint:
    """Create a checkpoint (with its first token) or change one; the token stays."""
    name, code = name.strip(), code.strip().upper()
    if not name:
        raise DomainError(_("This field is required."), "name")
    if not CODE.match(code):
        raise DomainError(_("1-20 letters, digits, - or _."), "code")
    clash = sa.select(Checkpoint.id).where(Checkpoint.code == code)
    if point is not None:
        clash = clash.where(Checkpoint.id != point.id)
    if db.session.scalar(clash) is not None:
        raise DomainError(_("Another checkpoint has this code."), "code")
    if (
        template_id is not None
        and db.session.scalar(
            sa.select(ChecklistTemplate.id).where(ChecklistTemplate.id == template_id)
        )
        is None
    ):
        raise DomainError(_("Not a valid choice."), "template_id")
    if (
        owner_id is not None
        and db.session.scalar(
            sa.select(Membership.id).where(Membership.id == owner_id, Membership.active.is_(True))
        )
        is None
    ):
        raise DomainError(_("Not a valid choice."), "owner_id")
    if point is None:
        point = Checkpoint(token=new_token(), module=module)
        db.session.add(point)
    point.name, point.code, point.site, point.area = name[:200], code, site.strip(), area.strip()
    point.template_id, point.owner_id = template_id, owner_id
    point.anonymous_reports = bool(anonymous_reports)
    db.session.flush()
    if not db.session.scalar(
        sa.select(CheckpointToken.id).where(CheckpointToken.token == point.token)
    ):
        db.session.add(CheckpointToken(checkpoint_id=point.id, token=point.token))
        db.session.flush()
    return point


def revoke_token(point: Checkpoint) -> str:
    """Give the checkpoint a new token; the old label then says it is no longer valid."""
    now = utcnow()
    for row in db.session.scalars(
        sa.select(CheckpointToken).where(
            CheckpointToken.checkpoint_id == point.id, CheckpointToken.revoked_at.is_(None)
        )
    ):
        row.revoked_at = now
    point.token = new_token()
    db.session.add(CheckpointToken(checkpoint_id=point.id, token=point.token))
    db.session.flush()
    return point.token


def find_token(token: str) -> CheckpointToken | None:
    """The token row in the current scope (callers look up in SYSTEM scope before login)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(CheckpointToken).where(CheckpointToken.token == token))


# --- runs ----------------------------------------------------------------------------------------


def open_run(point: Checkpoint, inspector: Membership) -> ChecklistRun:
    """The inspector's open draft at this checkpoint, or a new one on the current version."""
    run = db.session.scalar(
        sa.select(ChecklistRun)
        .where(
            ChecklistRun.checkpoint_id == point.id,
            ChecklistRun.inspector_id == inspector.id,
            ChecklistRun.status == DRAFT,
        )
        .order_by(ChecklistRun.id.desc())
        .limit(1)
    )
    if run is not None:
        return run
    template = db.session.get(ChecklistTemplate, point.template_id) if point.template_id else None
    if template is None or template.current_version_id is None or not point.active:
        raise DomainError(_("No published checklist is assigned to this checkpoint."))
    run = ChecklistRun(
        checkpoint_id=point.id, version_id=template.current_version_id, inspector_id=inspector.id
    )
    db.session.add(run)
    db.session.flush()
    return run


def answers_of(run: ChecklistRun) -> dict[str, ChecklistAnswer]:
    rows = db.session.scalars(sa.select(ChecklistAnswer).where(ChecklistAnswer.run_id == run.id))
    return {a.item_key: a for a in rows}


def _answer(run: ChecklistRun, key: str) -> tuple[dict[str, Any], ChecklistAnswer]:
    if run.status != DRAFT:
        raise DomainError(_("This checklist has been submitted already."), key)
    it = specs.item(run.version.spec, key)
    if it is None:
        raise DomainError(_("This item no longer exists."), key)
    answer = db.session.scalar(
        sa.select(ChecklistAnswer).where(
            ChecklistAnswer.run_id == run.id, ChecklistAnswer.item_key == key
        )
    )
    if answer is None:
        answer = ChecklistAnswer(run_id=run.id, item_key=key, photo_ids=[])
        db.session.add(answer)
    return it, answer


RESULTS = {"pass_fail": ("pass", "fail", "na"), "yes_no": ("yes", "no", "na")}


def save_answer(
    run: ChecklistRun,
    key: str,
    *,
    result: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> ChecklistAnswer:
    """Save what was entered for one item (only the parts given); numbers out of range are
    kept and marked, since a wrong reading is evidence."""
    it, answer = _answer(run, key)
    kind = it["type"]
    if result is not None and kind in RESULTS:
        if result not in RESULTS[kind]:
            raise DomainError(_("Not a valid choice."), key)
        answer.result = result
    if value is not None and kind == "number":
        if not value.strip():
            answer.number, answer.out_of_range, answer.result = None, False, None
        else:
            number = specs.parse_decimal(value)
            if number is None:
                raise DomainError(_("Not a valid number."), key)
            low = specs.parse_decimal(it.get("min"))
            high = specs.parse_decimal(it.get("max"))
            answer.number = number
            answer.out_of_range = (low is not None and number < low) or (
                high is not None and number > high
            )
            answer.result = "fail" if answer.out_of_range else "pass"
    elif value is not None and kind in ("text", "select", "date"):
        value = value.strip()
        if kind == "text" and len(value) > 5000:
            raise DomainError(_("At most %(n)d characters.", n=5000), key)
        if kind == "select" and value and value not in it.get("options", []):
            raise DomainError(_("Not a valid choice."), key)
        if kind == "date" and value and not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise DomainError(_("Not a valid date."), key)
        answer.value = value
    if note is not None:
        if len(note) > 5000:
            raise DomainError(_("At most %(n)d characters.", n=5000), key)
        answer.note = note.strip()
    answer.answered_at = utcnow()
    db.session.flush()
    return answer


def check_image(data: bytes) -> str:
    """The content type of a real image within the size limit, else DomainError."""
    limit = current_app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(
            _("The photo is too large (at most %(mb)s MB).", mb=limit // (1024 * 1024))
        )
    if not data:
        raise DomainError(_("Choose a photo."))
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format
            img.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many types for garbage
        kind = None
    if kind not in IMAGE_TYPES:
        raise DomainError(_("This file is not a photo (JPEG, PNG, WebP or GIF)."))
    return IMAGE_TYPES[kind]


def add_photo(
    run: ChecklistRun, key: str, data: bytes, *, name: str, member: Membership
) -> ChecklistAnswer:
    """Attach a photo (or a signature image) to an item; refuses oversized and non-image files."""
    it, answer = _answer(run, key)
    try:
        content_type = check_image(data)
    except DomainError as exc:
        raise DomainError(exc.message, key) from None
    if len(answer.photo_ids or []) >= 10:
        raise DomainError(_("At most 10 photos per item."), key)
    row = files.store(
        data, name=name or "photo", content_type=content_type, created_by_id=member.id
    )
    answer.photo_ids = [*(answer.photo_ids or []), row.id]
    answer.answered_at = utcnow()
    db.session.flush()
    return answer


def remove_photo(run: ChecklistRun, key: str, stored_file_id: int) -> ChecklistAnswer:
    _it, answer = _answer(run, key)
    answer.photo_ids = [i for i in answer.photo_ids or [] if i != stored_file_id]
    db.session.flush()
    return answer


def is_answered(it: dict[str, Any], answer: ChecklistAnswer | None) -> bool:
    if answer is None:
        return False
    kind = it["type"]
    if kind in RESULTS:
        return answer.result is not None
    if kind == "number":
        return answer.number is not None
    if kind in specs.UPLOADS:
        return bool(answer.photo_ids)
    return bool(answer.value)


def is_failed(it: dict[str, Any], answer: ChecklistAnswer | None) -> bool:
    """Fail on pass/fail, "no" on yes/no, a number out of range."""
    if answer is None or not specs.can_fail(it):
        return False
    return answer.result in ("fail", "no") or bool(answer.out_of_range)


def blocking(run: ChecklistRun, answers: dict[str, ChecklistAnswer]) -> dict[str, str]:
    """What keeps the run from being submitted, by item key."""
    problems: dict[str, str] = {}
    for it in specs.items(run.version.spec):
        answer = answers.get(it["key"])
        if it.get("required") and not is_answered(it, answer):
            problems[it["key"]] = _("This item is required.")
        elif is_failed(it, answer):
            rules = it.get("on_fail") or {}
            if rules.get("require_photo") and not answer.photo_ids:
                problems[it["key"]] = _("A failed item needs a photo.")
            elif rules.get("require_note") and not answer.note:
                problems[it["key"]] = _("A failed item needs a note.")
    return problems


def score(
    run: ChecklistRun, answers: dict[str, ChecklistAnswer]
) -> tuple[Decimal, Decimal, int, int]:
    """(score, max score, failed items, numbers out of range); N/A and unanswered items are left
    out of the maximum."""
    got = top = Decimal(0)
    failed = out_of_range = 0
    for it in specs.items(run.version.spec):
        answer = answers.get(it["key"])
        if not specs.is_scored(it) or not is_answered(it, answer) or answer.result == "na":
            continue
        w = specs.weight(it)
        top += w
        if is_failed(it, answer):
            failed += 1
            out_of_range += bool(answer.out_of_range)
        else:
            got += w
    return got, top, failed, out_of_range


def submitted_with(key: str) -> ChecklistRun | None:
    return db.session.scalar(sa.select(ChecklistRun).where(ChecklistRun.submit_key == key))


def submit(
    run: ChecklistRun,
    member: Membership,
    *,
    key: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> tuple[ChecklistRun, bool]:
    """Submit a run once: (run, True) the first time; a retry with the same key, or a second
    submission of a run already submitted, returns (that run, False) and changes nothing.

    Locks the run row so concurrent retries queue up behind the first; `run_submitted` is sent
    inside the transaction after the number, score and counts are final.
    """
    key = (key or "").strip()[:64]
    if not key:
        raise DomainError(_("The form expired. Reload the page and try again."))
    done = submitted_with(key)
    if done is not None:
        return done, False
    run = db.session.scalar(
        sa.select(ChecklistRun)
        .where(ChecklistRun.id == run.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if run.status == SUBMITTED:
        return run, False
    if run.inspector_id != member.id:
        raise DomainError(_("Only the inspector who started this checklist can submit it."))
    answers = answers_of(run)
    problems = blocking(run, answers)
    if problems:
        raise SubmitRefused(problems)
    run.score, run.max_score, run.failed_count, run.out_of_range_count = score(run, answers)
    for it in specs.items(run.version.spec):
        if it["type"] == "signature" and answers.get(it["key"]) and answers[it["key"]].photo_ids:
            run.signature_file_id = answers[it["key"]].photo_ids[0]
            break
    if (
        latitude is not None
        and longitude is not None
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        run.latitude = latitude.quantize(Decimal("0.000001"))
        run.longitude = longitude.quantize(Decimal("0.000001"))
    run.number = next_number(RUN_PREFIX)
    run.status, run.submit_key, run.submitted_at = SUBMITTED, key, utcnow()
    db.session.flush()
    run_submitted.send(run)
    return run, True


def failed_items(run: ChecklistRun) -> list[tuple[dict[str, Any], ChecklistAnswer]]:
    """The failed items of a run with their answers (what corrective actions are opened for)."""
    answers = answers_of(run)
    return [
        (it, answers[it["key"]])
        for it in specs.items(run.version.spec)
        if is_failed(it, answers.get(it["key"]))
    ]
