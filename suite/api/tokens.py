"""API token services: issue (the secret is returned once), revoke, and resolve a bearer secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.api.models import ApiToken
from suite.auth.models import Membership, User
from suite.db import db, utcnow
from suite.errors import DomainError
from suite.tenancy import system

SECRET_PREFIX = "slt_"  # noqa: S105 - not a secret: lets logs and secret scanners spot tokens
PREFIX_LENGTH = 8
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is a hint, not a log: spare the writes


def digest(secret: str) -> str:
    """sha256 of the secret. Secrets are 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(membership: Membership, name: str) -> tuple[ApiToken, str]:
    """A new token for `membership` and its secret, which is stored only as a hash."""
    name = name.strip()
    if not name or len(name) > 80:
        raise DomainError(_("Give the token a name of at most 80 characters."), "name")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        membership_id=membership.id,
        name=name,
        token_hash=digest(secret),
        prefix=secret[:PREFIX_LENGTH],
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke(token: ApiToken) -> None:
    """The token stops working at once; it stays listed as revoked."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def tokens_of(membership: Membership) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.membership_id == membership.id)
            .order_by(ApiToken.id.desc())
        )
    )


@dataclass(frozen=True)
class Bearer:
    """Who a valid secret speaks for."""

    token: ApiToken
    membership: Membership
    user: User


def resolve(secret: str) -> Bearer | None:
    """The live token with this secret and its active member and user, else None.

    Looked up across workspaces (the secret says which one); the caller then binds it.
    """
    if not secret.startswith(SECRET_PREFIX):
        return None
    with system():
        row = db.session.execute(
            sa.select(ApiToken, Membership, User)
            .join(Membership, Membership.id == ApiToken.membership_id)
            .join(User, User.id == Membership.user_id)
            .where(ApiToken.token_hash == digest(secret))
        ).first()
    if row is None:
        return None
    token, membership, user = row
    if token.revoked_at is not None or not membership.active or not user.active:
        return None
    return Bearer(token, membership, user)


def touch(token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record the use, at most once a minute, without an audit event (a Core UPDATE)."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    table = ApiToken.__table__
    db.session.execute(sa.update(table).where(table.c.id == token.id).values(last_used_at=now))
    db.session.commit()
