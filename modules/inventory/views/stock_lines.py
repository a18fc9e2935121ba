"""Helpers for forms with document lines (material issues, transfers): add and remove lines in
place, read the lines for a service, and put a service's refusal next to the right field.

The stocktake forms use `commit_or_show` too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request
from wtforms import FieldList

from modules.inventory.services.lines import LineInput
from suite.auth.permissions import has_permission
from suite.db import db
from suite.errors import DomainError


def line_buttons(form: Any) -> bool:
    """Handle "Add line" / "Remove" (plain submit buttons, also sent by HTMX); True if pressed.

    The form is shown again as typed, without validation messages and without saving.
    """
    if request.method != "POST":
        return False
    if "add_line" in request.form:
        if len(form.lines.entries) < form.lines.max_entries:
            form.lines.append_entry()
        return True
    remove = request.form.get("remove_line")
    if remove:
        kept = [e for e in form.lines.entries if e.name != remove]
        if kept:  # the last line stays: a document has at least one
            form.lines.entries = kept
        return True
    return False


def line_inputs(form: Any) -> list[LineInput]:
    return [LineInput(e.form.item_id.data, e.form.qty.data, e.name) for e in form.lines.entries]


def show_error(form: Any, exc: DomainError, default: str) -> None:
    """Put the service's message next to its field (`lines-2-qty`, `location_id`, ...)."""
    name = exc.field or default
    for entry in getattr(form, "lines", None) or ():
        if name.startswith(f"{entry.name}-"):
            getattr(entry.form, name[len(entry.name) + 1 :]).errors.append(exc.message)
            # WTForms computed the line forms' and the list's errors at validation: refresh
            # them so `form.errors` (and the 422 of render_form) sees this message.
            entry.form._errors = None
            form.lines.errors = [e.errors for e in form.lines.entries]
            form._errors = None
            return
    field = getattr(form, name, None)
    if field is not None and not isinstance(field, FieldList):
        field.errors.append(exc.message)
    else:
        form.form_errors.append(exc.message)


def commit_or_show(form: Any, save: Callable[[], Any], default: str) -> tuple[bool, Any]:
    """`save()` and commit: (True, its result); a refusal rolls back, goes next to its field on
    the form (else `default`) and gives (False, None)."""
    try:
        row = save()
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc, default)
        return False, None
    db.session.commit()
    return True, row


def can(permission: str) -> bool:
    return g.get("membership") is not None and has_permission(permission)
