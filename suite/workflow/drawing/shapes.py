"""Which kinds are drawn as cards or pills, and the sizes (SVG user units) the layout and the
markup share."""

from __future__ import annotations

CARDS = {"edit", "approval", "cc", "automation", "wait"}
PILLS = {"decision", "parallel", "join"}

CARD_W, HEAD_H = 164.0, 26.0
PILL_H, END_H, LANE_W = 30.0, 30.0, 8.0
GAP_X, GAP_LANE, MARGIN, TRACK = 20.0, 12.0, 8.0, 8.0
LABEL_SIZE, LABEL_LINE = 12.0, 15.0
LANE_LABEL_MAX = 140.0
MIN_VIEW_W = 340.0
