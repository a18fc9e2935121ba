"""Every kernel model, imported once so metadata and the registry see them."""

from suite.api.models import ApiToken
from suite.audit.models import AuditAnchor, AuditEvent
from suite.auth.models import Department, LoginAttempt, Membership, MembershipRole, Role, User
from suite.checklists.models import (
    ChecklistAnswer,
    ChecklistRun,
    ChecklistTemplate,
    ChecklistTemplateVersion,
    Checkpoint,
    CheckpointToken,
)
from suite.documents import DocumentCounter
from suite.files import StoredFile
from suite.notify.models import Notification, OutboxMessage, WebhookEndpoint
from suite.requests.models import GeneralRequest
from suite.tenancy import Workspace
from suite.workflow.models import (
    CommandLog,
    Delegation,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    WorkflowTask,
    WorkflowTimer,
)

__all__ = [
    "ChecklistAnswer",
    "ChecklistRun",
    "ChecklistTemplate",
    "ChecklistTemplateVersion",
    "Checkpoint",
    "CheckpointToken",
    "StoredFile",
    "ApiToken",
    "AuditAnchor",
    "AuditEvent",
    "CommandLog",
    "Delegation",
    "DocumentCounter",
    "GeneralRequest",
    "ProcessDefinition",
    "ProcessInstance",
    "ProcessVersion",
    "WorkflowTask",
    "WorkflowTimer",
    "Department",
    "LoginAttempt",
    "Membership",
    "MembershipRole",
    "Notification",
    "OutboxMessage",
    "Role",
    "User",
    "WebhookEndpoint",
    "Workspace",
]
