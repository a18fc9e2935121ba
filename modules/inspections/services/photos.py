"""Photos uploaded to inspections (a fix, a reported problem): images only, within a size limit."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from suite import files
from suite.errors import DomainError

MAX_PHOTO_BYTES = 8 * 1024 * 1024
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Upload:
    data: bytes
    name: str


def limit() -> int:
    return int(current_app.config.get("INSPECTIONS_MAX_PHOTO_BYTES", MAX_PHOTO_BYTES))


def check(upload: Upload, field: str) -> str:
    """The image's content type; `DomainError` on `field` when it is too big or not an image."""
    if len(upload.data) > limit():
        mb = limit() // (1024 * 1024)
        raise DomainError(_("The photo is larger than %(mb)s MB.", mb=mb), field)
    try:
        with Image.open(io.BytesIO(upload.data)) as img:
            kind = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError(_("This file is not a photo (JPEG, PNG, WebP or GIF)."), field) from None
    if kind not in TYPES:
        raise DomainError(_("This file is not a photo (JPEG, PNG, WebP or GIF)."), field)
    return TYPES[kind]


def store_all(uploads: list[Upload], field: str, created_by_id: int | None) -> list[int]:
    """Check every upload first (nothing is written if one is refused), then store them."""
    types = [check(u, field) for u in uploads]
    return [
        files.store(u.data, name=u.name or "photo", content_type=t, created_by_id=created_by_id).id
        for u, t in zip(uploads, types, strict=True)
    ]
