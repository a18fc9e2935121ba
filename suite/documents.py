"""Document helpers shared by every module: per-workspace numbering."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from suite.db import WorkspaceScoped, db, utcnow


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
    stmt = sa.select(DocumentCounter).where(
        DocumentCounter.prefix == prefix, DocumentCounter.year == year
    )
    counter = db.session.scalar(stmt.with_for_update())
    if counter is None:
        try:  # the year's first number: two transactions may both try to create the counter
            with db.session.begin_nested():
                db.session.add(DocumentCounter(prefix=prefix, year=year, last=0))
        except sa.exc.IntegrityError:
            pass  # the other one did; wait for its lock below
        counter = db.session.scalar(
            stmt.with_for_update().execution_options(populate_existing=True)
        )
    counter.last += 1
    db.session.flush()
    return f"{prefix}-{year}-{counter.last:04d}"
