"""QR-code checklists: templates, checkpoints with QR tokens, runs filled on a phone.

The kernel knows "checklist"; modules (inspections, stores) give it meaning: they subscribe to
`run_submitted` to open corrective actions, tick scheduled rounds, and so on.
"""
