"""Customers and suppliers in the JSON API: list (search, filters, keyset), read, create, change.

Registered on the kernel's API blueprint (Manifest.api); the rules are `modules.crm.services`'.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from modules.crm import services
from modules.crm.models import PAYMENT_TERMS, Party
from suite.api.blueprint import Invalid, bp
from suite.api.serialize import iso
from suite.api.spec import BOOL, INT, STR, TIME, nullable, obj, ref
from suite.api.views.common import (
    args,
    commit_or_invalid,
    created,
    json_body,
    may,
    newest_first,
    paging,
)
from suite.tenancy import get_or_404

TEXTS = (
    "code",
    "name",
    "phone",
    "email",
    "address",
    "tax_id",
    "bank_name",
    "bank_account",
    "payment_terms",
    "notes",
)
FLAGS = ("is_supplier", "is_customer", "active")
CONTACT_TEXTS = ("name", "title", "phone", "email")

_contact = obj(
    ["id", "name", "title", "phone", "email"], id=INT, **dict.fromkeys(CONTACT_TEXTS, STR)
)
_contact_input = {
    **obj(["name"], **{k: {**STR, "maxLength": services.LIMITS[k]} for k in CONTACT_TEXTS}),
    "additionalProperties": False,
}
_party_texts = {k: {**STR, "maxLength": services.LIMITS.get(k, 20)} for k in TEXTS}
_party_texts["payment_terms"] = {**STR, "enum": list(PAYMENT_TERMS)}
_party_texts["bank_account"] |= {"pattern": r"^[0-9 ]*$"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "PartyRef": obj(["id", "code", "name"], id=INT, code=STR, name=STR),
    "PartyContact": _contact,
    "Party": obj(
        ["id", *TEXTS, *FLAGS, "created_at", "contacts"],
        id=INT,
        **{
            k: {**nullable(STR), "description": "null without the bank-details permission"}
            if k in ("bank_name", "bank_account")
            else STR
            for k in TEXTS
        },
        **dict.fromkeys(FLAGS, BOOL),
        created_at=TIME,
        contacts={"type": "array", "items": ref("PartyContact")},
    ),
    "PartyInput": {
        **obj(
            [],
            **_party_texts,
            **dict.fromkeys(FLAGS, BOOL),
            contacts={
                "type": "array",
                "items": _contact_input,
                "description": "When given, the party's contacts become exactly these.",
            },
        ),
        "additionalProperties": False,
        "description": "Create: `code`, `name` and a supplier or customer flag are required. "
        "Change: only the fields sent are changed.",
    },
    "PartyPage": obj(
        ["items", "next_after"],
        items={"type": "array", "items": ref("Party")},
        next_after=nullable(INT),
    ),
}


def party_json(p: Party) -> dict[str, Any]:
    out: dict[str, Any] = {"id": p.id}
    out |= {k: getattr(p, k) for k in (*TEXTS, *FLAGS)}
    if not services.may_see_bank():  # S10.3: finance's fields
        out |= dict.fromkeys(services.BANK_FIELDS)
    out["created_at"] = iso(p.created_at)
    out["contacts"] = [
        {"id": c.id, **{k: getattr(c, k) for k in CONTACT_TEXTS}} for c in p.contacts
    ]
    return out


@bp.route("/parties")
def party_list() -> Response:
    """Customers and suppliers, newest first.
    ---
    get:
      tags: [parties]
      parameters:
        - {name: q, in: query, schema: {type: string}, description: 'Code, name, phone or contact.'}
        - {name: kind, in: query, schema: {type: string, enum: [supplier, customer]}}
        - name: status
          in: query
          schema: {type: string, enum: [active, inactive, all], default: all}
        - after
        - limit
      responses:
        200:
          description: One page of parties.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PartyPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("crm.party.read")
    paging()  # a bad after or limit is refused before the filters
    q = args(kind=services.KINDS, status=services.STATUSES)
    stmt = services.party_query(request.args.get("q", "")[:100], q["kind"], q["status"] or "all")
    rows, next_after = newest_first(stmt.options(selectinload(Party.contacts)), Party.id)
    return jsonify({"items": [party_json(p) for p in rows], "next_after": next_after})


