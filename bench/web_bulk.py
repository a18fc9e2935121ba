"""Bulk writing for the `bench/web.py` seed: COPY on PostgreSQL, Core executemany elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from suite.db import db
from suite.documents import DocumentCounter


def mix(n: int) -> int:
    """A cheap deterministic 32-bit hash of n (Knuth's multiplicative method)."""
    return (n * 2654435761) & 0xFFFFFFFF


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class Numbers:
    """`PREFIX-YYYY-NNNN` numbers continuing the workspace's counters, which `save()` moves on."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.last = {
            c.year: c.last
            for c in db.session.scalars(
                sa.select(DocumentCounter).where(DocumentCounter.prefix == prefix)
            )
        }

    def next(self, year: int) -> str:
        self.last[year] = self.last.get(year, 0) + 1
        return f"{self.prefix}-{year}-{self.last[year]:04d}"

    def save(self) -> None:
        for year, last in self.last.items():
            stmt = sa.select(DocumentCounter).where(
                DocumentCounter.prefix == self.prefix, DocumentCounter.year == year
            )
            counter = db.session.scalar(stmt) or DocumentCounter(prefix=self.prefix, year=year)
            counter.last = last
            db.session.add(counter)
        db.session.flush()


def next_id(table: str) -> int:
    conn = db.session.connection()
    return (conn.execute(sa.text(f'SELECT max(id) FROM "{table}"')).scalar() or 0) + 1


def write(
    table: str, columns: str, rows: Iterable[Sequence[Any]], json_cols: Sequence[str] = ()
) -> int:
    """Bulk-write rows (tuples in the order of the space-separated `columns`) in the session's
    transaction; returns the count. PostgreSQL: COPY through the session's own psycopg
    connection. Elsewhere: Core executemany.
    """
    names = columns.split()
    conn = db.session.connection()
    count = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        encode = [names.index(c) for c in json_cols]
        quoted = ", ".join(f'"{c}"' for c in names)
        with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                if encode:
                    row = list(row)
                    for i in encode:
                        row[i] = json.dumps(row[i])
                copy.write_row(row)
                count += 1
        return count
    insert = db.metadata.tables[table].insert()
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= 1000:
            conn.execute(insert, batch)
            count, batch = count + len(batch), []
    if batch:
        conn.execute(insert, batch)
        count += len(batch)
    return count


def skip_fk_checks() -> bool:
    """On PostgreSQL as a superuser, skip foreign-key triggers for the rest of the transaction
    (the seed writes consistent ids; the checks would double the time of the COPYs)."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return False
    if conn.execute(sa.text("SELECT current_setting('is_superuser')")).scalar() != "on":
        return False
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    return True


def fix_sequences(tables: Iterable[str]) -> None:
    """After COPY with explicit ids, move PostgreSQL's id sequences past them."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
            )
        )


def analyze() -> None:
    """Fresh planner statistics after the bulk load (PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
