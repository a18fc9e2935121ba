"""What a submitted checklist run does in inspections (inside the submitting transaction)."""

from __future__ import annotations

from typing import Any

from modules.inspections.services import actions, rounds
from suite.checklists.signals import run_submitted


def on_run_submitted(run: Any, **_: Any) -> None:
    """Failed items with the rule open corrective actions; the run ticks off its due round."""
    if getattr(run, "checkpoint", None) is None or run.checkpoint.module != "inspections":
        return
    actions.open_for_run(run)
    rounds.mark_done(run)


def connect() -> None:
    run_submitted.connect(on_run_submitted, weak=False)
