"""Draining the outbox: claim due rows, deliver each once, retry with backoff, then give up.

`drain()` works in three steps, so no transaction stays open while the network is slow (on SQLite
an open write transaction would stop every other request):

1. **Claim** (one transaction): due rows (`status='pending' and next_attempt_at <= now`) are
   selected with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers anyway).
   In-app rows are delivered right there: the `Notification` row is written and the message
   marked sent in the same transaction, so they are delivered exactly once. E-mail and webhook
   rows are leased instead: `next_attempt_at` moves to `now + LEASE`, so another drainer skips
   them while this one sends.
2. **Send**, outside any transaction.
3. **Mark** each row in its own short transaction: sent, or failed (attempts + 1, next attempt
   after `backoff(attempts)`, dead after MAX_ATTEMPTS).

At-least-once window: if the process dies between a successful send and its mark (or the mark's
commit fails), the lease runs out and the message is sent again. Receivers can tell a repeat:
e-mails keep the same `Message-ID` (`<shunliu-outbox-<id>@...>`), webhook bodies carry
`idempotency_key` and an `Idempotency-Key` header (`shunliu-outbox-<id>`). A batch stops sending
once half the lease has passed and hands the rest back, so a slow batch never outlives its lease.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

import sqlalchemy as sa
from flask import current_app

import suite.db
from suite.db import db
from suite.notify import robots
from suite.notify.models import Notification, OutboxMessage, WebhookEndpoint

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=10)
WEBHOOK_TIMEOUT = 5  # seconds
SMTP_TIMEOUT = 20  # seconds
MAX_ERROR = 2000  # characters of the last error kept on the row


class PermanentError(Exception):
    """Retrying cannot help (the endpoint was removed or switched off): the row dies at once."""


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failed tries: 30 s * 2^attempts, at most 1 h."""
    return min(BASE_DELAY * (2**attempts), MAX_DELAY)


@dataclass(frozen=True)
class Claimed:
    """What sending needs, copied out of the claim transaction (no lazy loads while sending)."""

    id: int
    workspace_id: int
    channel: str
    address: str | None
    event: str
    subject: str
    body: str
    link: str | None
    payload: dict[str, Any]
    attempts: int
    lease_until: dt.datetime
    endpoint_kind: str | None = None
    endpoint_secret: str | None = None
    endpoint_problem: str | None = None


def drain(batch: int = 100, now: dt.datetime | None = None) -> int:
    """Deliver up to `batch` due messages; returns how many were handled (sent, rescheduled or
    dead). Works in the current scope: SYSTEM drains every workspace (see `drain_all`).

    Commits its own transactions (uncommitted work in the session goes with the first one): call
    it from a job or the scheduler, never inside a request's unit of work. `now` freezes the
    clock (tests); otherwise `suite.db.utcnow()` is read as it goes.
    """

    def clock() -> dt.datetime:
        return now if now is not None else suite.db.utcnow()

    started = time.monotonic()
    handled, outgoing = _claim(batch, clock())
    for i, msg in enumerate(outgoing):
        if time.monotonic() - started > LEASE.total_seconds() / 2:
            _release(outgoing[i:], clock())
            break
        try:
            if msg.endpoint_problem:
                raise PermanentError(msg.endpoint_problem)
            send(msg)
        except Exception as exc:  # any failure is recorded on the row and retried
            log.info("outbox message %d (%s) failed: %s", msg.id, msg.channel, exc)
            _mark_failed(msg, exc, clock())
        else:
            _mark_sent(msg, clock())
        handled += 1
    return handled


def drain_all(batch: int = 100, rounds: int = 10) -> int:
    """Drain every workspace (SYSTEM scope), batch after batch while full ones come back."""
    from suite.tenancy import system

    total = 0
    with system():
        for _ in range(rounds):
            handled = drain(batch)
            total += handled
            if handled < batch:
                break
    return total


# --- the three steps --------------------------------------------------------------------------


def _claim(batch: int, now: dt.datetime) -> tuple[int, list[Claimed]]:
    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    try:
        rows = list(db.session.scalars(stmt))
        endpoint_ids = {r.endpoint_id for r in rows if r.endpoint_id is not None}
        endpoints = (
            {
                e.id: e
                for e in db.session.scalars(
                    sa.select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
                )
            }
            if endpoint_ids
            else {}
        )
        handled = 0
        outgoing: list[Claimed] = []
        lease_until = now + LEASE
        for row in rows:
            if row.channel == "in_app":
                _deliver_in_app(row, now)
                handled += 1
                continue
            outgoing.append(_claimed(row, endpoints.get(row.endpoint_id), lease_until))
            row.next_attempt_at = lease_until
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return handled, outgoing


def _claimed(
    row: OutboxMessage, endpoint: WebhookEndpoint | None, lease_until: dt.datetime
) -> Claimed:
    problem = None
    if row.channel == "webhook":
        if endpoint is None:
            problem = "the webhook endpoint was removed"
        elif not endpoint.active:
            problem = "the webhook endpoint is switched off"
    return Claimed(
        id=row.id,
        workspace_id=row.workspace_id,
        channel=row.channel,
        address=row.address,
        event=row.event,
        subject=row.subject,
        body=row.body,
        link=row.link,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        lease_until=lease_until,
        endpoint_kind=endpoint.kind if endpoint is not None else None,
        endpoint_secret=endpoint.secret if endpoint is not None else None,
        endpoint_problem=problem,
    )


