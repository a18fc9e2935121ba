"""Photos and signatures on a run's items: checked to be real images within the size limit."""

from __future__ import annotations

import io

from flask import current_app
from flask_babel import gettext as _

from suite import files
from suite.auth.models import Membership
from suite.checklists.models import (
    ChecklistAnswer,
    ChecklistRun,
)
from suite.checklists.services.runs import draft_answer
from suite.db import db, utcnow
from suite.errors import DomainError

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


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
    it, answer = draft_answer(run, key)
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
    _it, answer = draft_answer(run, key)
    answer.photo_ids = [i for i in answer.photo_ids or [] if i != stored_file_id]
    db.session.flush()
    return answer