def _input(body: dict[str, Any], party: Party | None) -> tuple[services.PartyInput, list | None]:
    """The body merged over the party's values (or the defaults); type errors raise Invalid."""
    errors: dict[str, list[str]] = {}
    if party is None:
        base = services.PartyInput(code="", name="")
    else:
        base = services.PartyInput(**{k: getattr(party, k) for k in (*TEXTS, *FLAGS)})
    for name in TEXTS:
        if name in body and not isinstance(body[name], str):
            errors[name] = [_("Give a text.")]
        elif name in body:
            setattr(base, name, body[name])
    for name in FLAGS:
        if name in body and not isinstance(body[name], bool):
            errors[name] = [_("Give true or false.")]
        elif name in body:
            setattr(base, name, body[name])
    if not services.may_see_bank():
        for name in services.BANK_FIELDS:
            if name in body:
                errors.setdefault(name, [_("You may not change bank details.")])
            setattr(base, name, getattr(party, name) if party is not None else "")
    contacts = None
    if "contacts" in body:
        contacts = _contacts(body["contacts"], errors)
    problems = services.party_problems(base, party)
    for name, message in problems.items():
        errors.setdefault(name, [message])
    if errors:
        raise Invalid(errors)
    return base, contacts


def _contacts(value: Any, errors: dict[str, list[str]]) -> list[services.ContactInput]:
    if not isinstance(value, list):
        errors["contacts"] = [_("Give a list.")]
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - set(CONTACT_TEXTS):
            errors[f"contacts[{i}]"] = [_("Give name, title, phone and e-mail only.")]
            continue
        if any(not isinstance(item.get(k, ""), str) for k in CONTACT_TEXTS):
            errors[f"contacts[{i}]"] = [_("Give a text.")]
            continue
        data = services.ContactInput(**{k: item.get(k, "") for k in CONTACT_TEXTS})
        for name, message in services.contact_problems(data).items():
            errors[f"contacts[{i}].{name}"] = [message]
        out.append(data)
    return out


def _save(party: Party | None, body: dict[str, Any]) -> Party:
    data, contacts = _input(body, party)

    def save() -> Party:
        saved = services.save_party(party, data)
        if contacts is not None:
            services.replace_contacts(saved, contacts)
        return saved

    return commit_or_invalid(save)


@bp.route("/parties", methods=["POST"])
def party_create() -> Response:
    """Create a customer or supplier.
    ---
    post:
      tags: [parties]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PartyInput'}
      responses:
        201:
          description: The new party.
          headers:
            Location: {description: The party's URL in this API., schema: {type: string}}
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Party'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("crm.party.manage")
    party = _save(None, json_body({*TEXTS, *FLAGS, "contacts"}))
    return created(party_json(party), "api.party_detail", party_id=party.id)


@bp.route("/parties/<int:party_id>")
def party_detail(party_id: int) -> Response:
    """One customer or supplier with its contacts.
    ---
    get:
      tags: [parties]
      responses:
        200:
          description: The party.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Party'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    may("crm.party.read")
    return jsonify(party_json(get_or_404(Party, party_id)))


@bp.route("/parties/<int:party_id>", methods=["PATCH"])
def party_update(party_id: int) -> Response:
    """Change a customer or supplier: only the fields sent.
    ---
    patch:
      tags: [parties]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PartyInput'}
      responses:
        200:
          description: The party as changed.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Party'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    may("crm.party.manage")
    party = get_or_404(Party, party_id)
    party = _save(party, json_body({*TEXTS, *FLAGS, "contacts"}))
    return jsonify(party_json(party))
