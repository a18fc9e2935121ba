"""Jinja globals and filters shared by every template."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask, current_app, g, has_app_context
from flask_babel import get_locale, get_translations

from suite import i18n
from suite.web import UrlPattern, nav_items


def role_label(role: Any) -> Any:
    """A built-in role's translated label from its manifest; a custom role's own name."""
    if role.name:
        return role.name
    spec = current_app.extensions["suite.registry"].roles.get(role.code)
    return spec.label if spec else role.code


def permission_label(code: str) -> Any:
    perm = current_app.extensions["suite.registry"].permissions.get(code)
    return perm.label if perm else code


@lru_cache(maxsize=32)
def _parsed(code: str) -> Locale:
    return Locale.parse(code)  # parsing is ~0.2 ms; pages ask for the locale many times


def current_locale() -> str:
    """The selected locale as its SUITE_LOCALES code: Babel spells zh_CN as `zh_Hans_CN`."""
    selected = get_locale()
    codes = current_app.config["SUITE_LOCALES"]
    return next((c for c in codes if _parsed(c) == selected), codes[0])


def member_name(membership_id: int | None) -> str:
    """A member's display name for templates (one query; cached per request)."""
    if membership_id is None:
        return ""
    cache = g.setdefault("_member_names", {})
    if membership_id not in cache:
        import sqlalchemy as sa

        from suite.auth.models import Membership, User
        from suite.db import db

        cache[membership_id] = (
            db.session.scalar(
                sa.select(User.display_name)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.id == membership_id)
            )
            or ""
        )
    return cache[membership_id]


def _translations() -> Any:
    """flask-babel's translations for the selected locale, looked up once per locale.

    A page calls `_()` some 30 times; flask-babel finds the domain, the locale and the catalog
    again on each (about ten Flask context look-ups). The catalog is kept next to flask-babel's
    own state in `g` for the locale object it was found for, so force_locale() and refresh(),
    which put another locale object there, get their own.
    """
    ctx = g.get("_flask_babel") if has_app_context() else None
    locale = getattr(ctx, "babel_locale", None)
    if locale is None:
        return get_translations()
    domain = getattr(ctx, "babel_domain", None)
    memo = getattr(ctx, "suite_translations", None)
    if memo is None or memo[0] is not locale or memo[1] is not domain:
        memo = ctx.suite_translations = (locale, domain, get_translations())  # type: ignore[union-attr]
    return memo[2]


def init_templating(app: Flask) -> None:
    # flask-babel's callables (Babel(configure_jinja=True)), with the catalog looked up once.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        member_name=member_name,
        money=i18n.money,
        number=i18n.number,
        datetime=i18n.datetime_local,
    )
    app.jinja_env.globals.update(
        nav_items=nav_items,
        url_pattern=UrlPattern,
        role_label=role_label,
        permission_label=permission_label,
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_locale": current_locale(),
            "workspace": g.get("workspace"),
            "membership": g.get("membership"),
            "locales": [("zh_CN", "中文"), ("en", "English")],
            "font_warning": g.get("font_warning"),
        }
