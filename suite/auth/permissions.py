"""Permission checks: `<module>.<object>.<action>` strings granted by the member's roles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, g

if TYPE_CHECKING:
    from suite.auth.models import Membership

F = TypeVar("F", bound=Callable[..., Any])

ALL = "*"


def permissions_of(membership: Membership | None) -> frozenset[str]:
    """The permissions a member's roles grant (`*` stands for all); none for no member.

    Needs no request: the JSON API, jobs and tests ask it for any membership.
    """
    perms: set[str] = set()
    if membership is not None:
        for role in membership.roles:
            perms.update(role.permissions or ())
    return frozenset(perms)


def grants(perms: frozenset[str], permission: str) -> bool:
    return ALL in perms or permission in perms


def current_permissions() -> frozenset[str]:
    """The permissions of the current member in the current workspace (cached per request)."""
    cached = g.get("_suite_permissions")
    if cached is not None:
        return cached
    g._suite_permissions = permissions_of(g.get("membership"))
    return g._suite_permissions


def has_permission(permission: str) -> bool:
    return grants(current_permissions(), permission)


def require(permission: str) -> Callable[[F], F]:
    """View decorator: 403 unless the member holds `permission` (login is checked first)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from flask_login import current_user

            from suite.extensions import login_manager

            if not current_user.is_authenticated or g.get("membership") is None:
                return login_manager.unauthorized()
            if not has_permission(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
