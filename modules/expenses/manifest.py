"""The expenses module (报销): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest

manifest = Manifest(
    name="expenses",
    label=_l("Expenses"),
    summary=_l("Business trips, expense claims, budgets"),
    depends=(),
)
