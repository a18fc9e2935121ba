"""The hr module (人事): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="hr",
    label=_l("People"),
    summary=_l("Onboarding, leave, payroll, offboarding"),
    depends=(),
    roles=(
        RoleSpec(
            "hr.hr", _l("HR officer"), (), demo_login="hr", demo_department="hr", demo_head=True
        ),
    ),
)
