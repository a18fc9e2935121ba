"""The projects module (项目): its roles; documents and pages come with their issues."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from suite.registry import Manifest

manifest = Manifest(
    name="projects",
    label=_l("Projects"),
    summary=_l("Project initiation, milestones, cost roll-up, portfolio"),
    depends=(),
)
