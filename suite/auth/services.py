"""People services: authentication with throttling, members, departments, roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from suite.auth.models import Department, LoginAttempt, Membership, MembershipRole, Role, User
from suite.auth.passwords import burn_time, hash_password, verify_password
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.registry import Registry
from suite.tenancy import Workspace, system


class LoginThrottledError(Exception):
    """Too many failed logins for this account or address; `minutes` until the window clears."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


def _failures_since(column: sa.ColumnElement, value: str, since: dt.datetime) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginAttempt)
            .where(column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        )
        or 0
    )


def check_throttle(login: str, ip: str) -> None:
    """Raise `LoginThrottledError` when the account or address failed too often lately."""
    cfg = current_app.config
    window = dt.timedelta(seconds=cfg["SUITE_LOGIN_WINDOW_SECONDS"])
    since = utcnow() - window
    too_many = (
        _failures_since(LoginAttempt.login, login, since) >= cfg["SUITE_LOGIN_MAX_PER_ACCOUNT"]
        or _failures_since(LoginAttempt.ip, ip, since) >= cfg["SUITE_LOGIN_MAX_PER_IP"]
    )
    if too_many:
        minutes = max(1, int(window.total_seconds() // 60))
        raise LoginThrottledError(minutes)


def authenticate(login: str, password: str, ip: str) -> User | None:
    """The active user with this login (or e-mail) and password; every attempt is recorded."""
    login = login.strip().lower()
    with system():
        check_throttle(login, ip)
        user = db.session.scalar(
            sa.select(User).where(
                sa.or_(sa.func.lower(User.login) == login, sa.func.lower(User.email) == login)
            )
        )
        if user is None:
            burn_time(password)
            ok = False
        else:
            ok = verify_password(user.password_hash, password) and user.active
        db.session.add(LoginAttempt(login=login, ip=ip, success=ok))
        db.session.commit()
    return user if ok else None


def memberships_of(user: User) -> list[sa.Row]:
    """(workspace_id, name) of the user's active memberships: plain rows, so no other
    workspace's objects enter the session's identity map."""
    with system():
        return list(
            db.session.execute(
                sa.select(Membership.workspace_id, Workspace.name)
                .join(Workspace, Workspace.id == Membership.workspace_id)
                .where(Membership.user_id == user.id, Membership.active.is_(True))
                .order_by(Workspace.name)
            )
        )


# --- workspaces and roles -----------------------------------------------------------------------


def sync_roles(workspace: Workspace, registry: Registry) -> dict[str, Role]:
    """Create the manifests' built-in roles in a workspace and give built-in roles the
    permissions a newer release added to them. Each permission is offered once (remembered in
    the workspace settings), so one an admin took away stays away."""
    existing = {
        r.code: r
        for r in db.session.scalars(sa.select(Role).where(Role.workspace_id == workspace.id))
    }
    settings = dict(workspace.settings or {})
    offered = {k: set(v) for k, v in (settings.get("roles_offered") or {}).items()}
    for code, spec in registry.roles.items():
        role = existing.get(code)
        if role is None:
            role = Role(workspace_id=workspace.id, code=code, permissions=[], builtin=True)
            db.session.add(role)
            existing[code] = role
        new = set(spec.permissions) - offered.get(code, set())
        if new and role.builtin:
            role.permissions = sorted(set(role.permissions or ()) | new)
        offered[code] = offered.get(code, set()) | set(spec.permissions)
    settings["roles_offered"] = {k: sorted(v) for k, v in sorted(offered.items())}
    if settings != (workspace.settings or {}):
        workspace.settings = settings
    db.session.flush()
    return existing


def create_workspace(
    code: str, name: str, registry: Registry, timezone: str = "Asia/Shanghai"
) -> Workspace:
    ws = Workspace(code=code, name=name, timezone=timezone)
    db.session.add(ws)
    db.session.flush()
    sync_roles(ws, registry)
    return ws


def save_role(
    role: Role | None,
    *,
    code: str,
    name: str | None,
    permissions: Iterable[str],
    registry: Registry,
) -> Role:
    unknown = [p for p in permissions if p != "*" and p not in registry.permissions]
    if unknown:
        raise DomainError(_("Unknown permission: %(p)s", p=", ".join(unknown)), "permissions")
    if role is None:
        clash = db.session.scalar(sa.select(Role.id).where(Role.code == code))
        if clash:
            raise DomainError(_("A role with this code exists already."), "code")
        role = Role(code=code, builtin=False)
        db.session.add(role)
    role.name = name or None
    role.permissions = sorted(set(permissions))
    db.session.flush()
    return role


# --- members ------------------------------------------------------------------------------------


def save_member(
    membership: Membership | None,
    *,
    login: str,
    display_name: str,
    email: str | None,
    password: str | None,
    department_id: int | None,
    manager_id: int | None,
    role_ids: Iterable[int],
    active: bool,
    title: str | None = None,
) -> Membership:
    """Create or update a member of the current workspace (and its global user account)."""
    login = login.strip().lower()
    email = (email or "").strip().lower() or None
    with system():
        clash = db.session.scalar(
            sa.select(User).where(
                sa.or_(
                    sa.func.lower(User.login) == login,
                    sa.and_(User.email.is_not(None), sa.func.lower(User.email) == (email or "")),
                )
            )
        )
    if clash is not None and (membership is None or clash.id != membership.user_id):
        field = "login" if clash.login.lower() == login else "email"
        raise DomainError(_("This login or e-mail is already taken."), field)
    if membership is None:
        if not password:
            raise DomainError(_("A new user needs a password."), "password")
        user = User(
            login=login,
            display_name=display_name,
            email=email,
            password_hash=hash_password(password),
        )
        db.session.add(user)
        db.session.flush()
        membership = Membership(user_id=user.id)
        db.session.add(membership)
    user = membership.user or db.session.get(User, membership.user_id)
    user.login, user.display_name, user.email = login, display_name, email
    if password and membership.id is not None:
        user.password_hash = hash_password(password)
        user.auth_version += 1
    if manager_id is not None and membership.id is not None and manager_id == membership.id:
        raise DomainError(_("A person cannot be their own manager."), "manager_id")
    membership.department_id = department_id
    membership.manager_id = manager_id
    membership.title = title or None
    if membership.active and not active:
        user.auth_version += 1  # ends this user's sessions
    membership.active = active
    db.session.flush()
    set_roles(membership, role_ids)
    return membership


def set_roles(membership: Membership, role_ids: Iterable[int]) -> None:
    wanted = set(role_ids)
    valid = (
        set(db.session.scalars(sa.select(Role.id).where(Role.id.in_(wanted)))) if wanted else set()
    )
    if wanted - valid:
        raise DomainError(_("Unknown role."), "role_ids")
    current = {
        mr.role_id: mr
        for mr in db.session.scalars(
            sa.select(MembershipRole).where(MembershipRole.membership_id == membership.id)
        )
    }
    for role_id in wanted - current.keys():
        db.session.add(MembershipRole(membership_id=membership.id, role_id=role_id))
    for role_id in current.keys() - wanted:
        db.session.delete(current[role_id])
    db.session.flush()
    db.session.expire(membership, ["roles"])


# --- departments --------------------------------------------------------------------------------


def save_department(
    dept: Department | None, *, name: str, parent_id: int | None, head_id: int | None, sort: int = 0
) -> Department:
    if dept is not None and parent_id is not None:
        node = db.session.get(Department, parent_id)
        while node is not None:
            if node.id == dept.id:
                raise DomainError(_("A department cannot be inside itself."), "parent_id")
            node = node.parent
    dup = db.session.scalar(
        sa.select(Department.id).where(
            Department.name == name,
            Department.parent_id.is_(parent_id)
            if parent_id is None
            else Department.parent_id == parent_id,
        )
    )
    if dup is not None and (dept is None or dup != dept.id):
        raise DomainError(_("A department with this name exists at this level."), "name")
    if dept is None:
        dept = Department(name=name)
        db.session.add(dept)
    dept.name, dept.parent_id, dept.head_id, dept.sort = name, parent_id, head_id, sort
    db.session.flush()
    return dept


def department_tree() -> list[tuple[Department, int]]:
    """Departments in tree order with their depth (one query)."""
    rows = list(
        db.session.scalars(sa.select(Department).order_by(Department.sort, Department.name))
    )
    children: dict[int | None, list[Department]] = {}
    for d in rows:
        children.setdefault(d.parent_id, []).append(d)
    out: list[tuple[Department, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for d in children.get(parent, []):
            out.append((d, depth))
            walk(d.id, depth + 1)

    walk(None, 0)
    return out
