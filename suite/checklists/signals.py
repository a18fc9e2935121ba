"""What the checklist kernel tells the modules.

`run_submitted` is sent once per run, inside the submitting transaction, after the run, its
answers, number and score are final (a retried submission with the same key sends nothing). A
receiver gets the `ChecklistRun` as sender and writes in the same session (corrective actions,
the scheduled round it completes, ...); it must not commit. An exception rolls the whole
submission back.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

run_submitted = _signals.signal("checklist-run-submitted")
