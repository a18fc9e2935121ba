"""The checklist kernel as the API's JSON: templates, checkpoints, runs and their OpenAPI schemas.

Scores, numbers and coordinates are strings (decimals, never floats); a checkpoint's token and
QR URL are shown only to callers who may design or fill checklists (the token is what the label
encodes: whoever holds it can open the checklist at that place).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from suite.api.serialize import iso, members
from suite.api.spec import BOOL, INT, STR, TIME, nullable, obj, ref
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import (
    DRAFT,
    ITEM_TYPES,
    SUBMITTED,
    ChecklistRun,
    ChecklistTemplate,
    ChecklistTemplateVersion,
    Checkpoint,
)
from suite.db import db

RUN_STATUSES = (DRAFT, SUBMITTED)
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "1.25"}


def decimal(value: Decimal | None) -> str | None:
    """`Decimal('1.2500')` -> `"1.25"`; never an exponent."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- JSON ---------------------------------------------------------------------------------------


def template_json(t: ChecklistTemplate, *, with_spec: bool = False) -> dict[str, Any]:
    v = t.current_version
    version = None
    if v is not None:
        version = {"id": v.id, "number": v.number, "published_at": iso(v.published_at)}
        if with_spec:
            version["spec"] = v.spec
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "active": t.active,
        "current_version": version,
        "created_at": iso(t.created_at),
    }


def checkpoints_json(
    points: list[Checkpoint], *, show_token: bool, scan_url: Any
) -> list[dict[str, Any]]:
    people = members(p.owner_id for p in points)
    names = _names(ChecklistTemplate, (p.template_id for p in points))
    out = []
    for p in points:
        row: dict[str, Any] = {
            "id": p.id,
            "code": p.code,
            "name": p.name,
            "site": p.site,
            "area": p.area,
            "active": p.active,
            "anonymous_reports": p.anonymous_reports,
            "template": (
                {"id": p.template_id, "name": names[p.template_id]}
                if p.template_id in names
                else None
            ),
            "owner": people.get(p.owner_id),
            "created_at": iso(p.created_at),
        }
        if show_token:
            row |= {"token": p.token, "scan_url": scan_url(p)}
        out.append(row)
    return out


def _names(model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(model.id, model.name).where(model.id.in_(wanted)))
    return dict(rows.all())


def runs_json(runs: list[ChecklistRun]) -> list[dict[str, Any]]:
    """Run summaries; people, checkpoints and versions (with templates) load in one query each."""
    people = members(r.inspector_id for r in runs)
    points = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Checkpoint).where(Checkpoint.id.in_({r.checkpoint_id for r in runs}))
        )
    }
    versions = {
        vid: ({"id": tid, "name": name}, number)
        for vid, number, tid, name in db.session.execute(
            sa.select(
                ChecklistTemplateVersion.id,
                ChecklistTemplateVersion.number,
                ChecklistTemplate.id,
                ChecklistTemplate.name,
            )
            .join(ChecklistTemplate, ChecklistTemplate.id == ChecklistTemplateVersion.template_id)
            .where(ChecklistTemplateVersion.id.in_({r.version_id for r in runs}))
        )
    }
    out = []
    for r in runs:
        point = points.get(r.checkpoint_id)
        template, number = versions.get(r.version_id, (None, None))
        out.append(
            {
                "id": r.id,
                "number": r.number,
                "status": r.status,
                "checkpoint": (
                    {"id": point.id, "code": point.code, "name": point.name} if point else None
                ),
                "template": template,
                "version": {"id": r.version_id, "number": number},
                "inspector": people.get(r.inspector_id),
                "started_at": iso(r.started_at),
                "submitted_at": iso(r.submitted_at),
                "score": decimal(r.score),
                "max_score": decimal(r.max_score),
                "failed_count": r.failed_count,
                "out_of_range_count": r.out_of_range_count,
                "latitude": decimal(r.latitude),
                "longitude": decimal(r.longitude),
            }
        )
    return out


def run_json(run: ChecklistRun) -> dict[str, Any]:
    """A run with its version's spec, every answer, and (for a draft) what blocks submitting."""
    answers = services.answers_of(run)
    spec = run.version.spec
    rows = []
    for it in specs.items(spec):
        a = answers.get(it["key"])
        if a is None:
            continue
        rows.append(
            {
                "item": it["key"],
                "result": a.result,
                "value": a.value or "",
                "number": decimal(a.number),
                "out_of_range": a.out_of_range,
                "note": a.note or "",
                "photo_ids": list(a.photo_ids or []),
                "answered": services.is_answered(it, a),
                "failed": services.is_failed(it, a),
                "answered_at": iso(a.answered_at),
            }
        )
    blocking = services.blocking(run, answers) if run.status == DRAFT else {}
    return runs_json([run])[0] | {"spec": spec, "answers": rows, "blocking": blocking}


# --- OpenAPI ------------------------------------------------------------------------------------


def _page(item: str) -> dict[str, Any]:
    return obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref(item)},
        next_after=nullable(INT),
    )


