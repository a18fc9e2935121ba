"""Menu icons: a name must be a symbol in static/img/icons.svg, else the menu shows an empty box."""

from __future__ import annotations

import re
from pathlib import Path

SPRITE = Path(__file__).parents[2] / "static" / "img" / "icons.svg"


def test_every_named_menu_icon_is_in_the_sprite(app):
    symbols = set(re.findall(r'<symbol id="([^"]+)"', SPRITE.read_text(encoding="utf-8")))
    named = {
        (m.endpoint, m.icon)
        for m in app.extensions["suite.registry"].menus
        if m.icon.isascii() and m.icon.isalpha()
    }
    assert named, "no menu uses a named icon"
    assert not {(endpoint, icon) for endpoint, icon in named if icon not in symbols}


def test_no_menu_entry_shows_the_placeholder_dot(app):
    """`dot` is a filler, not an icon: the API tokens entry has its key."""
    menus = app.extensions["suite.registry"].menus
    assert [m.endpoint for m in menus if m.icon == "dot"] == []
    assert next(m.icon for m in menus if m.endpoint == "suite.token_list") == "key"
