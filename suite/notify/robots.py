"""Group-robot message formats (DingTalk / WeCom / Feishu): pure functions, no I/O, no clock.

Each builder returns the JSON body the robot expects, plus `idempotency_key`
(`shunliu-outbox-<message id>`): delivery is at-least-once, and a receiver or a relay in between
can drop a repeat by it. The robots ignore fields they do not know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode


def idempotency_key(message_id: int) -> str:
    return f"shunliu-outbox-{message_id}"


def markdown_text(subject: str, body: str, url: str | None) -> str:
    """A heading (linking to the item when there is a URL) and the body."""
    head = f"#### [{subject}]({url})" if url else f"#### {subject}"
    return f"{head}\n\n{body}" if body else head


def plain_text(subject: str, body: str, url: str | None) -> str:
    return "\n".join(part for part in (subject, body, url) if part)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>"))."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg=""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_body(subject: str, body: str, url: str | None, message_id: int) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": subject, "text": markdown_text(subject, body, url)},
        "idempotency_key": idempotency_key(message_id),
    }


def dingtalk_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The robot URL with `timestamp` and `sign` query parameters when a secret is set."""
    if not secret:
        return url
    query = urlencode({"timestamp": timestamp_ms, "sign": dingtalk_sign(secret, timestamp_ms)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def wecom_body(subject: str, body: str, url: str | None, message_id: int) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"content": markdown_text(subject, body, url)},
        "idempotency_key": idempotency_key(message_id),
    }


def feishu_body(
    subject: str,
    body: str,
    url: str | None,
    message_id: int,
    secret: str | None = None,
    timestamp_s: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if secret:
        if timestamp_s is None:
            raise ValueError("a signed Feishu message needs its timestamp")
        out |= {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s)}
    out |= {
        "msg_type": "text",
        "content": {"text": plain_text(subject, body, url)},
        "idempotency_key": idempotency_key(message_id),
    }
    return out


def robot_request(
    kind: str,
    url: str,
    secret: str | None,
    *,
    subject: str,
    body: str,
    link_url: str | None,
    message_id: int,
    timestamp_ms: int,
) -> tuple[str, dict[str, Any]]:
    """(URL to POST to, JSON body) for one message to a robot of `kind`."""
    if kind == "dingtalk":
        return dingtalk_url(url, secret, timestamp_ms), dingtalk_body(
            subject, body, link_url, message_id
        )
    if kind == "wecom":
        return url, wecom_body(subject, body, link_url, message_id)
    if kind == "feishu":
        return url, feishu_body(subject, body, link_url, message_id, secret, timestamp_ms // 1000)
    raise ValueError(f"unknown webhook kind {kind!r}")


def robot_error(kind: str, answer: Any) -> str | None:
    """The robot's refusal in a 200 answer (`errcode` / `code` / `StatusCode` not 0), else None."""
    if not isinstance(answer, dict):
        return None
    for code_key, msg_key in (
        ("errcode", "errmsg"),
        ("code", "msg"),
        ("StatusCode", "StatusMessage"),
    ):
        code = answer.get(code_key)
        if code not in (None, 0, "0"):
            return f"{kind} answered {code_key}={code}: {answer.get(msg_key, '')}"
    return None
