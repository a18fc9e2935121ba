"""Checklist test helpers: a template with every item type, a checkpoint, images to upload."""

from __future__ import annotations

import io
from typing import Any

from suite.checklists import services

ALL_TYPES: list[tuple[str, dict[str, Any]]] = [
    (
        "pass_fail",
        {"label": "Exit clear", "required": "y", "require_photo": "y", "corrective_action": "y"},
    ),
    ("yes_no", {"label": "Door locked?", "required": "y", "require_note": "y"}),
    (
        "number",
        {
            "label": "Pressure",
            "required": "y",
            "min": "1.0",
            "max": "1.4",
            "unit": "MPa",
            "weight": "2",
        },
    ),
    ("text", {"label": "Remarks"}),
    ("select", {"label": "Shift", "options": "Early\nLate"}),
    ("date", {"label": "Last service"}),
    ("photo", {"label": "Overview photo"}),
    ("signature", {"label": "Signature"}),
]


def build_template(name: str = "Round", items=ALL_TYPES, publish: bool = True):
    """A template through the services; returns (template, {type: key})."""
    template = services.save_template(None, name=name)
    keys = {}
    for kind, values in items:
        key = services.add_item(template, 0, kind)
        services.update_item(template, key, values)
        keys.setdefault(kind, key)
    if publish:
        services.publish(template, None)
    return template, keys


def png(size: tuple[int, int] = (32, 24), color: str = "red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()