_ref = obj(["id", "name"], id=INT, name=STR)
_item = {
    "type": "object",
    "required": ["key", "type", "label", "required"],
    "properties": {
        "key": {**STR, "pattern": r"^i\d{1,5}$", "description": "Stable across versions."},
        "type": {**STR, "enum": list(ITEM_TYPES)},
        "label": STR,
        "required": BOOL,
        "weight": {**DECIMAL, "description": "Scored items (pass/fail, yes/no, number)."},
        "on_fail": obj(
            [], **{rule: {**BOOL, "description": "On a failed answer."} for rule in specs.RULES}
        ),
        "min": {**STR, "description": "Number items: the valid range, may be empty."},
        "max": STR,
        "unit": STR,
        "options": {"type": "array", "items": STR, "description": "Select items."},
    },
    "additionalProperties": True,
}
_answer_input = {
    **obj(
        [],
        result=nullable({**STR, "enum": ["pass", "fail", "na", "yes", "no"]}),
        value=nullable(
            {
                **STR,
                "description": "Number (as typed, `1.2` or `1,2`), text, select option, or "
                "date (YYYY-MM-DD). An empty number clears it.",
            }
        ),
        note=nullable({**STR, "maxLength": 5000}),
    ),
    "additionalProperties": False,
}
_coordinate = {"type": ["string", "number", "null"], "description": "Degrees (WGS 84)."}

SCHEMAS: dict[str, dict[str, Any]] = {
    "ChecklistSpec": obj(
        ["sections"],
        sections={
            "type": "array",
            "items": obj(["title", "items"], title=STR, items={"type": "array", "items": _item}),
        },
    ),
    "ChecklistTemplate": obj(
        ["id", "name", "description", "active", "current_version", "created_at"],
        id=INT,
        name=STR,
        description=STR,
        active=BOOL,
        current_version=nullable(
            obj(
                ["id", "number", "published_at"],
                id=INT,
                number=INT,
                published_at=TIME,
                spec={**ref("ChecklistSpec"), "description": "In the detail only."},
            )
        ),
        created_at=TIME,
    ),
    "ChecklistTemplatePage": _page("ChecklistTemplate"),
    "Checkpoint": obj(
        ["id", "code", "name", "site", "area", "active", "template", "owner", "created_at"],
        id=INT,
        code={**STR, "description": "The short code printed under the QR code."},
        name=STR,
        site=STR,
        area=STR,
        active=BOOL,
        anonymous_reports=BOOL,
        template=nullable(_ref),
        owner=nullable({**ref("Member"), "description": "The area owner."}),
        created_at=TIME,
        token={
            **STR,
            "description": "The live QR token; only for callers with suite.checklist.design "
            "or suite.checklist.fill.",
        },
        scan_url={**STR, "description": "What the QR label encodes (`/q/<token>`); as `token`."},
    ),
    "CheckpointPage": _page("Checkpoint"),
    "ChecklistRun": obj(
        ["id", "number", "status", "checkpoint", "template", "version", "inspector"]
        + ["started_at", "submitted_at", "score", "max_score", "failed_count"],
        id=INT,
        number=nullable({**STR, "example": "INS-2026-0001", "description": "Given on submit."}),
        status={**STR, "enum": list(RUN_STATUSES)},
        checkpoint=nullable(obj(["id", "code", "name"], id=INT, code=STR, name=STR)),
        template=nullable(_ref),
        version=obj(["id", "number"], id=INT, number=nullable(INT)),
        inspector=nullable(ref("Member")),
        started_at=TIME,
        submitted_at=nullable(TIME),
        score=nullable(DECIMAL),
        max_score=nullable(DECIMAL),
        failed_count=INT,
        out_of_range_count=INT,
        latitude=nullable(DECIMAL),
        longitude=nullable(DECIMAL),
    ),
    "ChecklistRunPage": _page("ChecklistRun"),
    "ChecklistRunDetail": {
        "allOf": [
            ref("ChecklistRun"),
            obj(
                ["spec", "answers", "blocking"],
                spec=ref("ChecklistSpec"),
                answers={
                    "type": "array",
                    "items": obj(
                        ["item", "result", "value", "number", "out_of_range", "note"]
                        + ["photo_ids", "answered", "failed"],
                        item={**STR, "description": "The item's key in `spec`."},
                        result=nullable(STR),
                        value=STR,
                        number=nullable(DECIMAL),
                        out_of_range={
                            **BOOL,
                            "description": "Kept as evidence; the item counts as failed.",
                        },
                        note=STR,
                        photo_ids={"type": "array", "items": INT},
                        answered=BOOL,
                        failed=BOOL,
                        answered_at=nullable(TIME),
                    ),
                },
                blocking={
                    "type": "object",
                    "additionalProperties": STR,
                    "description": "A draft's items that keep it from being submitted.",
                },
            ),
        ]
    },
    "ChecklistAnswersInput": {
        **obj(
            ["answers"],
            answers={
                "type": "object",
                "description": "Item key -> the parts to save (the others stay).",
                "additionalProperties": _answer_input,
                "minProperties": 1,
                "maxProperties": 300,
            },
        ),
        "additionalProperties": False,
    },
    "ChecklistPhotoInput": obj(
        ["photo"], photo={**STR, "contentMediaType": "image/*", "description": "JPEG/PNG/WebP/GIF."}
    ),
    "ChecklistPhotoJson": {
        **obj(
            ["data"],
            name={**STR, "maxLength": 200},
            data={**STR, "contentEncoding": "base64", "description": "JPEG, PNG, WebP or GIF."},
        ),
        "additionalProperties": False,
    },
    "ChecklistSubmitInput": {
        **obj(
            [],
            key=nullable(
                {
                    **STR,
                    "maxLength": 40,
                    "description": "Idempotency key: a retry with it answers as the first time.",
                }
            ),
            latitude=_coordinate,
            longitude=_coordinate,
        ),
        "additionalProperties": False,
    },
    "ChecklistSubmitResult": obj(
        ["run", "replayed"],
        run=ref("ChecklistRunDetail"),
        replayed={**BOOL, "description": "True when this answers a retry."},
    ),
}
