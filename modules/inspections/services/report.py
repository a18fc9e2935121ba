"""The inspection report of a submitted run (PDF): where, what, who, when (workspace time zone),
GPS when the phone gave it, the score, every answer with its pass / fail / out-of-range mark and
note, the photos, the signature and the corrective actions the run opened."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError

from modules.inspections.models import CorrectiveAction
from modules.inspections.services.rounds import zone
from suite import files
from suite.checklists import services as checklists
from suite.checklists.models import SUBMITTED, ChecklistRun
from suite.db import db
from suite.errors import DomainError
from suite.files import StoredFile

MAX_SIDE = 1000  # px: larger photos are downscaled for print (about 85 mm at 300 dpi)
MAX_EMBED = 300 * 1024  # bytes: larger files are re-encoded as JPEG


@dataclass
class Line:
    """One item of the report with its answer."""

    item: dict[str, Any]
    answer: Any
    mark: str  # pass / fail / na / out_of_range / answered / missing
    photos: list[str] = field(default_factory=list)  # data URIs


@dataclass
class Report:
    run: ChecklistRun
    submitted_local: str
    sections: list[tuple[str, list[Line]]]
    signature: str | None
    actions: list[CorrectiveAction]
    percent: str | None


def data_uri(row: StoredFile) -> str | None:
    """The stored image as a data URI, downscaled (JPEG) when large; None if unreadable."""
    try:
        raw = files.read(row)
    except OSError:
        return None
    try:
        with Image.open(io.BytesIO(raw)) as img:
            big = max(img.size) > MAX_SIDE or len(raw) > MAX_EMBED
            if not big and row.content_type in ("image/jpeg", "image/png"):
                return f"data:{row.content_type};base64,{base64.b64encode(raw).decode()}"
            img = ImageOps.exif_transpose(img)
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            if img.mode not in ("RGB", "L"):
                flat = Image.new("RGB", img.size, "white")
                flat.paste(img, mask=img.getchannel("A") if "A" in img.getbands() else None)
                img = flat
            out = io.BytesIO()
            img.save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return f"data:image/jpeg;base64,{base64.b64encode(out.getvalue()).decode()}"


def _mark(it: dict[str, Any], answer: Any) -> str:
    if not checklists.is_answered(it, answer):
        return "missing"
    if answer.out_of_range:
        return "out_of_range"
    if checklists.is_failed(it, answer):
        return "fail"
    if answer.result == "na":
        return "na"
    if it["type"] in ("pass_fail", "yes_no", "number"):
        return "pass"
    return "answered"


def build(run: ChecklistRun) -> Report:
    """Everything the report prints; a draft has no report."""
    if run.status != SUBMITTED:
        raise DomainError("not submitted")
    answers = checklists.answers_of(run)
    ids = {i for a in answers.values() for i in a.photo_ids or []}
    if run.signature_file_id:
        ids.add(run.signature_file_id)
    rows = {
        r.id: r for r in db.session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(ids)))
    }
    uris = {i: data_uri(r) for i, r in rows.items()}
    sections = []
    for section in run.version.spec.get("sections", []):
        lines = []
        for it in section.get("items", []):
            a = answers.get(it["key"])
            if it["type"] == "signature":
                continue  # printed at the end
            photos = [uris[i] for i in (a.photo_ids if a else []) or [] if uris.get(i)]
            lines.append(Line(it, a, _mark(it, a), photos))
        sections.append((str(section.get("title") or ""), lines))
    actions = list(
        db.session.scalars(
            sa.select(CorrectiveAction)
            .where(CorrectiveAction.run_id == run.id)
            .order_by(CorrectiveAction.id)
        )
    )
    tz = zone(run.workspace_id)
    local = run.submitted_at.astimezone(tz) if run.submitted_at else None
    percent = None
    if run.max_score:
        percent = f"{run.score * 100 / run.max_score:.1f}"
    return Report(
        run=run,
        submitted_local=f"{local:%Y-%m-%d %H:%M} ({tz.key})" if local else "",
        sections=sections,
        signature=uris.get(run.signature_file_id) if run.signature_file_id else None,
        actions=actions,
        percent=percent,
    )
