"""Corrective actions (整改): opened from failed items, fixed by the area owner, verified."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inspections.models import CLOSED, FIXED, OPEN, CorrectiveAction
from modules.inspections.services.photos import Upload, store_all
from suite.auth.models import Membership
from suite.checklists.models import ChecklistAnswer, ChecklistRun, Checkpoint
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError
from suite.workflow import engine
from suite.workflow.models import WorkflowTask

DOC_TYPE = "inspections.corrective_action"
FIX_NODE, VERIFY_NODE = "fix", "verify"
CANCELLED = "cancelled"
FAILED_RESULTS = ("fail", "no")
MAX_NOTE = 2000


def items_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A template version's items by key."""
    return {
        item["key"]: item
        for section in (spec or {}).get("sections", [])
        for item in section.get("items", [])
    }


def _rule(item: dict[str, Any] | None, name: str) -> bool:
    return bool(((item or {}).get("on_fail") or {}).get(name))


def failed(answer: ChecklistAnswer) -> bool:
    return answer.result in FAILED_RESULTS or bool(answer.out_of_range)


def open_for_run(run: ChecklistRun) -> list[CorrectiveAction]:
    """One corrective action per failed item whose rule says so (run_submitted, no commit)."""
    items = items_of(run.version.spec)
    answers = db.session.scalars(
        sa.select(ChecklistAnswer)
        .where(ChecklistAnswer.run_id == run.id)
        .order_by(ChecklistAnswer.id)
    )
    wanted = [
        a
        for a in answers
        if failed(a)
        and ((items.get(a.item_key) or {}).get("on_fail") or {}).get("corrective_action")
    ]
    if not wanted:
        return []
    # Two deliveries of the same run at once: the second waits here and then finds the first's.
    db.session.execute(
        sa.select(ChecklistRun.id).where(ChecklistRun.id == run.id).with_for_update()
    )
    have = set(
        db.session.scalars(
            sa.select(CorrectiveAction.item_key).where(CorrectiveAction.run_id == run.id)
        )
    )
    opened = []
    for answer in wanted:
        if answer.item_key in have:
            continue
        item = items[answer.item_key]
        description = answer.note or ""
        if answer.number is not None:
            unit = item.get("unit") or ""
            description = (f"{answer.number} {unit}".strip() + "\n" + description).strip()
        ca = start(
            run.checkpoint,
            run.inspector_id,
            run=run,
            item_key=answer.item_key,
            item_label=str(item.get("label") or answer.item_key),
            description=description,
            photo_ids=list(answer.photo_ids or []),
        )
        opened.append(ca)
    return opened


def start(
    checkpoint: Checkpoint,
    verifier_id: int | None,
    *,
    run: ChecklistRun | None = None,
    item_key: str = "",
    item_label: str = "",
    description: str = "",
    photo_ids: list[int] | None = None,
) -> CorrectiveAction:
    """Create the action and start its process: the area owner's fix task with its SLA.

    A checkpoint without an area owner gives the fix to whoever found the problem (otherwise
    the fix node would find nobody and pass straight to `check_fix`, refusing the submit)."""
    assignee_id = checkpoint.owner_id or verifier_id
    if assignee_id is None:
        raise DomainError(_("The checkpoint has no area owner."))
    ca = CorrectiveAction(
        number=next_number("CA"),
        checkpoint_id=checkpoint.id,
        run_id=run.id if run is not None else None,
        item_key=item_key,
        item_label=item_label[:300],
        description=description,
        photo_ids=photo_ids or [],
        assignee_id=assignee_id,
        verifier_id=verifier_id,
        status=OPEN,
    )
    db.session.add(ca)
    db.session.flush()
    initiator = verifier_id or assignee_id
    result = engine.submit(DOC_TYPE, ca, initiator, key=f"ca:{ca.id}")
    ca.instance_id = result.instance_id
    ca.due_at = open_task_due(ca, FIX_NODE)
    db.session.flush()
    return ca


