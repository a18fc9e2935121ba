"""The planner's vocabulary: the refusal, its inputs (snapshot, command, context) and outputs.

Plain frozen dataclasses and constants; no behaviour beyond `Plan.of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

HUMAN = ("edit", "approval")
HANDED_OVER = ("transferred", "escalated")  # the task lives on in its replacement
APPROVE, REJECT = "approved", "rejected"


class CommandRefused(Exception):  # noqa: N818 - reads as the outcome it is
    """The command does not fit the instance's state; nothing is written.

    `code` is a stable reason (`not_your_task`, `comment_required`, ...) the UI maps to a
    message and the API returns; `status` is the HTTP status (409, or 422 for bad input).
    """

    def __init__(self, code: str, status: int = 409, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.details = details


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSnap:
    id: int
    node: str
    assignee: int
    status: str
    kind: str = "approval"
    seq: int = 0
    round: int = 1
    on_behalf_of: int | None = None
    added_by: int | None = None  # the task that added this one (加签)
    added_how: str | None = None  # before / after / parallel / escalated


@dataclass(frozen=True)
class Snapshot:
    status: str  # "draft" before submit, then running / approved / rejected / withdrawn / cancelled
    initiator: int
    state: Mapping[str, Any] = field(default_factory=dict)
    tasks: tuple[TaskSnap, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)  # document fields + params


@dataclass(frozen=True)
class Command:
    kind: str
    actor: int | None  # membership id; None for the system (timers)
    now: dt.datetime
    task_id: int | None = None
    comment: str = ""
    target: str | None = None  # send_back / jump target node
    resume: str = "returning"  # send_back: returning | rerun
    assignees: tuple[int, ...] = ()  # transfer / add_approver / cc / reassign
    position: str = "after"  # add_approver: before | after | parallel
    is_admin: bool = False
    selected: Mapping[str, Sequence[int]] = field(default_factory=dict)  # initiator-selected


class Context(Protocol):
    def approvers(self, node_id: str, node: Mapping[str, Any], snap: Snapshot) -> list[int]: ...
    def manager_of(self, member: int) -> int | None: ...
    def admins(self) -> list[int]: ...
    def delegate_of(self, member: int, now: dt.datetime) -> int | None: ...
    def condition(self, expr: str, values: Mapping[str, Any]) -> bool: ...


# --- outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTask:
    node: str
    assignee: int
    kind: str = "approval"
    seq: int = 0
    round: int = 1
    waiting: bool = False
    on_behalf_of: int | None = None
    added_by: int | None = None
    added_how: str | None = None


@dataclass(frozen=True)
class CloseTask:
    task_id: int
    outcome: str  # approved / rejected / returned / transferred / cancelled / escalated
    comment: str = ""


@dataclass(frozen=True)
class Activate:
    task_id: int


@dataclass(frozen=True)
class Suspend:
    task_id: int  # an open task waits again (前加签: the added approver goes first)


@dataclass(frozen=True)
class Notify:
    recipients: tuple[int, ...]
    event: str
    node: str | None = None


@dataclass(frozen=True)
class RunAction:
    name: str
    node: str


@dataclass(frozen=True)
class StartWait:
    node: str
    after: str


@dataclass(frozen=True)
class Event:
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)


Effect = OpenTask | CloseTask | Activate | Suspend | Notify | RunAction | StartWait | Event


@dataclass
class Plan:
    status: str
    state: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]


# Commands people may send (web pages and the API). `resubmit` is approve on the requester's
# edit task; timers' commands (remind, escalate, timeout, resume) and submit (a document
# service's job) are not among them.
USER_COMMANDS = (
    "approve",
    "resubmit",
    "reject",
    "send_back",
    "withdraw",
    "transfer",
    "add_approver",
    "urge",
    "comment",
    "cc",
    "reassign",
    "jump",
    "cancel",
)
