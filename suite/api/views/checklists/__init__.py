"""QR checklists: templates, checkpoints, runs (start or resume, answer, attach photos, submit).

The pages' rules: designers and readers see templates; checkpoints are listed to designers,
fillers and readers, their token and QR URL only to designers and fillers; readers see every run,
an inspector their own; only the inspector who started a draft answers and submits it.
"""

from suite.api.views.checklists import masters, run_input, runs

__all__ = ["masters", "run_input", "runs"]
