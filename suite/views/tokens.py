"""A member's own API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from flask import abort, g, make_response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from suite.api import tokens
from suite.api.models import ApiToken
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import get_or_404
from suite.views import bp
from suite.web import redirect_to


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> Response:
    resp = make_response(
        render_template(
            "account/token_list.html",
            form=form,
            tokens=tokens.tokens_of(g.membership),
            secret=secret,
        ),
        status,
    )
    resp.headers["Cache-Control"] = "no-store"  # the page may carry a secret
    return resp


@bp.route("/account/tokens")
@login_required
def token_list() -> Response:
    return _page(TokenForm())


@bp.route("/account/tokens", methods=["POST"])
@login_required
def token_create() -> Response:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        _token, secret = tokens.issue(g.membership, form.name.data)
    except DomainError as exc:
        db.session.rollback()
        form.name.errors.append(exc.message)
        return _page(form, status=422)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=secret)


@bp.route("/account/tokens/<int:api_token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(api_token_id: int) -> Response:
    token = get_or_404(ApiToken, api_token_id)
    if token.membership_id != g.membership.id:
        abort(404)
    tokens.revoke(token)
    db.session.commit()
    return redirect_to("suite.token_list", _("The token is revoked."))
