"""Party services: validate, create and change customers and suppliers, their contacts, search.

The rules live here once; the web form, the JSON API and imports call the same functions. Each
`*_problems()` returns every problem as {field: message}; `save_*()` refuses with the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from modules.crm.models import PAYMENT_TERMS, Party, PartyContact
from suite.db import db
from suite.errors import DomainError
from suite.queries import by_active, contains, like_pattern

PAYMENT_TERM_LABELS = {
    "cash": _l("Cash on delivery"),
    "net_30": _l("Net 30 days"),
    "net_60": _l("Net 60 days"),
    "month_end": _l("Month-end settlement"),
}
KINDS = ("supplier", "customer")
STATUSES = ("active", "inactive", "all")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
BANK_ACCOUNT = re.compile(r"^[0-9 ]+$")
CODE = re.compile(r"^\S+$")
LIMITS = {  # column sizes (modules/crm/models.py)
    "code": 40,
    "name": 200,
    "phone": 60,
    "email": 200,
    "address": 300,
    "tax_id": 40,
    "bank_name": 120,
    "bank_account": 60,
    "notes": 5000,
    "title": 120,
}


@dataclass
class PartyInput:
    """What a person or a script may set on a party."""

    code: str
    name: str
    is_supplier: bool = False
    is_customer: bool = False
    phone: str = ""
    email: str = ""
    address: str = ""
    tax_id: str = ""
    bank_name: str = ""
    bank_account: str = ""
    payment_terms: str = "month_end"
    notes: str = ""
    active: bool = True

    def cleaned(self) -> PartyInput:
        """Surrounding spaces removed; inner spaces of a bank account collapsed to one."""
        out = PartyInput(**{f.name: getattr(self, f.name) for f in fields(self)})
        for f in fields(out):
            value = getattr(out, f.name)
            if isinstance(value, str):
                setattr(out, f.name, value.strip())
        out.bank_account = " ".join(out.bank_account.split())
        return out


@dataclass
class ContactInput:
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""


def email_problem(value: str) -> str | None:
    """None for an empty or well-formed address, else the message."""
    if value and not EMAIL.match(value):
        return _("Not a valid e-mail address.")
    return None


def bank_account_problem(value: str) -> str | None:
    if value and not BANK_ACCOUNT.match(value):
        return _("A bank account has digits and spaces only.")
    if value and sum(c.isdigit() for c in value) < 6:
        return _("A bank account has at least 6 digits.")
    return None


def _length_problems(values: dict[str, str]) -> dict[str, str]:
    return {
        name: _("At most %(max)d characters.", max=LIMITS[name])
        for name, value in values.items()
        if len(value) > LIMITS[name]
    }


def party_problems(data: PartyInput, party: Party | None = None) -> dict[str, str]:
    """Every problem with `data` as {field: message}; empty when it may be saved."""
    data = data.cleaned()
    texts = {f.name: getattr(data, f.name) for f in fields(data) if f.name in LIMITS}
    problems = _length_problems(texts)
    if not data.code:
        problems.setdefault("code", _("This field is required."))
    elif not CODE.match(data.code):
        problems.setdefault("code", _("A code has no spaces."))
    elif "code" not in problems and (other := _party_with_code(data.code, party)) is not None:
        problems["code"] = _(
            "The code %(code)s is already used by %(name)s.", code=other.code, name=other.name
        )
    if not data.name:
        problems.setdefault("name", _("This field is required."))
    if not (data.is_supplier or data.is_customer):
        problems["is_supplier"] = _("Tick supplier, customer or both.")
    for name, check in (("email", email_problem), ("bank_account", bank_account_problem)):
        message = check(getattr(data, name))
        if message:
            problems.setdefault(name, message)
    if data.payment_terms not in PAYMENT_TERMS:
        problems["payment_terms"] = _("Not a valid choice.")
    return problems


def _party_with_code(code: str, party: Party | None) -> Party | None:
    """Codes are unique per workspace regardless of case (SUP-001 and sup-001 are one)."""
    stmt = sa.select(Party).where(sa.func.lower(Party.code) == code.lower())
    if party is not None and party.id is not None:
        stmt = stmt.where(Party.id != party.id)
    return db.session.scalars(stmt.limit(1)).first()


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field)


def save_party(party: Party | None, data: PartyInput) -> Party:
    """Create a party (`party=None`) or change one; DomainError(field) when a rule refuses."""
    data = data.cleaned()
    _refuse(party_problems(data, party))
    if party is None:
        party = Party()
        db.session.add(party)
    for f in fields(data):
        setattr(party, f.name, getattr(data, f.name))
    try:
        with db.session.begin_nested():  # a concurrent insert of the same code (PostgreSQL)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise DomainError(_("This code is already used."), "code") from None
    return party


def contact_problems(data: ContactInput) -> dict[str, str]:
    """Every problem with a contact as {field: message}."""
    values = {
        "name": data.name.strip(),
        "title": data.title.strip(),
        "phone": data.phone.strip(),
        "email": data.email.strip(),
    }
    problems = _length_problems({k: v for k, v in values.items() if k != "email"})
    if len(values["email"]) > LIMITS["email"]:
        problems["email"] = _("At most %(max)d characters.", max=LIMITS["email"])
    if not values["name"]:
        problems.setdefault("name", _("This field is required."))
    if message := email_problem(values["email"]):
        problems.setdefault("email", message)
    return problems


def add_contact(party: Party, data: ContactInput) -> PartyContact:
    """Add a contact person to a party."""
    _refuse(contact_problems(data))
    contact = PartyContact(
        party_id=party.id,
        name=data.name.strip(),
        title=data.title.strip(),
        phone=data.phone.strip(),
        email=data.email.strip(),
    )
    db.session.add(contact)
    db.session.flush()
    db.session.expire(party, ["contacts"])
    return contact


def remove_contact(party: Party, contact: PartyContact) -> None:
    """Remove one of the party's contacts."""
    if contact.party_id != party.id:
        raise DomainError(_("This contact belongs to another party."))
    db.session.delete(contact)
    db.session.flush()
    db.session.expire(party, ["contacts"])


