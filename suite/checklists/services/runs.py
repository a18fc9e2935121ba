"""Runs: open a draft at a checkpoint, save answers as they come, score and submit once."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.auth.models import Membership
from suite.checklists import spec as specs
from suite.checklists.models import (
    DRAFT,
    SUBMITTED,
    ChecklistAnswer,
    ChecklistRun,
    ChecklistTemplate,
    Checkpoint,
)
from suite.checklists.signals import run_submitted
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError

RUN_PREFIX = "INS"


class SubmitRefused(DomainError):  # noqa: N818 - a refusal, like DomainError
    """A run that cannot be submitted yet: `items` maps item keys to what is missing."""

    def __init__(self, items: dict[str, str]) -> None:
        super().__init__(_("Some items need attention before you can submit."), "items")
        self.items = items


def draft_of(point: Checkpoint, inspector: Membership) -> ChecklistRun | None:
    """The inspector's open draft at this checkpoint, if any (the one `open_run` resumes)."""
    return db.session.scalar(
        sa.select(ChecklistRun)
        .where(
            ChecklistRun.checkpoint_id == point.id,
            ChecklistRun.inspector_id == inspector.id,
            ChecklistRun.status == DRAFT,
        )
        .order_by(ChecklistRun.id.desc())
        .limit(1)
    )


def open_run(point: Checkpoint, inspector: Membership) -> ChecklistRun:
    """The inspector's open draft at this checkpoint, or a new one on the current version."""
    run = draft_of(point, inspector)
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


def file_ids(run: ChecklistRun) -> set[int]:
    """The stored files a run refers to: its answers' photos and its signature."""
    ids = {i for a in answers_of(run).values() for i in a.photo_ids or []}
    if run.signature_file_id is not None:
        ids.add(run.signature_file_id)
    return ids


def draft_answer(run: ChecklistRun, key: str) -> tuple[dict[str, Any], ChecklistAnswer]:
    """The item's spec and its answer row (new if none yet); refuses a submitted run."""
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
    it, answer = draft_answer(run, key)
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
