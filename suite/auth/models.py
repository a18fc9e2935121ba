"""People: global user accounts, their membership of workspaces, departments and roles."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.db import WorkspaceScoped, db, utcnow
from suite.tenancy import Workspace


class User(UserMixin, db.Model):
    """A login. One person may belong to several workspaces through `Membership`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(80), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    # Bumped when the password changes or the account is disabled: old sessions stop working.
    auth_version: Mapped[int] = mapped_column(default=1)
    last_workspace_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workspace.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __audited__ = True  # global row: its events carry no workspace
    __audit_redact__ = frozenset({"password_hash"})

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class Department(WorkspaceScoped, db.Model):
    """A node of the workspace's department tree; `head` approves for it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="RESTRICT"), index=True
    )
    head_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL", use_alter=True)
    )
    sort: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent")
    head: Mapped[Membership | None] = relationship(foreign_keys=[head_id])

    __table_args__ = (sa.UniqueConstraint("workspace_id", "parent_id", "name"),)


class Membership(WorkspaceScoped, db.Model):
    """A user inside one workspace: department, manager, roles, active flag."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str | None] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    workspace: Mapped[Workspace] = relationship()
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    manager: Mapped[Membership | None] = relationship(remote_side=[id])
    roles: Mapped[list[Role]] = relationship(
        secondary="membership_role", order_by="Role.code", viewonly=True
    )

    __table_args__ = (sa.UniqueConstraint("workspace_id", "user_id"),)

    def manager_chain(self, levels: int) -> list[Membership]:
        """Managers 1..levels up, stopping at a loop or the top (逐级审批)."""
        chain: list[Membership] = []
        seen = {self.id}
        node = self.manager
        while node is not None and len(chain) < levels and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = node.manager
        return chain


class Role(WorkspaceScoped, db.Model):
    """A set of permissions. Built-in roles come from manifests; admins may edit or add roles."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str | None] = mapped_column(sa.String(120))  # custom roles; built-ins translate
    permissions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    builtin: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("workspace_id", "code"),)


class MembershipRole(WorkspaceScoped, db.Model):
    membership_id: Mapped[int] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LoginAttempt(db.Model):
    """Failed and successful logins, for per-account and per-address throttling."""

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(80))
    ip: Mapped[str] = mapped_column(sa.String(64))
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.Index("ix_login_attempt_login_at", "login", "at"),
        sa.Index("ix_login_attempt_ip_at", "ip", "at"),
    )
