"""Helpers the API views share: the caller, paging arguments, JSON bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api.blueprint import Invalid, error
from suite.auth.models import Membership
from suite.auth.permissions import grants, has_permission, permissions_of
from suite.db import db
from suite.errors import DomainError
from suite.workflow.models import CommandLog
from suite.workflow.planner import CommandRefused
from suite.workflow.views import refusal_message

MAX_LIMIT = 100


def me() -> Membership:
    return g.membership


def is_process_admin() -> bool:
    return grants(permissions_of(me()), "suite.workflow.manage")


def may(*permissions: str) -> None:
    """403 unless the caller holds one of `permissions`."""
    if not any(has_permission(p) for p in permissions):
        abort(403)


def paging() -> tuple[int | None, int]:
    """`after` and `limit` from the query string (limit 1..100, default the page size)."""
    errors: dict[str, list[str]] = {}
    after = limit = None
    raw_after = request.args.get("after")
    if raw_after not in (None, ""):
        if not raw_after.isdigit():
            errors["after"] = [_("Give a whole number.")]
        else:
            after = int(raw_after)
    raw_limit = request.args.get("limit")
    if raw_limit not in (None, ""):
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            errors["limit"] = [_("Give a whole number from 1 to %(max)d.", max=MAX_LIMIT)]
        else:
            limit = int(raw_limit)
    if errors:
        raise Invalid(errors)
    return after, limit or min(current_app.config["SUITE_PAGE_SIZE"], MAX_LIMIT)


def json_body(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object; unknown fields are refused so typos do not pass silently."""
    body = request.get_json(silent=True, force=True) if request.get_data(cache=True) else {}
    if not isinstance(body, dict):
        raise Invalid({"body": [_("Send a JSON object.")]})
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Invalid({name: [_("Unknown field.")] for name in unknown})
    return body


def optional_int(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = [_("Give a whole number.")]
        return None
    return value


def optional_str(
    body: dict[str, Any], name: str, errors: dict[str, list[str]], max_length: int
) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = [_("Give a text.")]
        return None
    if len(value) > max_length:
        errors[name] = [_("At most %(max)d characters.", max=max_length)]
        return None
    return value


def choice(
    body: dict[str, Any], name: str, options: tuple[str, ...], default: str, errors: dict
) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if value not in options:
        errors[name] = [_("Choose one of: %(options)s.", options=", ".join(options))]
        return default
    return value


def args(**choices: tuple[str, ...] | None) -> dict[str, Any]:
    """Query arguments: a tuple of allowed values, or None for a whole number (an id)."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name, allowed in choices.items():
        raw = request.args.get(name) or None
        if raw is None:
            out[name] = None
        elif allowed is None and not raw.isdigit():
            errors[name] = [_("Give a whole number.")]
        elif allowed is not None and raw not in allowed:
            errors[name] = [_("Choose one of: %(options)s.", options=", ".join(allowed))]
        else:
            out[name] = int(raw) if allowed is None else raw
    if errors:
        raise Invalid(errors)
    return out


def matching(stmt: sa.Select, model: Any, filters: dict[str, Any]) -> sa.Select:
    """`stmt` narrowed to rows whose column of each given filter's name equals its value
    (the filters `args()` parsed; a filter left out of the query is None and ignored)."""
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(model, name) == value)
    return stmt


def newest_first(stmt: sa.Select, key: Any) -> tuple[list[Any], int | None]:
    """One page of `stmt`, newest first after `?after=` (keyset on the id)."""
    after, limit = paging()
    if after is not None:
        stmt = stmt.where(key < after)
    rows = list(db.session.scalars(stmt.order_by(key.desc()).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def commit_or_invalid(
    save: Callable[[], Any], field: Callable[[str | None], str] | None = None
) -> Any:
    """`save()` then commit; a DomainError rolls back and answers 422 on its field."""
    try:
        row = save()
    except DomainError as exc:
        db.session.rollback()
        name = field(exc.field) if field else (exc.field or "body")
        raise Invalid({name: [exc.message]}) from exc
    db.session.commit()
    return row


def created(body: dict[str, Any], endpoint: str, **values: Any) -> Response:
    """201 with `body` and the new row's API URL in Location."""
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = url_for(endpoint, **values)
    return resp


def submit_once(submit: Callable[[str | None], Any]) -> dict[str, Any] | Response:
    """Run `submit(key)` with the body's optional idempotency key and commit: the process's first
    answer; a retry with the same key answers as the first time; a refusal is a 409/4xx response.
    """
    errors: dict[str, list[str]] = {}
    key = optional_str(json_body({"key"}), "key", errors, 100)
    if errors:
        raise Invalid(errors)
    key = f"api:{me().id}:{key}" if key else None
    log = db.session.scalar(sa.select(CommandLog).where(CommandLog.key == key)) if key else None
    if log is not None:  # a retry: answer as the first time
        return {**log.result, "replayed": True}
    try:
        outcome = submit(key)
    except DomainError as exc:
        db.session.rollback()
        return error(409, "refused", exc.message)
    except CommandRefused as exc:
        db.session.rollback()
        return error(exc.status, exc.code, refusal_message(exc.code), exc.details)
    db.session.commit()
    return {
        "instance_id": outcome.instance_id,
        "status": outcome.status,
        "version": outcome.version,
        "replayed": outcome.replayed,
    }