def replace_contacts(party: Party, contacts: list[ContactInput]) -> None:
    """The party's contacts become exactly `contacts` (the API's full update)."""
    for i, data in enumerate(contacts):
        problems = contact_problems(data)
        if problems:
            field, message = next(iter(problems.items()))
            raise DomainError(message, f"contacts[{i}].{field}")
    for contact in list(party.contacts):
        db.session.delete(contact)
    db.session.flush()
    db.session.expire(party, ["contacts"])
    for data in contacts:
        add_contact(party, data)


def _digits_only(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.replace(sa.func.replace(column, " ", ""), "-", "")


def party_query(q: str = "", kind: str | None = None, status: str = "active") -> sa.Select:
    """Parties matching a search (code, name, phone, a contact's name or phone) and filters."""
    stmt = sa.select(Party)
    q = q.strip()
    if q:
        on_party = contains([Party.code, Party.name], q)
        on_contact = contains([PartyContact.name], q)
        phone = re.sub(r"[\s-]", "", q)
        if re.search(r"\d", phone):  # "138 0000 0000" is found by "13800000000" and back
            phone_like = like_pattern(phone)
            on_party.append(_digits_only(Party.phone).like(phone_like, escape="\\"))
            on_contact.append(_digits_only(PartyContact.phone).like(phone_like, escape="\\"))
        contact_match = (
            sa.select(PartyContact.id)
            .where(PartyContact.party_id == Party.id, sa.or_(*on_contact))
            .exists()
        )
        stmt = stmt.where(sa.or_(*on_party, contact_match))
    if kind == "supplier":
        stmt = stmt.where(Party.is_supplier.is_(True))
    elif kind == "customer":
        stmt = stmt.where(Party.is_customer.is_(True))
    return by_active(stmt, Party.active, status)


BANK_FIELDS = ("bank_name", "bank_account")
BANK = "crm.party.bank"


def may_see_bank() -> bool:
    """Bank details are shown and changed only with `crm.party.bank` (S10.3)."""
    from suite.auth.permissions import has_permission

    return has_permission(BANK)


def keep_bank(values: PartyInput, party: Party | None) -> PartyInput:
    """Without the bank permission the form has no bank fields: keep the party's own."""
    if not may_see_bank():
        for name in BANK_FIELDS:
            setattr(values, name, getattr(party, name) if party is not None else "")
    return values
