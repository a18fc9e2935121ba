"""Material issues (领料单, S7.1): a department requests items; the warehouse issues them.

Lifecycle: requested -> issued | cancelled. Issuing posts `issue` moves (stock falls) all or
nothing; more than is on hand is refused with the on-hand quantity next to the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from modules.inventory.models import MaterialIssue, MaterialIssueLine, StockMove
from modules.inventory.services.lines import LineInput, check_lines, check_qty, location
from modules.inventory.stock import Document, Move, post
from suite.auth.models import Membership
from suite.db import db, utcnow
from suite.documents import next_number
from suite.errors import DomainError

DOC_TYPE = "inventory.material_issue"
REQUESTED, ISSUED, CANCELLED = "requested", "issued", "cancelled"


def create(
    requester: Membership, location_id: int | None, purpose: str, lines: Sequence[LineInput]
) -> MaterialIssue:
    """Record a request for items from one location (MI-YYYY-NNNN); stock does not move yet."""
    loc = location(location_id)
    checked = check_lines(lines)
    mi = MaterialIssue(
        number=next_number("MI"),
        status=REQUESTED,
        requester_id=requester.id,
        department_id=requester.department_id,
        location_id=loc.id,
        purpose=(purpose or "").strip()[:300],
    )
    mi.lines = [MaterialIssueLine(item_id=item.id, qty=qty) for item, qty, _f in checked]
    db.session.add(mi)
    db.session.flush()
    return mi


def _locked(mi: MaterialIssue) -> MaterialIssue:
    """The issue row, locked and re-read: two keepers clicking Issue at once issue once."""
    return db.session.scalar(
        sa.select(MaterialIssue)
        .where(MaterialIssue.id == mi.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def issue(
    mi: MaterialIssue, keeper: Membership, quantities: Mapping[int, Decimal | None] | None = None
) -> list[StockMove]:
    """Issue the lines (the keeper may give less than requested, not more); stock falls."""
    mi = _locked(mi)
    if mi.status != REQUESTED:
        raise DomainError(_("This issue is %(status)s already.", status=_status(mi.status)))
    quantities = quantities or {}
    moves = []
    for line in mi.lines:
        field = f"qty-{line.id}"
        qty = check_qty(quantities.get(line.id, line.qty), field)
        if qty > line.qty:
            raise DomainError(
                _("At most the requested %(qty)s.", qty=_plain(line.qty)),
                field,
            )
        line.issued_qty = qty
        moves.append(Move(line.item_id, mi.location_id, -qty, "issue", field=field))
    written = post(moves, Document(DOC_TYPE, mi.id, mi.number), keeper.id)
    mi.status, mi.issued_by_id, mi.issued_at = ISSUED, keeper.id, utcnow()
    db.session.flush()
    return written


def cancel(mi: MaterialIssue, actor: Membership, *, as_keeper: bool = False) -> None:
    """The requester (or the warehouse) withdraws a request that has not been issued."""
    mi = _locked(mi)
    if mi.requester_id != actor.id and not as_keeper:
        raise DomainError(_("Only the requester or the warehouse can cancel this request."))
    if mi.status != REQUESTED:
        raise DomainError(_("This issue is %(status)s already.", status=_status(mi.status)))
    mi.status = CANCELLED
    db.session.flush()


def _status(status: str) -> str:
    return {ISSUED: _("issued"), CANCELLED: _("cancelled")}.get(status, status)


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
