"""The inspections API's OpenAPI schemas and JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from modules.inspections.models import (
    CLOSED,
    CONVERTED,
    DISMISSED,
    FIXED,
    NEW,
    OPEN,
    CorrectiveAction,
    Finding,
)
from modules.inspections.services.actions import CANCELLED
from suite.api.serialize import iso, members
from suite.api.spec import BOOL, INT, STR, TIME, nullable, obj, ref
from suite.checklists.models import Checkpoint
from suite.db import utcnow

ACTION_STATUSES = (OPEN, FIXED, CLOSED, CANCELLED)
FINDING_STATUSES = (NEW, CONVERTED, DISMISSED)
_ids = {"type": "array", "items": INT, "description": "Stored file ids (photos)."}


def _page(item: str) -> dict[str, Any]:
    return obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref(item)},
        next_after=nullable(INT),
    )


SCHEMAS: dict[str, dict[str, Any]] = {
    "InspectionCheckpointRef": obj(
        ["id", "code", "name", "site", "area"], id=INT, code=STR, name=STR, site=STR, area=STR
    ),
    "CorrectiveAction": obj(
        [
            "id",
            "number",
            "status",
            "overdue",
            "checkpoint",
            "run_id",
            "item_key",
            "item_label",
            "description",
            "photo_ids",
            "assignee",
            "verifier",
            "due_at",
            "fix_note",
            "fix_photo_ids",
            "fixed_at",
            "closed_at",
            "instance_id",
            "created_at",
        ],
        id=INT,
        number=STR,
        status={**STR, "enum": list(ACTION_STATUSES)},
        overdue={**BOOL, "description": "Still to fix and past its due time."},
        checkpoint=ref("InspectionCheckpointRef"),
        run_id={**nullable(INT), "description": "The checklist run it came from."},
        item_key=STR,
        item_label=STR,
        description=STR,
        photo_ids=_ids,
        assignee=nullable(ref("Member")),
        verifier=nullable(ref("Member")),
        due_at=nullable(TIME),
        fix_note=STR,
        fix_photo_ids=_ids,
        fixed_at=nullable(TIME),
        closed_at=nullable(TIME),
        instance_id={**nullable(INT), "description": "Its process instance (/instances/{id})."},
        created_at=TIME,
    ),
    "CorrectiveActionPage": _page("CorrectiveAction"),
    "PhotoUpload": {
        **obj(
            ["data"],
            name={**STR, "maxLength": 200},
            data={**STR, "contentEncoding": "base64", "description": "JPEG, PNG, WebP or GIF."},
        ),
        "additionalProperties": False,
    },
    "FixInput": {
        **obj(
            ["note", "photos"],
            note={**STR, "maxLength": 2000},
            photos={"type": "array", "items": ref("PhotoUpload"), "minItems": 1, "maxItems": 5},
            key={**STR, "maxLength": 100, "description": "Idempotency key: a retry answers once."},
        ),
        "additionalProperties": False,
    },
    "VerifyInput": {
        **obj(
            ["result"],
            result={**STR, "enum": ["fixed", "not_fixed"]},
            comment={**STR, "maxLength": 2000, "description": "Required when not fixed."},
            key={**STR, "maxLength": 100},
        ),
        "additionalProperties": False,
    },
    "ActionResult": obj(
        ["corrective_action", "instance_id", "status", "replayed"],
        corrective_action=ref("CorrectiveAction"),
        instance_id=INT,
        status=STR,
        replayed=BOOL,
    ),
    "Finding": obj(
        [
            "id",
            "status",
            "checkpoint",
            "description",
            "contact",
            "photo_ids",
            "corrective_action_id",
            "handled_by",
            "handled_at",
            "created_at",
        ],
        id=INT,
        status={**STR, "enum": list(FINDING_STATUSES)},
        checkpoint=ref("InspectionCheckpointRef"),
        description=STR,
        contact=STR,
        photo_ids=_ids,
        corrective_action_id=nullable(INT),
        handled_by=nullable(ref("Member")),
        handled_at=nullable(TIME),
        created_at=TIME,
    ),
    "FindingPage": _page("Finding"),
}


def checkpoint(p: Checkpoint) -> dict[str, Any]:
    return {"id": p.id, "code": p.code, "name": p.name, "site": p.site, "area": p.area}


def _late(ca: CorrectiveAction, now: dt.datetime) -> bool:
    if ca.status != OPEN or ca.due_at is None:
        return False
    due = ca.due_at if ca.due_at.tzinfo else ca.due_at.replace(tzinfo=dt.UTC)
    return due < now


def corrective_actions(rows: list[CorrectiveAction]) -> list[dict[str, Any]]:
    who = members([r.assignee_id for r in rows] + [r.verifier_id for r in rows])
    now = utcnow()
    return [
        {
            "id": ca.id,
            "number": ca.number,
            "status": ca.status,
            "overdue": _late(ca, now),
            "checkpoint": checkpoint(ca.checkpoint),
            "run_id": ca.run_id,
            "item_key": ca.item_key,
            "item_label": ca.item_label,
            "description": ca.description,
            "photo_ids": list(ca.photo_ids or []),
            "assignee": who.get(ca.assignee_id),
            "verifier": who.get(ca.verifier_id),
            "due_at": iso(ca.due_at),
            "fix_note": ca.fix_note,
            "fix_photo_ids": list(ca.fix_photo_ids or []),
            "fixed_at": iso(ca.fixed_at),
            "closed_at": iso(ca.closed_at),
            "instance_id": ca.instance_id,
            "created_at": iso(ca.created_at),
        }
        for ca in rows
    ]


def findings(rows: list[Finding]) -> list[dict[str, Any]]:
    who = members(r.handled_by_id for r in rows)
    return [
        {
            "id": f.id,
            "status": f.status,
            "checkpoint": checkpoint(f.checkpoint),
            "description": f.description,
            "contact": f.contact,
            "photo_ids": list(f.photo_ids or []),
            "corrective_action_id": f.corrective_action_id,
            "handled_by": who.get(f.handled_by_id),
            "handled_at": iso(f.handled_at),
            "created_at": iso(f.created_at),
        }
        for f in rows
    ]
