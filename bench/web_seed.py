"""Seed data for `bench/web.py`: purchase orders with lines, suppliers, items, members, an inbox.

Runs in an app context on a migrated database. The demo workspace comes from
`suite.demo.seed_demo()`; everything else is written in bulk, bypassing the ORM (and therefore the
audit trail): COPY through psycopg on PostgreSQL, batched Core inserts elsewhere (the SQLite smoke
test). Rows are deterministic functions of their index, so a run is reproducible and the lines of
an order can be computed twice (once for the order's total, once for the lines themselves).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bench.web_bulk import (
    Numbers,
    analyze,
    fix_sequences,
    mix,
    money,
    next_id,
    skip_fk_checks,
    write,
)
from bench.web_inbox import add_inbox, add_members
from modules.crm.models import Party
from modules.inventory.models import Item
from suite.auth.models import Membership, User
from suite.db import db, utcnow
from suite.demo import seed_demo
from suite.tenancy import use_workspace

__all__ = ["STATUS_MIX", "Seeded", "analyze", "mix", "order_lines", "order_status", "seed"]

# Status mix of the orders, in percent (ARCHITECTURE 4: the purchase order lifecycle).
STATUS_MIX = (
    ("draft", 4),
    ("confirmed", 8),
    ("partially_received", 6),
    ("received", 17),
    ("billed", 20),
    ("closed", 40),
    ("cancelled", 5),
)
_STATUS_BY_PERCENT = [s for s, weight in STATUS_MIX for _ in range(weight)]
RECEIVED = {"received", "billed", "closed"}
BILLED = {"billed", "closed"}
CITIES = ("宁波", "寿光", "临沂", "苏州", "义乌", "佛山", "潍坊", "东莞", "温州", "嘉兴")
TRADES = ("包装", "农资", "纸品", "塑料", "五金", "化工", "物流", "印刷", "种苗", "机械")
MATERIALS = (
    ("CTN", "Carton", "pcs", 180),
    ("FILM", "Stretch film", "roll", 3500),
    ("PAL", "Pallet", "pcs", 8500),
    ("UREA", "Urea 50kg", "bag", 16000),
    ("POT", "Potash 25kg", "bag", 12500),
    ("DRIP", "Drip tape", "roll", 42000),
    ("TRAY", "Seed tray", "pcs", 350),
    ("GLV", "Work gloves", "pair", 600),
    ("TAPE", "Packing tape", "roll", 450),
    ("LBL", "Labels 1000", "box", 2800),
)


def order_lines(n: int, items: Sequence[tuple[int, str, int]]) -> list[tuple[int, str, int, int]]:
    """Order n's lines: 1-3 of (item id, description, qty, unit price in cents)."""
    h = mix(n)
    out = []
    for k in range(1 + h % 3):
        item_id, name, price = items[(h >> (3 + 4 * k)) % len(items)]
        out.append((item_id, name, 1 + (h >> (9 + 5 * k)) % 200, price))
    return out


def order_status(n: int) -> str:
    return _STATUS_BY_PERCENT[(mix(n) >> 7) % 100]


@dataclass
class Seeded:
    """What a benchmark run needs to know about the seeded data."""

    workspace_id: int
    login: str
    member_id: int
    order_ids: tuple[int, int] = (0, 0)  # first and last id of the seeded orders
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- master data ----------------------------------------------------------------------------------


def add_suppliers(ws_id: int, total: int) -> list[int]:
    """Top the suppliers up to `total` (the demo has SUP-001..003); returns all supplier ids."""
    existing = list(db.session.scalars(sa.select(Party.id).where(Party.is_supplier.is_(True))))
    rows = []
    for i in range(len(existing) + 1, total + 1):
        name = (
            f"{CITIES[i % len(CITIES)]}{TRADES[(i // len(CITIES)) % len(TRADES)]}有限公司 {i:03d}"
        )
        rows.append(
            {
                "workspace_id": ws_id,
                "code": f"SUP-{i:03d}",
                "name": name,
                "is_supplier": True,
                "is_customer": False,
                "bank_name": "中国工商银行",
                "bank_account": f"6222 0000 {i:04d}",
                "payment_terms": "month_end",
            }
        )
    if rows:
        db.session.connection().execute(sa.insert(Party.__table__), rows)
    return list(db.session.scalars(sa.select(Party.id).where(Party.is_supplier.is_(True))))


