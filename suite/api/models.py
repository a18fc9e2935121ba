"""Personal API tokens: a member's bearer secrets for the JSON API (only their hash is kept)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite.auth.models import Membership
from suite.db import WorkspaceScoped, db, utcnow


class ApiToken(WorkspaceScoped, db.Model):
    """One named token of one member. The secret is shown once; `token_hash` is its sha256.

    `prefix` (the secret's first characters) lets the owner tell tokens apart. A revoked token
    stays listed with `revoked_at` set and never authenticates again.
    """

    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    membership: Mapped[Membership] = relationship(foreign_keys=[membership_id])
