"""What the editor reads from the merged spec and the workspace: the editable nodes in flow order,
where each is reached from, and the roles, people, departments and fields an entry may name."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from suite.auth.models import Department, Membership, Role, User
from suite.db import db
from suite.i18n import localized as pick
from suite.workflow.definitions import successors

EDITABLE_KINDS = ("approval", "cc", "decision")


@dataclasses.dataclass(frozen=True)
class Choices:
    """What approver entries may name in this workspace: (value, label) pairs."""

    roles: list[tuple[str, str]]
    users: list[tuple[str, str]]
    departments: list[tuple[str, str]]
    fields: list[tuple[str, str]]

    def labels(self, node_ids: Collection[str]) -> dict[str, str]:
        """Role codes, logins and fields to display names, for the drawing's summaries.

        `render_flow` reads a node id in the same mapping as that node's whole summary, so a
        login that is also a node id (`finance`) is left out.
        """
        names = dict((*self.roles, *self.users, *self.fields))
        return {k: v for k, v in names.items() if k not in node_ids}


def workspace_choices(spec: Mapping[str, Any], locale: str) -> Choices:
    from suite.templating import role_label

    roles = db.session.scalars(sa.select(Role).order_by(Role.builtin.desc(), Role.code))
    users = db.session.execute(
        sa.select(User.login, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.active.is_(True))
        .order_by(User.display_name)
    ).all()
    departments = db.session.scalars(sa.select(Department.name).order_by(Department.name))
    return Choices(
        roles=[(r.code, str(role_label(r))) for r in roles],
        users=[(u.login, u.display_name) for u in users],
        departments=[(d, d) for d in dict.fromkeys(departments)],
        fields=[(n, pick(f.get("label"), locale) or n) for n, f in field_specs(spec).items()],
    )


def field_specs(spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(k): (v or {}) for k, v in (spec.get("fields") or {}).items()}


def editable_nodes(spec: Mapping[str, Any]) -> list[str]:
    """Approval, CC and decision nodes in flow order: each after every step leading to it, a
    decision's branches in case order (a topological order from a depth-first walk)."""
    nodes = spec.get("nodes") or {}
    seen: set[str] = set()
    finished: list[str] = []

    def visit(node_id: Any) -> None:
        if node_id not in nodes or node_id in seen:
            return
        seen.add(node_id)
        for succ in reversed(successors(nodes[node_id])):
            visit(succ)
        finished.append(node_id)

    visit(spec.get("start"))
    order = finished[::-1] + [n for n in nodes if n not in seen]
    return [n for n in order if nodes[n].get("kind") in EDITABLE_KINDS]


def arrivals(spec: Mapping[str, Any], node_id: str, locale: str) -> list[str]:
    """Where a document comes from into `node_id`: "Amount check, case 2", "Department head"."""
    out = []
    for pred_id, pred in (spec.get("nodes") or {}).items():
        label = pick(pred.get("label"), locale) or pred_id
        if pred.get("kind") == "decision":
            for i, case in enumerate(pred.get("cases") or ()):
                if case.get("next") == node_id:
                    out.append(_("%(step)s, case %(n)s", step=label, n=i + 1))
            if pred.get("default") == node_id:
                out.append(_("%(step)s, otherwise", step=label))
        elif node_id in successors(pred):
            out.append(label)
    return out
