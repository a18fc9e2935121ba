"""Checklist services: templates and their versions, checkpoints and tokens, runs and answers.

No `request`, no templates: views and the API call these, tests call them directly. Refusals are
`DomainError`s with the field (or item key) they belong to; a refused submission raises
`SubmitRefused` naming every item that blocks it.

The names are re-exported here, so `from suite.checklists import services; services.submit(...)`
and `from suite.checklists.services import SubmitRefused` work whichever file holds them.
"""

from suite.checklists.services.checkpoints import (
    CODE,
    find_token,
    new_token,
    revoke_token,
    save_checkpoint,
)
from suite.checklists.services.photos import IMAGE_TYPES, add_photo, check_image, remove_photo
from suite.checklists.services.runs import (
    RESULTS,
    RUN_PREFIX,
    SubmitRefused,
    answers_of,
    blocking,
    draft_of,
    failed_items,
    file_ids,
    is_answered,
    is_failed,
    open_run,
    save_answer,
    score,
    submit,
    submitted_with,
)
from suite.checklists.services.templates import (
    add_item,
    add_section,
    move_item,
    publish,
    remove_item,
    remove_section,
    rename_section,
    save_template,
    update_item,
)

__all__ = [
    "CODE",
    "IMAGE_TYPES",
    "RESULTS",
    "RUN_PREFIX",
    "SubmitRefused",
    "add_item",
    "add_photo",
    "add_section",
    "answers_of",
    "file_ids",
    "blocking",
    "check_image",
    "draft_of",
    "failed_items",
    "find_token",
    "is_answered",
    "is_failed",
    "move_item",
    "new_token",
    "open_run",
    "publish",
    "remove_item",
    "remove_photo",
    "remove_section",
    "rename_section",
    "revoke_token",
    "save_answer",
    "save_checkpoint",
    "save_template",
    "score",
    "submit",
    "submitted_with",
    "update_item",
]
