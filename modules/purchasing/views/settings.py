"""Purchasing settings (/purchasing/settings): the invoice price tolerance and how far a receipt
may exceed the ordered quantity, stored in the workspace's settings."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from modules.purchasing import settings
from modules.purchasing.blueprint import bp
from modules.purchasing.forms_billing import PurchasingSettingsForm
from suite.auth.permissions import require
from suite.db import db
from suite.web import redirect_to, render_form

MANAGE = "purchasing.settings.manage"


@bp.route("/settings", methods=["GET", "POST"])
@require(MANAGE)
def settings_edit() -> Response:
    form = PurchasingSettingsForm()
    if request.method == "GET":
        form.price_tolerance.data = settings.get("price_tolerance")
        form.over_receipt_percent.data = settings.get("over_receipt_percent")
    if form.validate_on_submit():
        settings.put(
            g.workspace,
            price_tolerance=form.price_tolerance.data,
            over_receipt_percent=form.over_receipt_percent.data,
        )
        db.session.commit()
        return redirect_to("purchasing.settings_edit", _("Saved."))
    return render_form(
        "purchasing/settings.html", "purchasing/_settings_form.html", "purchasing-settings", form
    )
