"""Notifications through the outbox (ARCHITECTURE 4.4): in-app, e-mail, IM robot webhooks.

`notify()` only writes `OutboxMessage` rows into the caller's session, in the caller's
transaction: if the business change rolls back, so do its messages, and nothing is sent before
the change is committed. The scheduler (`suite.jobs.run_periodic`) and the job
`suite.drain_outbox` deliver them later with retries (`suite.notify.delivery`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from suite.db import db
from suite.notify.models import Notification, OutboxMessage, WebhookEndpoint
from suite.tenancy import current_workspace_id

__all__ = [
    "Notification",
    "OutboxMessage",
    "WebhookEndpoint",
    "message_rows",
    "notify",
    "write_rows",
]

RECIPIENT_CHANNELS = frozenset({"in_app", "email"})


def notify(
    recipients: Iterable[int],
    event: str,
    subject: str,
    body: str,
    link: str | None = None,
    channels: Iterable[str] = ("in_app", "email"),
    payload: dict[str, Any] | None = None,
) -> list[OutboxMessage]:
    """Queue a message to members of the current workspace; returns the rows written (flushed,
    not committed).

    - `recipients`: membership ids; repeats, inactive members and ids of other workspaces are
      skipped.
    - `subject` / `body`: plain text, already translated by the caller (the recipients' language
      is not known here); `link`: a relative URL of the item (`/purchasing/orders/7`).
    - `channels`: per recipient, `in_app` and/or `email` (e-mail only to users who have an
      address). Webhooks follow the endpoints' subscriptions instead: one row per active
      `WebhookEndpoint` subscribed to `event`, whatever `channels` says.
    """
    ws = current_workspace_id()
    if ws <= 0:
        raise RuntimeError("notify() needs a workspace (use_workspace or a logged-in request)")
    channels = tuple(channels)
    unknown = set(channels) - RECIPIENT_CHANNELS
    if unknown:
        raise ValueError(
            f"unknown channel(s) {sorted(unknown)}: use in_app / email; "
            "webhooks follow WebhookEndpoint.events"
        )
    check_link(link)

    from suite.auth.models import Membership, User

    wanted = list(dict.fromkeys(int(r) for r in recipients))
    members: list[Membership] = []
    if wanted and channels:
        found = {
            m.id: m
            for m in db.session.scalars(
                sa.select(Membership)
                .join(User, User.id == Membership.user_id)
                .where(
                    Membership.id.in_(wanted),
                    Membership.workspace_id == ws,
                    Membership.active.is_(True),
                    User.active.is_(True),
                )
            )
        }
        members = [found[i] for i in wanted if i in found]
    endpoints = db.session.scalars(
        sa.select(WebhookEndpoint)
        .where(WebhookEndpoint.workspace_id == ws, WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    values = message_rows(
        [(m.id, m.user.email) for m in members],
        [(e.id, e.url) for e in endpoints if e.subscribes(event)],
        workspace_id=ws,
        event=event,
        subject=subject,
        body=body,
        link=link,
        channels=channels,
        payload=payload,
    )
    rows = [OutboxMessage(**v) for v in values]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def check_link(link: str | None) -> None:
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError(f"link must be a relative URL starting with one '/': {link!r}")


def message_rows(
    members: Iterable[tuple[int, str | None]],
    endpoints: Iterable[tuple[int, str]],
    *,
    workspace_id: int,
    event: str,
    subject: str,
    body: str,
    link: str | None,
    channels: Iterable[str] = ("in_app", "email"),
    payload: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of one message as column values, in the order `notify()` writes them.

    `members`: (membership id, e-mail) of the recipients still to be told (active, of this
    workspace, deduplicated); `endpoints`: (id, url) of the active endpoints subscribed to `event`.
    """
    common = {
        "workspace_id": workspace_id,
        "event": event,
        "subject": subject[:300],
        "body": body,
        "link": link,
        "payload": dict(payload or {}),
    }
    rows: list[dict[str, Any]] = []
    for member_id, email in members:
        if "in_app" in channels:
            rows.append({"channel": "in_app", "recipient_id": member_id, **common})
        if "email" in channels and email:
            rows.append({"channel": "email", "recipient_id": member_id, "address": email, **common})
    for endpoint_id, url in endpoints:
        rows.append({"channel": "webhook", "endpoint_id": endpoint_id, "address": url, **common})
    return rows


_INSERT = sa.insert(OutboxMessage.__table__)
_COLUMNS = ("recipient_id", "endpoint_id", "address")


def write_rows(rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows (from `message_rows()`) in one statement, in the caller's transaction.

    For hot paths that need no `OutboxMessage` objects back (the workflow engine).
    """
    if rows:
        db.session.connection().execute(
            _INSERT, [{**dict.fromkeys(_COLUMNS), **row} for row in rows]
        )
