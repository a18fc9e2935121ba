"""The inspections module (检查): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, RoleSpec

manifest = Manifest(
    name="inspections",
    label=_l("Inspections"),
    summary=_l("QR-code checklists on site, findings, corrective actions"),
    depends=(),
    roles=(
        RoleSpec(
            "inspections.inspector",
            _l("Inspector"),
            ("suite.checklist.fill", "suite.checklist.read"),
            demo_login="inspector",
            demo_department="production",
        ),
        RoleSpec(
            "inspections.area_owner",
            _l("Area owner"),
            (),
            demo_login="area_owner",
            demo_department="production",
        ),
    ),
)
