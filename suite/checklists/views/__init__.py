"""Checklist pages on the kernel's blueprint: designer, checkpoints, the QR page, runs."""

from suite.checklists.views import checkpoints, designer, runs, scan  # noqa: F401
