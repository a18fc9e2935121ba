"""Stock transfers (调拨单): from one location to another, posted at once.

The value moves at the source's average cost: each line posts out of the source, then into the
destination at exactly the value that went out, so the total stock value does not change.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from modules.inventory.models import StockTransfer, StockTransferLine
from modules.inventory.services.lines import LineInput, check_lines, location
from modules.inventory.services.low_stock import after_post
from modules.inventory.stock import Document, Move, lock_balances, post
from suite.auth.models import Membership
from suite.db import db
from suite.documents import next_number
from suite.errors import DomainError

DOC_TYPE = "inventory.stock_transfer"


def create(
    actor: Membership,
    from_location_id: int | None,
    to_location_id: int | None,
    note: str,
    lines: Sequence[LineInput],
) -> StockTransfer:
    """Record and post a transfer (TR-YYYY-NNNN); refused whole when the source is short."""
    source = location(from_location_id, "from_location_id")
    target = location(to_location_id, "to_location_id")
    if source.id == target.id:
        raise DomainError(_("Choose two different locations."), "to_location_id")
    checked = check_lines(lines)
    transfer = StockTransfer(
        number=next_number("TR"),
        from_location_id=source.id,
        to_location_id=target.id,
        note=(note or "").strip()[:300],
        created_by_id=actor.id,
    )
    transfer.lines = [StockTransferLine(item_id=item.id, qty=qty) for item, qty, _f in checked]
    db.session.add(transfer)
    db.session.flush()
    doc = Document(DOC_TYPE, transfer.id, transfer.number)
    lock_balances(
        [(item.id, source.id) for item, _q, _f in checked]
        + [(item.id, target.id) for item, _q, _f in checked]
    )
    out = post(
        [Move(item.id, source.id, -qty, "transfer", field=f"{f}-qty") for item, qty, f in checked],
        doc,
        actor.id,
        alerts=False,
    )
    into = [Move(m.item_id, target.id, -m.qty, "transfer", value=-m.value) for m in out]
    post(into, doc, actor.id, alerts=False)
    after_post(out + into)  # the total did not change: checked once, after both halves
    return transfer