def open_task(ca: CorrectiveAction, node: str, member_id: int | None = None) -> WorkflowTask | None:
    """The open task of the action's process at `node` (the member's, when given)."""
    if ca.instance_id is None:
        return None
    stmt = sa.select(WorkflowTask).where(
        WorkflowTask.instance_id == ca.instance_id,
        WorkflowTask.node == node,
        WorkflowTask.status == "open",
    )
    if member_id is not None:
        stmt = stmt.where(WorkflowTask.assignee_id == member_id)
    return db.session.scalars(stmt.order_by(WorkflowTask.id)).first()


def open_task_due(ca: CorrectiveAction, node: str) -> Any:
    task = open_task(ca, node)
    return task.due_at if task is not None else None


def record_fix(
    ca: CorrectiveAction,
    actor: Membership,
    *,
    note: str,
    photos: list[Upload],
    key: str | None = None,
) -> engine.Result:
    """The area owner (or whoever holds the fix task) records the fix; it goes to verification."""
    task = open_task(ca, FIX_NODE, actor.id)
    if task is None:
        raise DomainError(_("This corrective action is not waiting for your fix."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Describe what was done."), "note")
    if len(note) > MAX_NOTE:
        raise DomainError(_("At most %(n)s characters.", n=MAX_NOTE), "note")
    if not photos:
        raise DomainError(_("Add a photo of the fix."), "photo")
    ca.fix_photo_ids = store_all(photos, "photo", actor.id)
    ca.fix_note, ca.fixed_at, ca.status = note, utcnow(), FIXED
    db.session.flush()
    return engine.command(ca.instance_id, "approve", actor.id, key=key, task_id=task.id)


def verify(
    ca: CorrectiveAction,
    actor: Membership,
    *,
    fixed: bool,
    comment: str = "",
    key: str | None = None,
) -> engine.Result:
    """The inspector checks the fix: verified closes the action, not fixed sends it back."""
    task = open_task(ca, VERIFY_NODE, actor.id)
    if task is None:
        raise DomainError(_("This corrective action is not waiting for your verification."))
    comment = (comment or "").strip()
    if fixed:
        return engine.command(
            ca.instance_id, "approve", actor.id, key=key, task_id=task.id, comment=comment
        )
    if not comment:
        raise DomainError(_("Say what is still wrong."), "comment")
    result = engine.command(
        ca.instance_id,
        "send_back",
        actor.id,
        key=key,
        task_id=task.id,
        comment=comment,
        target=FIX_NODE,
        resume="rerun",  # the fix goes through check_fix again
    )
    ca.status, ca.fix_photo_ids, ca.fix_note, ca.fixed_at = OPEN, [], "", None
    ca.due_at = open_task_due(ca, FIX_NODE)
    db.session.flush()
    return result


def check_fix(instance: Any) -> None:
    """Automation after the fix node: no fix recorded (photo and note) -> the command is refused."""
    ca = db.session.get(CorrectiveAction, instance.document_id)
    if ca is None or ca.status != FIXED or not ca.fix_photo_ids or not ca.fix_note:
        raise DomainError(_("Record the fix with a photo and a note first."))


class CorrectiveActionType:
    """What the workflow engine needs to know about corrective actions."""

    key = DOC_TYPE
    template = DOC_TYPE

    def get(self, document_id: int) -> CorrectiveAction | None:
        return db.session.get(CorrectiveAction, document_id)

    def values(self, ca: CorrectiveAction) -> dict[str, Any]:
        point = ca.checkpoint
        return {
            "checkpoint": point.name if point else "",
            "site": point.site if point else "",
            "item": ca.item_label,
            # membership ids as text: the `field` resolver reads digits (a number would be Decimal)
            "assignee": str(ca.assignee_id or ""),
            "verifier": str(ca.verifier_id or ""),
        }

    def title(self, ca: CorrectiveAction) -> str:
        point = ca.checkpoint
        return f"{ca.number} {point.name if point else ''} · {ca.item_label}".strip()

    def url(self, ca: CorrectiveAction) -> str:
        return f"/inspections/actions/{ca.id}"

    def on_outcome(self, ca: CorrectiveAction, status: str) -> None:
        if status == "approved":
            ca.status, ca.closed_at = CLOSED, utcnow()
        elif status in ("rejected", "withdrawn", "cancelled"):
            ca.status, ca.closed_at = CANCELLED, utcnow()


corrective_action = CorrectiveActionType()
