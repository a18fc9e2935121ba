"""Helpers the API views share: the caller, paging arguments, JSON bodies."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _

from suite.api.blueprint import Invalid
from suite.auth.models import Membership
from suite.auth.permissions import grants, permissions_of

MAX_LIMIT = 100


def me() -> Membership:
    return g.membership


def is_process_admin() -> bool:
    return grants(permissions_of(me()), "suite.workflow.manage")


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
