"""Process pages shared by every document type: the command endpoint and the inbox.

The names below are the package's public face (the JSON API reuses the refusal messages, the
inbox's tabs and counts, and the document pages registry).
"""

from suite.workflow.views.commands import (
    CHANGED,
    PAGES,
    REFUSAL_FIELDS,
    REFUSALS,
    USER_COMMANDS,
    DocumentPages,
    panels_response,
    refusal_message,
    register_pages,
)
from suite.workflow.views.inbox import DONE_STATUSES, TABS, inbox_counts

__all__ = [
    "CHANGED",
    "DONE_STATUSES",
    "PAGES",
    "REFUSALS",
    "REFUSAL_FIELDS",
    "TABS",
    "USER_COMMANDS",
    "DocumentPages",
    "inbox_counts",
    "panels_response",
    "refusal_message",
    "register_pages",
]