def _deliver_in_app(row: OutboxMessage, now: dt.datetime) -> None:
    """The Notification and the "sent" mark commit together: delivered exactly once."""
    try:
        with db.session.begin_nested():
            db.session.add(
                Notification(
                    workspace_id=row.workspace_id,
                    recipient_id=row.recipient_id,
                    outbox_message_id=row.id,
                    event=row.event,
                    subject=row.subject,
                    body=row.body,
                    link=row.link,
                    created_at=row.created_at,
                )
            )
    except Exception as exc:
        log.warning("in-app message %d failed: %s", row.id, exc)
        _fail_row(row, exc, now)
        return
    row.attempts += 1
    row.status = "sent"
    row.sent_at = now
    row.last_error = None


def _fail_row(row: OutboxMessage, exc: BaseException, now: dt.datetime) -> None:
    values = _failure_values(row.attempts, exc, now)
    for key, value in values.items():
        setattr(row, key, value)


def _failure_values(attempts: int, exc: BaseException, now: dt.datetime) -> dict[str, Any]:
    attempts += 1
    dead = attempts >= MAX_ATTEMPTS or isinstance(exc, PermanentError)
    return {
        "attempts": attempts,
        "status": "dead" if dead else "pending",
        "next_attempt_at": now if dead else now + backoff(attempts),
        "last_error": (f"{type(exc).__name__}: {exc}")[:MAX_ERROR],
    }


def _update(msg_id: int, *where: Any, **values: Any) -> int:
    stmt = (
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == msg_id, OutboxMessage.status == "pending", *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    try:
        count = db.session.execute(stmt).rowcount
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return count


def _mark_sent(msg: Claimed, now: dt.datetime) -> None:
    # No lease condition: whoever delivered it, it was delivered.
    count = _update(
        msg.id,
        attempts=OutboxMessage.attempts + 1,
        status="sent",
        sent_at=now,
        last_error=None,
    )
    if count != 1:
        log.warning("outbox message %d was sent but is no longer pending", msg.id)


def _mark_failed(msg: Claimed, exc: BaseException, now: dt.datetime) -> None:
    # Only while our lease holds: after it ran out another drainer owns the row.
    _update(
        msg.id,
        OutboxMessage.next_attempt_at == msg.lease_until,
        **_failure_values(msg.attempts, exc, now),
    )


def _release(msgs: list[Claimed], now: dt.datetime) -> None:
    for msg in msgs:
        _update(msg.id, OutboxMessage.next_attempt_at == msg.lease_until, next_attempt_at=now)


# --- channels ---------------------------------------------------------------------------------


def send(msg: Claimed) -> None:
    if msg.channel == "email":
        send_email(msg)
    elif msg.channel == "webhook":
        send_webhook(msg)
    else:
        raise PermanentError(f"no sender for channel {msg.channel!r}")


def absolute_url(link: str | None) -> str | None:
    """The item's link for a reader outside the app: `SUITE_BASE_URL` + the relative link."""
    if not link:
        return None
    base = current_app.config.get("SUITE_BASE_URL")
    return f"{base.rstrip('/')}{link}" if base else link


def build_email(msg: Claimed) -> EmailMessage:
    sender = current_app.config["SUITE_MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = msg.address
    mail["Subject"] = msg.subject
    mail["Date"] = format_datetime(suite.db.utcnow())
    # The same Message-ID on every try: a repeat after a crash is recognisably the same mail.
    mail["Message-ID"] = f"<{robots.idempotency_key(msg.id)}@{domain}>"
    mail["X-Shunliu-Event"] = msg.event
    url = absolute_url(msg.link)
    mail.set_content("\n\n".join(part for part in (msg.body, url) if part) + "\n")
    return mail


def send_email(msg: Claimed) -> None:
    """SMTP when `SUITE_SMTP_HOST` is set; otherwise an .eml file in instance/mail/ (dev)."""
    if not msg.address:
        raise PermanentError("no e-mail address")
    mail = build_email(msg)
    config = current_app.config
    host = config.get("SUITE_SMTP_HOST")
    if not host:
        folder = os.path.join(current_app.instance_path, "mail")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"outbox-{msg.id}.eml")
        with open(f"{path}.tmp", "wb") as fh:
            fh.write(mail.as_bytes())
        os.replace(f"{path}.tmp", path)
        return
    port = int(config["SUITE_SMTP_PORT"])
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if port == 465:  # implicit TLS (SMTPS)
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with smtp:
        if port != 465 and config.get("SUITE_SMTP_TLS"):
            smtp.starttls(context=context)
        if config.get("SUITE_SMTP_USER"):
            smtp.login(config["SUITE_SMTP_USER"], config.get("SUITE_SMTP_PASSWORD") or "")
        smtp.send_message(mail)


def send_webhook(msg: Claimed) -> None:
    """POST the robot's JSON (timeout 5 s); a non-2xx answer or a robot error code fails."""
    if not msg.address or not msg.address.startswith(("https://", "http://")):
        raise PermanentError(f"not an http(s) URL: {msg.address!r}")
    url, body = robots.robot_request(
        msg.endpoint_kind or "",
        msg.address,
        msg.endpoint_secret,
        subject=msg.subject,
        body=msg.body,
        link_url=absolute_url(msg.link),
        message_id=msg.id,
        timestamp_ms=int(time.time() * 1000),
    )
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": robots.idempotency_key(msg.id),
            "User-Agent": "Shunliu",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as resp:  # noqa: S310
        raw = resp.read(65536)
    try:
        answer = json.loads(raw) if raw.strip() else None
    except ValueError:
        answer = None
    refusal = robots.robot_error(msg.endpoint_kind or "", answer)
    if refusal:
        raise RuntimeError(refusal)
