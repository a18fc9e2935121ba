"""General request services: create, edit, submit (starts the process), lifecycle moves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError
from suite.requests.models import APPROVED, DRAFT, REJECTED, SUBMITTED, GeneralRequest
from suite.workflow import engine, tasks
from suite.workflow.models import WorkflowTask

DOC_TYPE = "suite.general_request"
EDITABLE = (DRAFT, REJECTED)  # a rejected request can be changed and submitted again
URGENCIES = ("low", "normal", "high")


def save(
    req: GeneralRequest | None,
    requester: Membership,
    *,
    title: str,
    amount: Decimal | None,
    urgency: str,
    reason: str,
) -> GeneralRequest:
    """Create a draft or change one; a submitted request is locked (withdraw it first) unless
    it was sent back to the requester (退回), who edits it and then resubmits."""
    if req is not None and req.requester_id != requester.id:
        raise DomainError(_("Only the requester can change this request."))
    if req is not None and req.status not in EDITABLE and returned_task(req) is None:
        raise DomainError(_("Only a draft can be changed. Withdraw the request first."))
    if amount is not None and amount < 0:
        raise DomainError(_("The amount cannot be negative."), "amount")
    if urgency not in URGENCIES:
        raise DomainError(_("Not a valid choice."), "urgency")
    if req is None:
        req = GeneralRequest(
            number=next_number("GR"),
            requester_id=requester.id,
            department_id=requester.department_id,
        )
        db.session.add(req)
    req.title, req.amount, req.urgency, req.reason = title.strip(), amount, urgency, reason.strip()
    db.session.flush()
    return req


def returned_task(req: GeneralRequest) -> WorkflowTask | None:
    """The requester's open edit task when the running process sent the request back."""
    return tasks.returned_task(req.instance_id, req.requester_id)


def submit(
    req: GeneralRequest,
    actor: Membership,
    key: str | None = None,
    selected: dict[str, list[int]] | None = None,
) -> engine.Result:
    if req.requester_id != actor.id:
        raise DomainError(_("Only the requester can submit this request."))
    if req.status not in EDITABLE:
        raise DomainError(_("This request has been submitted already."))
    req.status, req.submitted_at = SUBMITTED, utcnow()
    db.session.flush()
    result = engine.submit(DOC_TYPE, req, actor.id, key=key, selected=selected)
    req.instance_id = result.instance_id
    return result


class GeneralRequestType:
    """What the workflow engine needs to know about general requests."""

    key = DOC_TYPE
    template = "suite.general_request"

    def get(self, document_id: int) -> GeneralRequest:
        return db.session.get(GeneralRequest, document_id)

    def values(self, req: GeneralRequest) -> dict[str, Any]:
        return {
            "amount": req.amount if req.amount is not None else Decimal(0),
            "title": req.title,
            "urgency": req.urgency,
        }

    def title(self, req: GeneralRequest) -> str:
        return f"{req.number} {req.title}"

    def url(self, req: GeneralRequest) -> str:
        return f"/requests/{req.id}"

    def on_outcome(self, req: GeneralRequest, status: str) -> None:
        req.status = {"approved": APPROVED, "rejected": REJECTED}.get(status, DRAFT)


general_request = GeneralRequestType()