def add_items(ws_id: int, total: int) -> list[tuple[int, str, int]]:
    """Top the stock items up to `total`; returns (id, name, standard price in cents) of each."""
    stock = Item.is_stock.is_(True)
    have = db.session.scalar(sa.select(sa.func.count(Item.id)).where(stock)) or 0
    rows = []
    for i in range(have, total):
        code, name, unit, cents = MATERIALS[i % len(MATERIALS)]
        size = i // len(MATERIALS) + 1
        rows.append(
            {
                "workspace_id": ws_id,
                "code": f"{code}-{size:03d}",
                "name": f"{name} #{size}",
                "unit": unit,
                "standard_price": money(cents + 10 * size),
                "is_stock": True,
            }
        )
    if rows:
        db.session.connection().execute(sa.insert(Item.__table__), rows)
    found = db.session.execute(
        sa.select(Item.id, Item.name, Item.standard_price).where(stock).order_by(Item.id)
    )
    return [(i, name, int(price * 100)) for i, name, price in found]


# --- purchase orders ------------------------------------------------------------------------------

ORDER_COLUMNS = "id workspace_id number status supplier_id buyer_id is_asset amount_total sent_at confirmed_at supplier_reference expected_on created_at"
LINE_COLUMNS = (
    "id workspace_id order_id item_id description qty unit_price amount received_qty invoiced_qty"
)


def add_orders(
    ws_id: int,
    count: int,
    suppliers: Sequence[int],
    items: Sequence[tuple[int, str, int]],
    buyer: int,
) -> tuple[int, int, int]:
    """`count` orders over the last two years, oldest first; returns (first id, last id, lines)."""
    first = next_id("purchase_order")
    numbers = Numbers("PO")
    end = utcnow()
    start = end - dt.timedelta(days=730)
    step = (end - start) / max(count, 1)

    def orders() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            created = start + step * n
            status = order_status(n)
            total = sum(q * p for _, _, q, p in order_lines(n, items))
            sent = created + dt.timedelta(hours=2) if status != "draft" else None
            yield (
                first + n,
                ws_id,
                numbers.next(created.year),
                status,
                suppliers[(mix(n) >> 11) % len(suppliers)],
                buyer,
                False,
                money(total),
                sent,
                created + dt.timedelta(days=1) if sent else None,
                f"SO{mix(n) % 1_000_000:06d}" if sent else "",
                (created + dt.timedelta(days=14)).date(),
                created,
            )

    write("purchase_order", ORDER_COLUMNS, orders())
    numbers.save()
    first_line = next_id("purchase_order_line")
    lines = 0

    def order_line_rows() -> Iterator[tuple[Any, ...]]:
        nonlocal lines
        for n in range(count):
            status = order_status(n)
            for item_id, name, qty, price in order_lines(n, items):
                got = (
                    qty if status in RECEIVED else qty // 2 if status == "partially_received" else 0
                )
                yield (
                    first_line + lines,
                    ws_id,
                    first + n,
                    item_id,
                    name,
                    Decimal(qty),
                    money(price),
                    money(qty * price),
                    Decimal(got),
                    Decimal(qty if status in BILLED else 0),
                )
                lines += 1

    write("purchase_order_line", LINE_COLUMNS, order_line_rows())
    return first, first + count - 1, lines


