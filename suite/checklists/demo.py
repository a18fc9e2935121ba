"""Demo checklist (S8): the fire-safety daily round, published; three checkpoints (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa

from suite.auth.models import Membership, User
from suite.checklists import services
from suite.checklists.models import ChecklistTemplate, Checkpoint
from suite.db import db
from suite.tenancy import Workspace

TEMPLATE_NAME = "Fire safety daily round / 消防安全日巡检"
ITEMS = (
    "Fire exits clear / 安全出口畅通",
    "Exit signs lit / 疏散指示灯正常",
    "Extinguishers in place / 灭火器在位",
    "Hydrant cabinet unobstructed / 消火栓未遮挡",
    "No flammables stored / 无易燃物堆放",
    "Electrical panels closed / 配电箱关闭",
    "Sprinkler heads unobstructed / 喷淋头无遮挡",
    "Fire doors close fully / 防火门关闭严密",
)
PRESSURE = "Extinguisher pressure / 灭火器压力"
CHECKPOINTS = (
    ("FS-01", "Warehouse A door / 仓库A门", "Main plant / 总厂", "Warehouse / 仓库"),
    ("FS-02", "Workshop 1 / 一号车间", "Main plant / 总厂", "Production / 生产"),
    ("FS-03", "Office lobby / 办公楼大厅", "Main plant / 总厂", "Office / 办公楼"),
)


def fire_safety_template() -> ChecklistTemplate:
    """The S8 template: 8 pass/fail/N/A items (photo required and a corrective action on fail)
    and the extinguisher pressure, valid 1.0-1.4 MPa; published as version 1."""
    template = services.save_template(None, name=TEMPLATE_NAME)
    services.rename_section(template, 0, "Fire safety / 消防安全")
    rules = {"require_photo": "y", "corrective_action": "y"}
    for label in ITEMS:
        key = services.add_item(template, 0, "pass_fail")
        services.update_item(template, key, {"label": label, "required": "y", **rules})
    key = services.add_item(template, 0, "number")
    services.update_item(
        template,
        key,
        {"label": PRESSURE, "required": "y", "min": "1.0", "max": "1.4", "unit": "MPa", **rules},
    )
    services.publish(template, None)
    return template


def seed(ws: Workspace) -> None:
    template = db.session.scalar(
        sa.select(ChecklistTemplate).where(ChecklistTemplate.name == TEMPLATE_NAME)
    )
    if template is None:
        template = fire_safety_template()
    owner = db.session.scalar(
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(User.login == "area_owner")
    )
    for code, name, site, area in CHECKPOINTS:
        if db.session.scalar(sa.select(Checkpoint.id).where(Checkpoint.code == code)) is None:
            services.save_checkpoint(
                None,
                name=name,
                code=code,
                site=site,
                area=area,
                template_id=template.id,
                owner_id=owner,
            )
    db.session.flush()
