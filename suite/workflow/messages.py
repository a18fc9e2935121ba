"""Notification texts for process events, written to the outbox in the workspace's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from suite.i18n import localized
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
OTHER = _l("Update: %(title)s")


def node_label(spec: dict, node_id: str | None, locale: str) -> str:
    if not node_id:
        return ""
    return localized(spec["nodes"].get(node_id, {}).get("label"), locale) or node_id


def subject_template(event: str, locale: str) -> str:
    """The translated subject of an event, `%(title)s` still in it (cached per app: looking a
    locale up through Babel costs more than the rest of a notification)."""
    cache = current_app.extensions.setdefault("suite.workflow_subjects", {})
    key = (event, locale)
    if key not in cache:
        with force_locale(locale):
            cache[key] = str(SUBJECTS.get(event, OTHER))
    return cache[key]


def rows(
    instance: Any,
    spec: Mapping[str, Any],
    effects: Sequence[Notify],
    org: Any,
    locale: str,
    link: str,
) -> list[dict[str, Any]]:
    """Outbox rows (column values) for a command's Notify effects, as `notify()` would write
    them one effect at a time: active recipients only, e-mail where there is an address, and
    the webhooks subscribed to each event."""
    from suite.notify import check_link, message_rows

    check_link(link)
    out: list[dict[str, Any]] = []
    for effect in effects:
        recipients = list(dict.fromkeys(int(r) for r in effect.recipients if r))
        if not recipients:
            continue
        people = org.persons(recipients)
        subject = subject_template(effect.event, locale) % {"title": instance.title}
        step = node_label(spec, effect.node, locale)
        out += message_rows(
            [(i, people[i].email) for i in recipients if i in people and people[i].reachable],
            [(e.id, e.url) for e in org.endpoints() if e.subscribes(effect.event)],
            workspace_id=instance.workspace_id,
            event=effect.event,
            subject=subject,
            body=f"{subject}\n{step}".strip(),
            link=link,
            payload={"instance_id": instance.id, "node": effect.node},
        )
    return out
