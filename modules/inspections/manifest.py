"""The inspections module (检查): corrective actions, scheduled rounds, findings, dashboard (S8)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, MenuItem, Permission, RoleSpec

manifest = Manifest(
    name="inspections",
    label=_l("Inspections"),
    summary=_l("QR-code checklists on site, findings, corrective actions"),
    depends=(),
    models="modules.inspections.models",
    blueprint="modules.inspections.blueprint:bp",
    api="modules.inspections.api",
    workflows=("modules.inspections:workflows/corrective_action.yaml",),
    documents={
        "inspections.corrective_action": "modules.inspections.services.actions:corrective_action",
    },
    actions={"inspections.check_fix": "modules.inspections.services.actions:check_fix"},
    periodic=("modules.inspections.services.rounds:periodic",),
    widgets=("modules.inspections.views.rounds:today_widget",),
    demo="modules.inspections.demo:seed",
    run_links=("modules.inspections.views.reports:run_links",),
    permissions=(
        Permission("inspections.action.read", _l("See corrective actions")),
        Permission("inspections.round.read", _l("See scheduled rounds")),
        Permission("inspections.schedule.manage", _l("Manage inspection schedules")),
        Permission("inspections.finding.manage", _l("Triage reported problems")),
        Permission("inspections.dashboard.read", _l("See the inspections dashboard")),
        Permission("inspections.report.read", _l("Print inspection reports")),
    ),
    roles=(
        RoleSpec(
            "inspections.inspector",
            _l("Inspector"),
            (
                "suite.checklist.fill",
                "suite.checklist.read",
                "inspections.action.read",
                "inspections.round.read",
                "inspections.finding.manage",
                "inspections.dashboard.read",
                "inspections.report.read",
            ),
            demo_login="inspector",
            demo_department="production",
        ),
        RoleSpec(
            "inspections.area_owner",
            _l("Area owner"),
            (
                "inspections.action.read",
                "inspections.round.read",
                "inspections.dashboard.read",
                "inspections.report.read",
            ),
            demo_login="area_owner",
            demo_department="production",
        ),
    ),
    grants={
        "suite.gm": (
            "inspections.action.read",
            "inspections.round.read",
            "inspections.dashboard.read",
            "inspections.report.read",
        ),
        # the area owners' manager in the demo (production's head): escalated actions, the dashboard
        "suite.dept_head": (
            "inspections.action.read",
            "inspections.round.read",
            "inspections.dashboard.read",
            "inspections.report.read",
        ),
    },
    menus=(
        MenuItem(
            _l("Corrective actions"),
            "inspections.action_list",
            "inspections.action.read",
            icon="audit",
            order=600,
        ),
        MenuItem(
            _l("Inspection rounds"),
            "inspections.round_list",
            "inspections.round.read",
            icon="calendar",
            order=610,
        ),
        MenuItem(
            _l("Inspections dashboard"),
            "inspections.dashboard",
            "inspections.dashboard.read",
            icon="chart",
            order=615,
        ),
        MenuItem(
            _l("Reported problems"),
            "inspections.finding_list",
            "inspections.finding.manage",
            icon="bell",
            order=620,
        ),
        MenuItem(
            _l("Inspection schedules"),
            "inspections.schedule_list",
            "inspections.schedule.manage",
            icon="settings",
            order=950,
        ),
    ),
)
