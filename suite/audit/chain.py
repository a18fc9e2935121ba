"""Canonical serialisation and hashing shared by the recorder and the verifier."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
REDACTED = "***"


def plain(value: Any) -> Any:
    """A JSON-safe, canonical form of a column value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, header: dict[str, Any], payload: dict[str, Any]) -> str:
    payload_hash = hashlib.sha256(canonical(payload)).hexdigest()
    return hashlib.sha256(
        prev_hash.encode() + canonical(header) + payload_hash.encode()
    ).hexdigest()


def header_of(row: Any) -> dict[str, Any]:
    """The hashed header of an event (a mapping or an AuditEvent)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {
        "workspace_id": get("workspace_id"),
        "entity_type": get("entity_type"),
        "entity_id": get("entity_id"),
        "seq": get("seq"),
        "action": get("action"),
        "actor_id": get("actor_id"),
        "on_behalf_of_id": get("on_behalf_of_id"),
        "occurred_at": plain(get("occurred_at")),
        "context": get("context") or {},
    }
