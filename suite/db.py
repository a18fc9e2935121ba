"""The SQLAlchemy base: naming convention, column types every module shares, `db`."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use suite.db.utcnow() or an aware value")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class DecimalType(sa.types.TypeDecorator):
    """`Numeric(p, s)` as `Decimal` everywhere; SQLite keeps the exact text."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.scale = scale

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(self.impl.precision, self.scale))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        quantum = Decimal(1).scaleb(-self.scale)
        value = Decimal(value).quantize(quantum)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


def Money() -> DecimalType:  # noqa: N802 - reads like a column type
    return DecimalType(14, 2)


def Qty() -> DecimalType:  # noqa: N802
    return DecimalType(14, 3)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


class WorkspaceScoped:
    """Mixin for every business row: carries `workspace_id`, filtered on every ORM query.

    The filter and the default come from `suite.tenancy`; rows are audited unless the class sets
    `__audited__ = False`.
    """

    __audited__ = True

    @declared_attr
    def workspace_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)


def locked_or_created(stmt: sa.Select, new_row: Callable[[], Any]) -> Any:
    """The row `stmt` selects, locked FOR UPDATE; created first when it does not exist yet.

    Two transactions may both find it missing: each inserts `new_row()` in a savepoint, the
    loser's unique constraint fails, and both then wait for the one row's lock.
    """
    stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(stmt)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(new_row())
    except sa.exc.IntegrityError:
        pass  # the other transaction created it; its lock is waited for below
    return db.session.scalar(stmt)


def end_if_read_only() -> None:
    """End the session's PostgreSQL transaction with COMMIT when it wrote nothing.

    A request's transaction is otherwise ended by the ROLLBACK of `session.close()`, and psycopg
    forgets every prepared statement on a ROLLBACK (an object it prepared for could have been
    dropped). So no statement ever reached psycopg's `prepare_threshold` and PostgreSQL planned
    each one again on every page: the order page's five statements cost its backend 2.9 ms of CPU
    per request, 1.5 ms prepared (the bare reference page: 0.3 ms).

    A transaction to which PostgreSQL assigned no transaction id wrote nothing (no INSERT, UPDATE,
    DELETE, row lock or DDL), so COMMIT ends it as ROLLBACK would: SET LOCAL and advisory locks
    end either way, and the suite sends no NOTIFY (which only a COMMIT delivers). The commit goes
    to the driver, not the session: nothing is flushed and no session hook runs (pending ORM
    changes and audit events are dropped as before); the session then closes as usual, and its
    ROLLBACK of the ended transaction sends nothing.
    """
    session = db.session()
    if not session.in_transaction() or session.in_nested_transaction():
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    raw = conn.connection.driver_connection
    from psycopg.pq import TransactionStatus

    if raw is None or raw.info.transaction_status != TransactionStatus.INTRANS:
        return  # idle (nothing ran) or failed: the ROLLBACK ends it
    if conn.info.get(_MAY_HAVE_WRITTEN) is False:
        raw.commit()  # only plain reads ran (see track_reads): no need to ask the server
        return
    with raw.cursor() as cur:
        cur.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        row = cur.fetchone()
    if row is not None and row[0]:
        raw.commit()


# --- which transactions only read ---------------------------------------------------------------

_MAY_HAVE_WRITTEN = "suite_may_have_written"
_LOCKING = re.compile(r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)
_CALL = re.compile(r"([\w$.]+)\s*\(")
# Words a `(` may follow in the SELECTs SQLAlchemy writes for the suite, and built-in functions
# that write nothing. Anything else (a function of our own or an extension's, a schema-qualified
# or quoted name) may write, so the transaction is then checked on the server as before.
_READING_CALLS = frozenset(
    [
        "select",
        "from",
        "join",
        "where",
        "and",
        "or",
        "not",
        "in",
        "exists",
        "any",
        "all",
        "on",
        "as",
        "by",
        "over",
        "filter",
        "partition",
        "case",
        "when",
        "then",
        "else",
        "end",
        "is",
        "null",
        "between",
        "like",
        "ilike",
        "lateral",
        "distinct",
        "values",
        "array",
        "row",
        "cast",
        "count",
        "sum",
        "min",
        "max",
        "avg",
        "lower",
        "upper",
        "coalesce",
        "nullif",
        "greatest",
        "least",
        "length",
        "char_length",
        "substr",
        "substring",
        "trim",
        "btrim",
        "ltrim",
        "rtrim",
        "concat",
        "replace",
        "position",
        "strpos",
        "abs",
        "round",
        "floor",
        "ceil",
        "date_trunc",
        "extract",
        "date_part",
        "now",
        "timezone",
        "to_char",
        "row_number",
        "rank",
        "dense_rank",
        "lag",
        "lead",
        "first_value",
        "last_value",
        "string_agg",
        "array_agg",
        "bool_or",
        "bool_and",
        "every",
        "json_agg",
        "jsonb_agg",
        "json_build_object",
        "jsonb_build_object",
        "to_json",
        "to_jsonb",
        "unnest",
    ]
)


@functools.lru_cache(maxsize=4096)
def reads_only(statement: str) -> bool:
    """Whether `statement` is a plain SELECT: no row lock, no data-modifying CTE (it would start
    with WITH), no call of a function that could write. False when unsure."""
    sql = statement.lstrip()
    if sql[:6].upper() != "SELECT" or _LOCKING.search(sql) or re.search(r'"\s*\(', sql):
        return False
    return all(name.lower() in _READING_CALLS for name in _CALL.findall(sql))


def track_reads(engine: sa.Engine) -> None:
    """Note on each connection whether its transaction ran anything but plain SELECTs.

    `end_if_read_only` then ends a transaction that only read with COMMIT without first asking
    PostgreSQL whether it assigned a transaction id: one round trip less for every page that only
    reads. Any other statement (INSERT, UPDATE, DELETE, SELECT ... FOR UPDATE, SET LOCAL, DDL,
    a SAVEPOINT, text this module cannot classify) leaves the server's answer to decide, as
    before. Statements sent to the driver connection directly are not seen: the suite sends none
    within a request (`end_if_read_only` itself ends the transaction).
    """

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.info[_MAY_HAVE_WRITTEN] = False

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(
        conn: sa.Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        info = conn.info
        if info.get(_MAY_HAVE_WRITTEN) is False and (
            many or getattr(cursor, "name", None) or not reads_only(statement)
        ):
            info[_MAY_HAVE_WRITTEN] = True

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _end(conn: sa.Connection) -> None:
        conn.info.pop(_MAY_HAVE_WRITTEN, None)
