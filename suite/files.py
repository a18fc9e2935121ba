"""Stored files (photos, signatures, attachments): bytes on disk, one row per file.

Bytes live under `<instance>/files/<workspace>/<sha256[:2]>/<sha256>` (an S3-compatible store can
replace `_path()` later); the row keeps the name, type, size and hash. Files are immutable: a new
upload is a new row, so audit trails that point at a file keep pointing at the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, make_response
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response

from suite.db import WorkspaceScoped, db, utcnow


class StoredFile(WorkspaceScoped, db.Model):
    """One uploaded file of a workspace."""

    __audited__ = False  # the document that refers to it records the reference

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _path(workspace_id: int, sha256: str) -> Path:
    root = Path(
        current_app.config.get("SUITE_FILES_DIR") or Path(current_app.instance_path, "files")
    )
    return root / str(workspace_id) / sha256[:2] / sha256


def store(
    data: bytes, *, name: str, content_type: str, created_by_id: int | None = None
) -> StoredFile:
    """Write `data` (once per workspace and content) and add its row to the session."""
    row = StoredFile(
        sha256=hashlib.sha256(data).hexdigest(),
        name=name[:200],
        content_type=content_type[:100],
        size=len(data),
        created_by_id=created_by_id,
    )
    db.session.add(row)
    db.session.flush()
    path = _path(row.workspace_id, row.sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return row


def read(row: StoredFile) -> bytes:
    return _path(row.workspace_id, row.sha256).read_bytes()


def file_response(row: StoredFile) -> Response:
    """A stored file as a response: private to the browser's cache, never sniffed into another
    type, never run as a page (its own CSP). Callers check first who may see it."""
    resp = make_response(read(row))
    resp.mimetype = row.content_type
    resp.headers["Cache-Control"] = "private, max-age=86400"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'"
    return resp
