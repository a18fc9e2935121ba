"""PDF printing with WeasyPrint; the CJK font check that keeps Chinese from printing as boxes."""

from __future__ import annotations

import shutil
import subprocess

from flask import Flask, g


def cjk_font_available() -> bool:
    """True when fontconfig knows a font covering Chinese (e.g. Noto Sans CJK)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [fc_list, ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def font_warning_for(app: Flask) -> bool:
    """Admins see a banner when PDFs cannot show Chinese."""
    if app.config.get("SUITE_CJK_FONT"):
        return False
    from suite.auth.permissions import has_permission

    return g.get("membership") is not None and has_permission("suite.role.manage")
