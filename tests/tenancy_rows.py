"""Rows in every WorkspaceScoped model of the business modules (crm, inventory, purchasing,
inspections with the checklist kernel's templates, checkpoints, runs and files), made
the way the modules make them, for the tenant-isolation tests (tests/suite/test_tenancy.py on
SQLite, tests/pg/test_tenancy_pg.py on PostgreSQL).

    rows = populate_modules(app, ws.id, marker="BETA-SECRET", prefix="beta")

Everything goes through the modules' services and the workflow engine (no state set by hand):
people with the roles the processes ask for, suppliers with contacts, a category, items, a
warehouse with two locations, a purchase request approved by the department head into two orders
(one confirmed, 150 of 200 received, one left in draft), a second request left in draft, a
blocked invoice (exception process for the buyer) and a matched one (payment request submitted
to finance), a material issue issued (stock falls below the reorder point: low-stock alert) and
one requested, a transfer, a stocktake submitted (variance process) and one still counting;
then the outbox is drained, so the people told (buyers, approvers) have in-app notifications.
`marker` is written into every name, note and reason that takes text, so a page or an export
that shows any of it gives the leak away.

Also here, for tests/suite/test_tenancy*.py (plain names: a test module may import them) and the
fixtures in tests/suite/tenancy_fixtures.py: the markers, `module_models()` and `rows_of()`.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask

from modules.crm.models import Party
from modules.crm.services import ContactInput, PartyInput, add_contact, save_party
from modules.inspections.models import CorrectiveAction, InspectionRound
from modules.inventory import master
from modules.inventory.models import Item, Location, LowStockAlert, StockBalance, Warehouse
from modules.inventory.services import issues, stocktakes, transfers
from modules.inventory.services.lines import LineInput as StockLine
from modules.purchasing.models import (
    PaymentRequest,
    PurchaseOrder,
    PurchaseRequest,
    SupplierInvoice,
)
from modules.purchasing.services import invoices, orders, receipts
from modules.purchasing.services import requests as purchase_requests
from suite.auth.models import Membership, Role
from suite.auth.services import save_department, save_member
from suite.db import db, utcnow
from suite.notify.delivery import drain
from suite.tenancy import scoped_models, system, use_workspace
from suite.workflow import engine
from suite.workflow.models import WorkflowTask

PASSWORD = "tenancy-rows-pass"
# The tenancy tests' markers (tests/suite/test_tenancy*.py): B's kernel rows carry SECRET, its
# module rows DOC_SECRET (B's own pages show SECRET in the header); A's module rows ACME_OWN.
SECRET = "BETA-SECRET"
DOC_SECRET = f"{SECRET}-DOC"
ACME_OWN = "ACME-OWN"
MODULES = ("crm", "inventory", "purchasing", "inspections")
# login suffix -> (role codes, in the marker's Production department?)
PEOPLE = {
    "head": (("suite.staff",), True),
    "staff": (("suite.staff",), True),
    "finance": (("suite.finance",), False),
    "buyer": (("purchasing.buyer",), False),
    "keeper": (("inventory.warehouse",), False),
    "owner": (("inspections.area_owner",), True),
    "inspector": (("inspections.inspector",), True),
}


@dataclass
class ModuleRows:
    """Ids of what was made, by name (members by login suffix: staff, head, finance, ...)."""

    members: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def _key() -> str:
    return uuid.uuid4().hex


def _people(marker: str, prefix: str, rows: ModuleRows) -> None:
    """A Production department headed by `<prefix>-head`, and the people the processes need."""
    dept = save_department(None, name=f"{marker} Production", parent_id=None, head_id=None)
    for suffix, (codes, in_dept) in PEOPLE.items():
        role_ids = list(db.session.scalars(sa.select(Role.id).where(Role.code.in_(codes))))
        assert len(role_ids) == len(codes), f"unknown role in {codes}"
        member = save_member(
            None,
            login=f"{prefix}-{suffix}",
            display_name=f"{marker} {suffix}",
            email=None,
            password=PASSWORD,
            department_id=dept.id if in_dept else None,
            manager_id=rows.members.get("head") if in_dept and suffix != "head" else None,
            role_ids=role_ids,
            active=True,
        )
        rows.members[suffix] = member.id
    save_department(dept, name=f"{marker} Production", parent_id=None, head_id=rows.members["head"])
    rows.ids["department"] = dept.id
    db.session.commit()


def _master_data(marker: str, rows: ModuleRows) -> None:
    """Two suppliers with a contact each, a category, two stock items, a warehouse (MAIN + a
    shelf)."""
    for n, suffix in enumerate(("SUP", "SUP2"), 1):
        party = save_party(
            None,
            PartyInput(
                code=f"{marker}-{suffix}",
                name=f"{marker} supplier {n}",
                is_supplier=True,
                is_customer=n == 2,
                email=f"sales{n}@{marker.lower()}.example.com",
                address=f"{marker} road {n}",
                bank_name=f"{marker} bank",
                bank_account=f"6222 0000 000{n}",
                notes=f"{marker} notes",
            ),
        )
        add_contact(party, ContactInput(name=f"{marker} contact {n}", title=marker))
        rows.ids[f"party{n}"] = party.id
    category = master.save_category(None, f"{marker} category")
    rows.ids["category"] = category.id
    for n, (code, price) in enumerate((("BOX", "2.40"), ("BAG", "180.00")), 1):
        item = master.save_item(
            None,
            master.ItemInput(
                code=f"{marker}-{code}",
                name=f"{marker} item {code.lower()}",
                category_id=category.id,
                barcode=f"{marker}-{n}",
                reorder_point=Decimal("500"),
                reorder_qty=Decimal("600"),
                standard_price=Decimal(price),
            ),
        )
        rows.ids[f"item{n}"] = item.id
    warehouse = master.save_warehouse(
        None, code=f"{marker}-WH", name=f"{marker} store", active=True
    )
    shelf = master.save_location(None, warehouse, code="SHELF", name=f"{marker} shelf", active=True)
    rows.ids["warehouse"] = warehouse.id
    rows.ids["main"] = next(loc.id for loc in warehouse.locations if loc.id != shelf.id)
    rows.ids["shelf"] = shelf.id
    db.session.commit()


def _approve_all(instance_id: int) -> None:
    """Every open approval task approved by its assignee until the process ends."""
    while True:
        tasks = list(
            db.session.scalars(
                sa.select(WorkflowTask)
                .where(
                    WorkflowTask.instance_id == instance_id,
                    WorkflowTask.status == "open",
                    WorkflowTask.kind == "approval",
                )
                .order_by(WorkflowTask.id)
            )
        )
        if not tasks:
            return
        for task in tasks:
            engine.command(
                instance_id, "approve", task.assignee_id, task_id=task.id, key=_key(), comment="OK"
            )
        db.session.commit()


def _purchasing(marker: str, rows: ModuleRows) -> None:
    """Request -> two orders; one confirmed and received in part, invoiced twice (blocked and
    matched, the latter with its payment request); a second request stays a draft."""
    member = {k: db.session.get(Membership, v) for k, v in rows.members.items()}
    ids = rows.ids
    req = purchase_requests.save_request(
        None,
        member["staff"],
        lines=[
            purchase_requests.LineInput(
                ids["item1"], ids["party1"], Decimal("200"), Decimal("2.40"), f"{marker} line"
            ),
            purchase_requests.LineInput(
                ids["item2"], ids["party2"], Decimal("2"), Decimal("180.00"), f"{marker} line"
            ),
        ],
        project=f"{marker} project",
        reason=f"{marker} reason",
    )
    purchase_requests.submit_request(req, member["staff"], key=_key())
    db.session.commit()
    _approve_all(req.instance_id)
    req = db.session.get(PurchaseRequest, req.id)
    assert req.status == "ordered", req.status
    ids["request"] = req.id
    box_order, bag_order = purchase_requests.orders_of(req)
    ids["order"], ids["draft_order"] = box_order.id, bag_order.id
    orders.send_order(box_order, member["buyer"])
    orders.confirm_order(box_order, member["buyer"], f"{marker}-REF")
    db.session.commit()
    line = box_order.lines[0]
    ids["order_line"] = line.id
    receipt = receipts.post_receipt(
        box_order,
        member["keeper"],
        location_id=ids["main"],
        quantities={line.id: Decimal("150")},
        note=f"{marker} receipt",
    )
    ids["receipt"] = receipt.id
    db.session.commit()
    for name, qty in (("blocked_invoice", "200"), ("invoice", "150")):
        result = invoices.enter_invoice(
            db.session.get(PurchaseOrder, box_order.id),
            member["buyer"],
            invoice_no=f"{marker}-{name}",
            invoice_date=None,
            lines=[invoices.InvoiceLineInput(line.id, Decimal(qty), line.unit_price)],
            key=_key(),
        )
        assert result.matched == (name == "invoice"), result.problems
        ids[name] = result.invoice.id
        db.session.commit()
    blocked = db.session.get(SupplierInvoice, ids["blocked_invoice"])
    assert blocked.status == "blocked" and blocked.instance_id is not None
    draft = purchase_requests.save_request(
        None,
        member["staff"],
        lines=[
            purchase_requests.LineInput(
                ids["item1"], ids["party1"], Decimal("10"), Decimal("2.40"), f"{marker} draft"
            )
        ],
        project=f"{marker} project",
        reason=f"{marker} draft reason",
    )
    ids["draft_request"] = draft.id
    db.session.commit()


def _stock(marker: str, rows: ModuleRows) -> None:
    """An issue of 30 (150 -> 120, below the reorder point of 500: an alert), one requested,
    a transfer of 20 to the shelf, a stocktake submitted (count 98 of 100) and one counting."""
    member = {k: db.session.get(Membership, v) for k, v in rows.members.items()}
    ids = rows.ids
    line = [StockLine(ids["item1"], Decimal("30"))]
    mi = issues.create(member["staff"], ids["main"], f"{marker} purpose", line)
    issues.issue(mi, member["keeper"])
    ids["issue"] = mi.id
    waiting = issues.create(
        member["staff"], ids["main"], f"{marker} waiting", [StockLine(ids["item1"], Decimal("5"))]
    )
    ids["requested_issue"] = waiting.id
    db.session.commit()
    tr = transfers.create(
        member["keeper"],
        ids["main"],
        ids["shelf"],
        f"{marker} transfer",
        [StockLine(ids["item1"], Decimal("20"))],
    )
    ids["transfer"] = tr.id
    db.session.commit()
    st = stocktakes.create(member["keeper"], ids["main"], f"{marker} stocktake")
    assert [(ln.item_id, ln.system_qty) for ln in st.lines] == [(ids["item1"], Decimal("100"))]
    stocktakes.save_counts(st, {st.lines[0].id: Decimal("98")})
    stocktakes.submit(st, member["keeper"], key=_key())
    ids["stocktake"] = st.id
    db.session.commit()
    counting = stocktakes.create(member["keeper"], ids["shelf"], f"{marker} counting")
    ids["counting_stocktake"] = counting.id
    db.session.commit()


def _png(color: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buf, "PNG")
    return buf.getvalue()


def _inspections(marker: str, prefix: str, rows: ModuleRows) -> None:
    """Through the checklist and inspections services: a published template, a checkpoint open to
    anonymous reports with a revoked and a live token, a daily schedule, a submitted run with a
    failed item (photo, note; a corrective action whose fix is recorded; today's round done),
    and a reported problem."""
    from modules.inspections.services import actions, findings
    from modules.inspections.services import rounds as inspection_rounds
    from modules.inspections.services.photos import Upload
    from suite.checklists import services as checklists

    member = {k: db.session.get(Membership, v) for k, v in rows.members.items()}
    template = checklists.save_template(None, name=f"{marker} round")
    checklists.rename_section(template, 0, marker)
    key = checklists.add_item(template, 0, "pass_fail")
    checklists.update_item(
        template,
        key,
        {"label": marker, "required": "y", "require_photo": "y", "corrective_action": "y"},
    )
    checklists.publish(template, member["inspector"])
    point = checklists.save_checkpoint(
        None,
        name=f"{marker} door",
        code=f"{prefix[:10]}-CP1".upper(),
        site=marker,
        area=marker,
        template_id=template.id,
        owner_id=member["owner"].id,
        anonymous_reports=True,
    )
    checklists.revoke_token(point)
    rows.ids["checkpoint"] = point.id
    zone = inspection_rounds.zone(point.workspace_id)
    hour = utcnow().astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    schedule = inspection_rounds.save_schedule(
        None,
        checkpoint_id=point.id,
        frequency="daily",
        weekdays=(),
        time_of_day=hour.time(),
        window_hours=24,
        inspector_id=member["inspector"].id,
    )
    rows.ids["schedule"] = schedule.id
    db.session.commit()
    run = checklists.open_run(point, member["inspector"])
    checklists.save_answer(run, key, result="fail", note=marker)
    checklists.add_photo(run, key, _png("red"), name=f"{marker}.png", member=member["inspector"])
    checklists.submit(run, member["inspector"], key=_key())
    rows.ids["run"] = run.id
    db.session.commit()
    ca = db.session.scalar(sa.select(CorrectiveAction).where(CorrectiveAction.run_id == run.id))
    actions.record_fix(
        ca, member["owner"], note=marker, photos=[Upload(_png("green"), "fix.png")], key=_key()
    )
    rows.ids["corrective_action"] = ca.id
    finding = findings.report(
        point,
        description=marker,
        contact=marker,
        photo=Upload(_png("blue"), "finding.png"),
        address=f"{prefix}-address",
    )
    rows.ids["finding"] = finding.id
    db.session.commit()


def populate_modules(app: Flask, ws_id: int, *, marker: str, prefix: str) -> ModuleRows:
    """Rows in every crm / inventory / purchasing / inspections (and checklist) model of
    workspace `ws_id` (committed).

    `prefix` makes the logins unique across workspaces (`<prefix>-staff`, ...; password
    `PASSWORD`); `marker` goes into every text a page or an export may show.
    """
    rows = ModuleRows()
    with app.app_context(), use_workspace(ws_id):
        try:
            _people(marker, prefix, rows)
            _master_data(marker, rows)
            _purchasing(marker, rows)
            _stock(marker, rows)
            _inspections(marker, prefix, rows)
            _check(rows)
            drain()  # in-app notifications (low stock, tasks, cc); e-mails go to instance/mail
        finally:
            db.session.remove()
    return rows


def _check(rows: ModuleRows) -> None:
    """The states the callers rely on (a service that changes its rules shows up here)."""
    order = db.session.get(PurchaseOrder, rows.ids["order"])
    assert order.status == "partially_received", order.status
    assert db.session.get(PurchaseOrder, rows.ids["draft_order"]).status == "draft"
    assert db.session.get(Party, rows.ids["party1"]).contacts
    assert db.session.get(Item, rows.ids["item1"]).category_id is not None
    assert len(db.session.get(Warehouse, rows.ids["warehouse"]).locations) == 2
    assert db.session.get(Location, rows.ids["shelf"]).active
    # 150 received, 30 issued, 20 moved to the shelf; the alert was raised at 120 (< 500)
    on_hand = {
        loc: db.session.scalar(
            sa.select(StockBalance.qty).where(
                StockBalance.item_id == rows.ids["item1"],
                StockBalance.location_id == rows.ids[loc],
            )
        )
        for loc in ("main", "shelf")
    }
    assert on_hand == {"main": Decimal("100.000"), "shelf": Decimal("20.000")}
    alert = db.session.scalar(sa.select(LowStockAlert))
    assert (alert.item_id, alert.on_hand) == (rows.ids["item1"], Decimal("120.000"))
    ca = db.session.get(CorrectiveAction, rows.ids["corrective_action"])
    assert (ca.status, ca.assignee_id) == ("fixed", rows.members["owner"]), ca.status
    done = db.session.scalar(
        sa.select(InspectionRound).where(InspectionRound.run_id == rows.ids["run"])
    )
    assert done is not None and done.status == "done"
    payment = db.session.scalar(sa.select(PaymentRequest))
    assert (payment.invoice_id, payment.amount, payment.status) == (
        rows.ids["invoice"],
        Decimal("360.00"),
        "submitted",
    )


def module_models() -> list[type]:
    """The scoped models of the business modules whose rows tests/tenancy_rows.py makes."""
    return [
        m
        for m in scoped_models()
        if m.__module__.startswith(tuple(f"modules.{n}." for n in MODULES))
    ]


def rows_of(app: Flask, ws_id: int) -> dict[type, dict[tuple, dict]]:
    """{model: {id: snapshot}} of every scoped model's rows in one workspace (no filter)."""
    from suite.audit.recorder import snapshot

    out = {}
    with app.app_context(), system():
        for model in scoped_models():
            rows = db.session.scalars(sa.select(model).where(model.workspace_id == ws_id))
            out[model] = {sa.inspect(r).identity: snapshot(r) for r in rows}
    return out
