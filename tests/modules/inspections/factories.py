"""Inspections test helpers: the S8 template, checkpoints, and a submitted run at a given time.

`submit_run` makes the run with the models and sends `run_submitted` the way the kernel's
`submit` does (once, inside the submitting transaction), because rounds are done by a run
*inside their window* and the kernel stamps the real clock; tests that need no time use the
kernel's services (suite.checklists.services) instead.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from PIL import Image

from suite.checklists.models import (
    ChecklistAnswer,
    ChecklistRun,
    ChecklistTemplate,
    ChecklistTemplateVersion,
    Checkpoint,
    CheckpointToken,
)
from suite.checklists.signals import run_submitted
from suite.db import db, utcnow

ON_FAIL = {"require_photo": True, "require_note": False, "corrective_action": True}
ITEMS = [
    ("exits", "Emergency exits clear"),
    ("signs", "Exit signs lit"),
    ("hoses", "Hose reels intact"),
    ("alarm", "Alarm panel normal"),
    ("doors", "Fire doors closed"),
    ("storage", "No storage under stairs"),
    ("wiring", "No exposed wiring"),
    ("blanket", "Fire blanket in place"),
]


def s8_spec() -> dict[str, Any]:
    items = [
        {
            "key": k,
            "type": "pass_fail",
            "label": label,
            "required": True,
            "weight": 1,
            "on_fail": ON_FAIL,
        }
        for k, label in ITEMS
    ]
    items.append(
        {
            "key": "pressure",
            "type": "number",
            "label": "Extinguisher pressure",
            "min": 1.0,
            "max": 1.4,
            "unit": "MPa",
            "required": True,
            "weight": 1,
            "on_fail": ON_FAIL,
        }
    )
    return {"sections": [{"title": "Fire safety", "items": items}]}


def make_points(owner_id: int, n: int = 3, sites: tuple[str, ...] = ("Plant A",)) -> list[Any]:
    spec = s8_spec()
    template = ChecklistTemplate(name="Fire safety daily round", draft=spec)
    db.session.add(template)
    db.session.flush()
    version = ChecklistTemplateVersion(template_id=template.id, number=1, spec=spec)
    db.session.add(version)
    db.session.flush()
    template.current_version_id = version.id
    points = []
    for i in range(n):
        p = Checkpoint(
            name=f"Stairwell {i + 1}",
            code=f"FS{i + 1}",
            site=sites[i % len(sites)],
            area=f"Area {i + 1}",
            template_id=template.id,
            owner_id=owner_id,
            token=f"tok-{i + 1}-{template.id}",
        )
        db.session.add(p)
        db.session.flush()
        db.session.add(CheckpointToken(checkpoint_id=p.id, token=p.token))
        points.append(p)
    db.session.flush()
    return points


def submit_run(
    point: Any,
    inspector_id: int,
    *,
    fails: tuple[str, ...] = (),
    pressure: str = "1.2",
    at: dt.datetime | None = None,
    photo_ids: list[int] | None = None,
) -> ChecklistRun:
    """A submitted run with `fails` failed (pass elsewhere); sends run_submitted. No commit."""
    version = point.template.current_version
    at = at or utcnow()
    run = ChecklistRun(
        checkpoint_id=point.id,
        version_id=version.id,
        inspector_id=inspector_id,
        status="submitted",
        submit_key=f"k-{point.id}-{at.timestamp()}-{len(fails)}",
        submitted_at=at,
        number=f"IR-{point.id}-{int(at.timestamp())}",
    )
    db.session.add(run)
    db.session.flush()
    failed = out_of_range = 0
    for section in version.spec.get("sections", []):
        for item in section.get("items", []):
            key = item["key"]
            if item["type"] == "number":
                number = Decimal(pressure)
                low, high = item.get("min"), item.get("max")
                out = bool(
                    (low not in (None, "") and number < Decimal(str(low)))
                    or (high not in (None, "") and number > Decimal(str(high)))
                )
                out_of_range += bool(out)
                db.session.add(
                    ChecklistAnswer(run_id=run.id, item_key=key, number=number, out_of_range=out)
                )
                continue
            bad = key in fails
            failed += bad
            db.session.add(
                ChecklistAnswer(
                    run_id=run.id,
                    item_key=key,
                    result="fail" if bad else "pass",
                    note="broken" if bad else "",
                    photo_ids=list(photo_ids or []) if bad else [],
                )
            )
    scored = sum(1 for s in version.spec.get("sections", []) for _i in s.get("items", []))
    run.failed_count = failed + out_of_range
    run.out_of_range_count = out_of_range
    run.max_score = Decimal(scored)
    run.score = Decimal(scored - failed - out_of_range)
    db.session.flush()
    run_submitted.send(run)
    db.session.flush()
    return run


def png(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()
