"""The kernel's own manifest: administration permissions, the cross-module roles and menus."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest, MenuItem, Permission, RoleSpec

manifest = Manifest(
    name="suite",
    label=_l("Kernel"),
    summary=_l("Workspaces, people, permissions, audit trail"),
    models="suite.models",
    blueprint="suite.views:bp",
    workflows=("suite.workflow:templates/general_request.yaml",),
    documents={"suite.general_request": "suite.requests.services:general_request"},
    permissions=(
        Permission("suite.user.manage", _l("Manage users")),
        Permission("suite.department.manage", _l("Manage departments")),
        Permission("suite.role.manage", _l("Manage roles and permissions")),
        Permission("suite.audit.read", _l("Read the audit trail")),
        Permission("suite.workspace.manage", _l("Manage workspace settings")),
        Permission("suite.outbox.manage", _l("Manage undelivered messages")),
        Permission("suite.workflow.design", _l("Design processes and the working calendar")),
        Permission("suite.request.create", _l("Create general requests")),
        Permission("suite.workflow.manage", _l("Manage approval processes")),
        Permission("suite.checklist.design", _l("Design checklists and checkpoints")),
        Permission("suite.checklist.fill", _l("Fill checklists at checkpoints")),
        Permission("suite.checklist.read", _l("Read submitted checklists")),
    ),
    roles=(
        RoleSpec(
            "suite.admin",
            _l("Administrator"),
            ("*",),
            demo_login="admin",
            demo_department="management",
        ),
        RoleSpec("suite.staff", _l("Staff"), ("suite.request.create",), demo_login="staff"),
        RoleSpec(
            "suite.dept_head", _l("Department head"), (), demo_login="dept_head", demo_head=True
        ),
        RoleSpec(
            "suite.finance",
            _l("Finance"),
            ("suite.audit.read",),
            demo_login="finance",
            demo_department="finance",
            demo_head=True,
        ),
        RoleSpec(
            "suite.gm",
            _l("General manager"),
            ("suite.audit.read",),
            demo_login="gm",
            demo_department="management",
            demo_head=True,
        ),
    ),
    menus=(
        MenuItem(_l("Home"), "suite.home", icon="home", order=0),
        MenuItem(_l("Inbox"), "suite.inbox", icon="inbox", order=10),
        MenuItem(
            _l("Requests"), "suite.request_list", "suite.request.create", icon="request", order=20
        ),
        MenuItem(
            _l("Checklists"),
            "suite.checklist_template_list",
            "suite.checklist.design",
            icon="checklist",
            order=600,
        ),
        MenuItem(
            _l("Checkpoints"),
            "suite.checkpoint_list",
            "suite.checklist.design",
            icon="qr",
            order=610,
        ),
        MenuItem(_l("Users"), "suite.user_list", "suite.user.manage", icon="users", order=900),
        MenuItem(
            _l("Departments"),
            "suite.department_list",
            "suite.department.manage",
            icon="departments",
            order=910,
        ),
        MenuItem(_l("Roles"), "suite.role_list", "suite.role.manage", icon="roles", order=920),
        MenuItem(
            _l("Processes"),
            "suite.process_list",
            "suite.workflow.design",
            icon="processes",
            order=925,
        ),
        MenuItem(
            _l("Group robots"),
            "suite.webhook_list",
            "suite.workspace.manage",
            icon="bell",
            order=935,
        ),
        MenuItem(
            _l("Audit trail"), "suite.audit_list", "suite.audit.read", icon="audit", order=930
        ),
        MenuItem(
            _l("Undelivered messages"),
            "suite.outbox_list",
            "suite.outbox.manage",
            icon="outbox",
            order=935,
        ),
        MenuItem(
            _l("Settings"),
            "suite.workspace_settings",
            "suite.workspace.manage",
            icon="settings",
            order=940,
        ),
        MenuItem(_l("API tokens"), "suite.token_list", icon="key", order=990),
    ),
    demo="suite.checklists.demo:seed",
    jobs={"suite.drain_outbox": "suite.notify.jobs:drain_outbox"},
)
