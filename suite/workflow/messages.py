"""Notification texts for process events, written to the outbox in the workspace's language."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from suite.db import db
from suite.i18n import localized
from suite.tenancy import Workspace
from suite.workflow.models import ProcessInstance
from suite.workflow.planner import Notify

SUBJECTS = {
    "task_assigned": _l("Approval needed: %(title)s"),
    "returned_to_you": _l("Sent back to you: %(title)s"),
    "cc": _l("For your information: %(title)s"),
    "urge": _l("The requester is waiting: %(title)s"),
    "remind": _l("Still waiting for your approval: %(title)s"),
    "approved": _l("Approved: %(title)s"),
    "rejected": _l("Rejected: %(title)s"),
    "cancelled": _l("Cancelled: %(title)s"),
}


def node_label(spec: dict, node_id: str | None, locale: str) -> str:
    if not node_id:
        return ""
    return localized(spec["nodes"].get(node_id, {}).get("label"), locale) or node_id


def send(instance: ProcessInstance, effect: Notify) -> None:
    """Outbox rows for one Notify effect (delivered later by the outbox drain job)."""
    from suite.notify import notify
    from suite.workflow.engine import document_types

    recipients = [r for r in effect.recipients if r]
    if not recipients:
        return
    ws = db.session.get(Workspace, instance.workspace_id)
    doc_type = document_types()[instance.document_type]
    link = doc_type.url(doc_type.get(instance.document_id))
    spec = instance.process_version.spec
    with force_locale(ws.locale):
        subject = str(
            SUBJECTS.get(effect.event, _l("Update: %(title)s")) % {"title": instance.title}
        )
        step = node_label(spec, effect.node, ws.locale)
        body = f"{subject}\n{step}".strip()
    notify(
        recipients,
        effect.event,
        subject,
        body,
        link=link,
        payload={"instance_id": instance.id, "node": effect.node},
    )
