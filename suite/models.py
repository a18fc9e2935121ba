"""Every kernel model, imported once so metadata and the registry see them."""

from suite.audit.models import AuditAnchor, AuditEvent
from suite.auth.models import Department, LoginAttempt, Membership, MembershipRole, Role, User
from suite.tenancy import Workspace

__all__ = [
    "AuditAnchor",
    "AuditEvent",
    "Department",
    "LoginAttempt",
    "Membership",
    "MembershipRole",
    "Role",
    "User",
    "Workspace",
]
