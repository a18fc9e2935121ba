"""Demo parties: the suppliers S1 buys from and two customers (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa

from modules.crm.models import Party, PartyContact
from suite.db import db

PARTIES = (
    # code, name, supplier, customer, bank name, bank account, contact
    (
        "SUP-001",
        "华盛包装有限公司",
        True,
        False,
        "中国工商银行 宁波分行",
        "3901 0012 0900 1234 567",
        "王经理",
    ),
    (
        "SUP-002",
        "丰收农资有限公司",
        True,
        False,
        "中国农业银行 寿光支行",
        "1523 0101 0400 7654 321",
        "李红",
    ),
    ("SUP-003", "联想办公设备", True, False, "招商银行 北京分行", "1109 0771 2310 602", "张伟"),
    ("CUS-001", "绿源农场", False, True, "", "", "赵强"),
    ("CUS-002", "鲜果汇超市", False, True, "", "", "陈静"),
)


def seed(workspace: object) -> None:
    for code, name, supplier, customer, bank, account, contact in PARTIES:
        if db.session.scalar(sa.select(Party.id).where(Party.code == code)):
            continue
        party = Party(
            code=code,
            name=name,
            is_supplier=supplier,
            is_customer=customer,
            bank_name=bank,
            bank_account=account,
            payment_terms="month_end",
            phone="0571-8888 0000",
        )
        party.contacts.append(PartyContact(name=contact, phone="138 0000 0000"))
        db.session.add(party)
    db.session.flush()
