"""Document helpers shared by every module: per-workspace numbering."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from suite.db import WorkspaceScoped, db, locked_or_created, utcnow


class DocumentCounter(WorkspaceScoped, db.Model):
    """Per workspace, prefix and year: the last number given (GR-2026-0001), locked when used."""

    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("workspace_id", "prefix", "year"),)


def next_number(prefix: str, year: int | None = None) -> str:
    """`PREFIX-YYYY-NNNN` from a counter row locked in the transaction: no gaps, no twins."""
    year = year or utcnow().year
    counter = locked_or_created(
        sa.select(DocumentCounter).where(
            DocumentCounter.prefix == prefix, DocumentCounter.year == year
        ),
        lambda: DocumentCounter(prefix=prefix, year=year, last=0),
    )
    counter.last += 1
    db.session.flush()
    return f"{prefix}-{year}-{counter.last:04d}"
