"""Inspections in the JSON API (Manifest.api): corrective actions (list, read, record the fix,
verify, both through the workflow kernel's command path) and reported findings (list, read,
open a corrective action, dismiss).

Importing the package registers the routes on the kernel's API blueprint; `SCHEMAS` joins the
OpenAPI document.
"""

from modules.inspections.api import actions, findings
from modules.inspections.api.schemas import SCHEMAS

__all__ = ["SCHEMAS", "actions", "findings"]
