"""Customers and suppliers (往来单位): list with search and filters, Excel export, the form, the
party's page, and its contacts added and removed in place (HTMX)."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from modules.crm import services
from modules.crm.blueprint import bp
from modules.crm.forms import ContactForm, PartyForm
from modules.crm.models import Party, PartyContact
from suite.audit.timeline import timeline_for
from suite.auth.permissions import has_permission, require
from suite.dataio.export import xlsx_response
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views.filters import choice_arg, search_arg
from suite.views.pagination import keyset
from suite.web import redirect_to, render_form, render_page, wants_fragment

READ, MANAGE = "crm.party.read", "crm.party.manage"
CHANGED = "crm:party-changed"


def _filters() -> dict[str, Any]:
    """The list's search and filters from the query string (unknown values fall back)."""
    return {
        "q": search_arg(100),
        "kind": choice_arg("kind", services.KINDS),
        "status": choice_arg("status", services.STATUSES, "active"),
    }


@bp.route("/parties")
@require(READ)
def party_list() -> Response:
    filters = _filters()
    stmt = services.party_query(**filters).options(selectinload(Party.contacts))
    page = keyset(stmt, Party.code, key_type=str)
    return render_page(
        "crm/party_list.html",
        "crm/_party_results.html",
        "party-results",
        page=page,
        filters=filters,
        terms=services.PAYMENT_TERM_LABELS,
        can_manage=has_permission(MANAGE),
    )


@bp.route("/parties/export.xlsx")
@require(READ)
def party_export() -> Response:
    """The filtered list (every page) as an Excel file."""
    filters = _filters()
    stmt = services.party_query(**filters).order_by(Party.code).execution_options(yield_per=500)
    terms = services.PAYMENT_TERM_LABELS
    bank = services.may_see_bank()
    headers = [
        _("Code"),
        _("Name"),
        _("Supplier"),
        _("Customer"),
        _("Phone"),
        _("E-mail"),
        _("Address"),
        _("Tax ID"),
        *((_("Bank"), _("Bank account")) if bank else ()),
        _("Payment terms"),
        _("Active"),
    ]
    yes, no = _("Yes"), _("No")
    rows = (
        [
            p.code,
            p.name,
            yes if p.is_supplier else no,
            yes if p.is_customer else no,
            p.phone,
            p.email,
            p.address,
            p.tax_id,
            *((p.bank_name, p.bank_account) if bank else ()),
            str(terms.get(p.payment_terms, p.payment_terms)),
            yes if p.active else no,
        ]
        for p in db.session.scalars(stmt)
    )
    return xlsx_response("parties.xlsx", _("Customers and suppliers"), headers, rows)


def _save(form: PartyForm, party: Party | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    try:
        party = services.save_party(party, services.keep_bank(form.values(), party))
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "code", form.code).errors.append(exc.message)
        return None
    db.session.commit()
    return redirect_to("crm.party_detail", _("Saved."), party_id=party.id)


def _form_page(form: PartyForm, party: Party | None) -> Response:
    return render_form(
        "crm/party_form.html",
        "crm/_party_form.html",
        "party-form",
        form,
        party=party,
        may_see_bank=services.may_see_bank(),
    )


@bp.route("/parties/new", methods=["GET", "POST"])
@require(MANAGE)
def party_new() -> Response:
    form = PartyForm()
    if request.method == "GET":
        kind = request.args.get("kind")
        form.is_supplier.data = kind == "supplier"
        form.is_customer.data = kind == "customer"
    return _save(form, None) or _form_page(form, None)


@bp.route("/parties/<int:party_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def party_edit(party_id: int) -> Response:
    party = get_or_404(Party, party_id)
    form = PartyForm(obj=party if request.method == "GET" else None)
    return _save(form, party) or _form_page(form, party)


def _contact_form(**kwargs: Any) -> ContactForm:
    # The page-wide CSRF check (the hidden field or the hx-headers token) protects the post.
    return ContactForm(prefix="contact", meta={"csrf": False}, **kwargs)


def _contacts_context(party: Party, form: ContactForm | None = None) -> dict[str, Any]:
    return {
        "party": party,
        "contact_form": form or _contact_form(formdata=None),
        "can_manage": has_permission(MANAGE),
    }


@bp.route("/parties/<int:party_id>")
@require(READ)
def party_detail(party_id: int) -> Response:
    party = get_or_404(Party, party_id)
    return _detail(party)


def _timeline(party: Party) -> list[Any]:
    """The party's history; bank details left out for those who may not see them."""
    events = timeline_for("party", party.id)
    if not services.may_see_bank():
        for entry in events:
            entry.changes = [c for c in entry.changes if c[0] not in services.BANK_FIELDS]
    return events


def _detail(party: Party, form: ContactForm | None = None, status: int = 200) -> Response:
    return render_page(
        "crm/party_detail.html",
        "crm/_party_contacts.html",
        f"party-{party.id}-contacts",
        status=status,
        terms=services.PAYMENT_TERM_LABELS,
        events=_timeline(party),
        may_see_bank=services.may_see_bank(),
        **_contacts_context(party, form),
    )


def _contacts_changed(party: Party, message: str) -> Response:
    """The contacts fragment for HTMX (with an event), else back to the party's page."""
    if wants_fragment(f"party-{party.id}-contacts"):
        resp = _detail(party)
        resp.headers["HX-Trigger"] = CHANGED
        return resp
    return redirect_to("crm.party_detail", message, party_id=party.id)


@bp.route("/parties/<int:party_id>/contacts", methods=["POST"])
@require(MANAGE)
def party_contact_add(party_id: int) -> Response:
    party = get_or_404(Party, party_id)
    form = _contact_form()
    if form.validate_on_submit():
        try:
            services.add_contact(party, form.values())
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name", form.name).errors.append(exc.message)
        else:
            db.session.commit()
            return _contacts_changed(party, _("Contact added."))
    return _detail(get_or_404(Party, party_id), form, status=422)


@bp.route("/parties/<int:party_id>/contacts/<int:party_contact_id>/delete", methods=["POST"])
@require(MANAGE)
def party_contact_delete(party_id: int, party_contact_id: int) -> Response:
    party = get_or_404(Party, party_id)
    contact = get_or_404(PartyContact, party_contact_id)
    if contact.party_id != party.id:
        abort(404)
    services.remove_contact(party, contact)
    db.session.commit()
    return _contacts_changed(party, _("Contact removed."))