def add_order_events(ws_id: int, first: int, last: int, actor_user_id: int) -> int:
    """The audit trail the order pages show: a `create` event per order and an `update` (status,
    supplier's reference) per order past draft, written server-side (INSERT ... SELECT). The hash
    chain is a placeholder: `flask suite verify-audit` would flag these rows."""
    conn = db.session.connection()
    pg = conn.dialect.name == "postgresql"
    obj, arr = ("json_build_object", "json_build_array") if pg else ("json_object", "json_array")
    columns = (
        "workspace_id, entity_type, entity_id, seq, action, actor_id, occurred_at, context, "
        "payload, prev_hash, hash"
    )
    base = (
        "SELECT workspace_id, 'purchase_order', CAST(id AS TEXT), {seq}, '{action}', "
        ":actor, {at}, '{{}}', {payload}, :zero, :hash FROM purchase_order "
        "WHERE workspace_id = :ws AND id BETWEEN :first AND :last"
    )
    created = base.format(
        seq=1,
        action="create",
        at="created_at",
        payload=f"{obj}('values', {obj}('number', number, 'status', 'draft', 'supplier_id', "
        "supplier_id, 'amount_total', CAST(amount_total AS TEXT), 'buyer_id', buyer_id))",
    )
    moved = base.format(
        seq=2,
        action="update",
        at="sent_at",
        payload=f"{obj}('changes', {obj}('status', {arr}('draft', status), "
        f"'supplier_reference', {arr}('', supplier_reference)))",
    )
    params = {
        "actor": actor_user_id,
        "zero": "0" * 64,
        "hash": "f" * 64,
        "ws": ws_id,
        "first": first,
        "last": last,
    }
    written = 0
    for select in (created, moved + " AND status <> 'draft'"):
        result = conn.execute(sa.text(f"INSERT INTO audit_event ({columns}) {select}"), params)
        written += result.rowcount
    return written


# --- all of it ------------------------------------------------------------------------------------


def seed(
    orders: int,
    tasks: int,
    *,
    login: str = "buyer",
    suppliers: int = 20,
    items: int = 50,
    members: int = 300,
    my_share: float = 0.05,
    audit: bool = True,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Seeded:
    """The demo workspace plus `orders` purchase orders (1-3 lines each, with their audit events
    unless `audit` is false) from `suppliers` suppliers, `members` extra people and an inbox of
    `tasks` tasks; commits."""
    clock = time.perf_counter()
    ws, _ = seed_demo()
    with use_workspace(ws.id):
        row = db.session.execute(
            sa.select(Membership.id, User.id)
            .join(User, User.id == Membership.user_id)
            .where(User.login == login)
        ).first()
        if row is None:
            raise SystemExit(f"no member {login!r} in the demo workspace")
        me, my_user = row
        out = Seeded(workspace_id=ws.id, login=login, member_id=me)
        skip_fk_checks()
        supplier_ids = add_suppliers(ws.id, suppliers)
        item_rows = add_items(ws.id, items)
        member_ids = add_members(ws.id, members)
        out.seconds["master_data"] = time.perf_counter() - clock
        progress(f"master data: {len(supplier_ids)} suppliers, {len(item_rows)} items")
        clock = time.perf_counter()
        first, last, lines = add_orders(ws.id, orders, supplier_ids, item_rows, me)
        out.order_ids = (first, last)
        out.seconds["orders"] = time.perf_counter() - clock
        progress(f"{orders} orders, {lines} lines in {out.seconds['orders']:.1f}s")
        if audit and orders:
            clock = time.perf_counter()
            out.counts["order_events"] = add_order_events(ws.id, first, last, my_user)
            out.seconds["order_events"] = time.perf_counter() - clock
        clock = time.perf_counter()
        written = add_inbox(ws.id, tasks, member_ids, me, my_share)
        out.seconds["inbox"] = time.perf_counter() - clock
        fix_sequences(
            (
                "user",
                "membership",
                "purchase_order",
                "purchase_order_line",
                "general_request",
                "process_instance",
                "workflow_task",
            )
        )
        out.counts |= {
            "orders": orders,
            "lines": lines,
            "suppliers": len(supplier_ids),
            "items": len(item_rows),
            "members": len(member_ids),
            "tasks": written,
        }
    db.session.commit()
    return out
