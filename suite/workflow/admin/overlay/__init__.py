"""The process editor's sections: a draft overlay <-> form values, checked field by field.

Each section (the params, one approval / CC node, one decision) turns posted form values into the
overlay entries that differ from the template, or into messages keyed by form field. No request,
no templates: the views pass a `MultiDict` and the workspace's `Choices`.

One sub-module per section: `params`, `nodes` (approval and CC), `decisions`; `draft` checks the
whole draft before publishing. `spec` reads the merged spec and the workspace's choices, `forms`
holds the form helpers every section uses. Names with a leading underscore are private to this
package.
"""

from suite.workflow.admin.overlay.decisions import blank_row, case_values, parse_cases
from suite.workflow.admin.overlay.draft import draft_problems
from suite.workflow.admin.overlay.forms import MAX_ROWS, Errors, FormData, to_int, to_number
from suite.workflow.admin.overlay.nodes import (
    AUTO_ACTIONS,
    COMMENT_ACTIONS,
    DEFAULTS,
    EMPTY_POLICIES,
    MAX_LEVELS,
    MODES,
    RESOLVER_ARG,
    SELF_POLICIES,
    SLA_KEYS,
    check_entry,
    diff,
    entries_key,
    entry_row,
    node_values,
    parse_node,
)
from suite.workflow.admin.overlay.params import check_param, param_kind, param_text, parse_params
from suite.workflow.admin.overlay.spec import (
    EDITABLE_KINDS,
    Choices,
    arrivals,
    editable_nodes,
    field_specs,
    pick,
    successors,
    workspace_choices,
)

__all__ = [
    "AUTO_ACTIONS",
    "COMMENT_ACTIONS",
    "DEFAULTS",
    "EDITABLE_KINDS",
    "EMPTY_POLICIES",
    "MAX_LEVELS",
    "MAX_ROWS",
    "MODES",
    "RESOLVER_ARG",
    "SELF_POLICIES",
    "SLA_KEYS",
    "Choices",
    "Errors",
    "FormData",
    "arrivals",
    "blank_row",
    "case_values",
    "check_entry",
    "check_param",
    "diff",
    "draft_problems",
    "editable_nodes",
    "entries_key",
    "entry_row",
    "field_specs",
    "node_values",
    "param_kind",
    "param_text",
    "parse_cases",
    "parse_node",
    "parse_params",
    "pick",
    "successors",
    "to_int",
    "to_number",
    "workspace_choices",
]
