"""Jobs of the outbox (registered in the kernel manifest as `suite.drain_outbox`)."""

from __future__ import annotations

from suite.notify.delivery import drain_all


def drain_outbox() -> int:
    """Deliver the due messages of every workspace; fits `suite.jobs.execute` (the workspace it
    is run in does not matter: the drain switches to SYSTEM scope)."""
    return drain_all()
