"""The caller, their inbox, process instances and the commands that move them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from suite.api import inbox, serialize
from suite.api.blueprint import Invalid, bp, error
from suite.api.views.common import (
    choice,
    is_process_admin,
    json_body,
    me,
    optional_int,
    optional_str,
    paging,
)
from suite.auth.models import Membership
from suite.auth.permissions import permissions_of
from suite.db import db
from suite.tenancy import get_or_404
from suite.workflow import engine
from suite.workflow.models import ProcessInstance
from suite.workflow.planner import USER_COMMANDS, CommandRefused
from suite.workflow.views import PAGES, refusal_message

COMMAND_FIELDS = {
    "command",
    "task_id",
    "comment",
    "key",
    "expected_version",
    "target",
    "resume",
    "assignees",
    "position",
}
KEY_MAX = 100


@bp.route("/me")
def me_detail() -> Response:
    """The token's user, membership, workspace, roles and permissions.
    ---
    get:
      tags: [me]
      responses:
        200:
          description: The caller.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Me'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    member = me()
    user, ws, dept = member.user, g.workspace, member.department
    return jsonify(
        {
            "user": {
                "id": user.id,
                "login": user.login,
                "display_name": user.display_name,
                "email": user.email,
                "locale": user.locale,
            },
            "membership": {
                "id": member.id,
                "title": member.title,
                "department": {"id": dept.id, "name": dept.name} if dept else None,
                "manager": serialize.members([member.manager_id]).get(member.manager_id),
            },
            "workspace": {
                "id": ws.id,
                "code": ws.code,
                "name": ws.name,
                "timezone": ws.timezone,
                "locale": ws.locale,
            },
            "roles": [r.code for r in member.roles],
            "permissions": sorted(permissions_of(member)),
            "token": {"id": g.api_token.id, "name": g.api_token.name, "prefix": g.api_token.prefix},
        }
    )


@bp.route("/tasks")
def task_list() -> Response:
    """The inbox: one tab, newest first, with the count of every tab.
    ---
    get:
      tags: [tasks]
      parameters:
        - name: tab
          in: query
          description: "todo: my open approval and edit tasks; done: tasks I closed;
            started: processes I started; cc: copies sent to me."
          schema: {type: string, enum: [todo, done, started, cc], default: todo}
        - after
        - limit
      responses:
        200:
          description: One page of the tab. Items are tasks, or process instances for `started`.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/TaskPage'}
        401: {$ref: '#/components/responses/Unauthorized'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    tab = request.args.get("tab") or "todo"
    if tab not in inbox.TABS:
        raise Invalid({"tab": [_("Choose one of: %(options)s.", options=", ".join(inbox.TABS))]})
    after, limit = paging()
    rows, next_after = inbox.page(tab, me().id, after, limit)
    items = serialize.instance_rows(rows) if tab == "started" else serialize.task_rows(rows)
    return jsonify(
        {"tab": tab, "items": items, "next_after": next_after, "counts": inbox.counts(me().id)}
    )


def visible_instance(process_instance_id: int) -> ProcessInstance:
    """The instance if the caller may see its document (the rule its document type registered
    for the web pages: requester, people with a task, department line, process admins), else
    404."""
    instance = get_or_404(ProcessInstance, process_instance_id)
    pages = PAGES.get(instance.document_type)
    doc_type = engine.document_types().get(instance.document_type)
    document = doc_type.get(instance.document_id) if doc_type else None
    if pages is None or document is None or not pages.visible(document):
        abort(404)
    return instance


@bp.route("/instances/<int:process_instance_id>")
def instance_detail(process_instance_id: int) -> Response:
    """A process instance: status, version, current steps, tasks and timeline.
    ---
    get:
      tags: [instances]
      description: Visible to whoever may see its document, as on the web pages (for a
        general request the requester, everyone with a task on it, the requester's department
        line and process administrators); to anyone else it does not exist (404).
      responses:
        200:
          description: The instance.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Instance'}
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    instance = visible_instance(process_instance_id)
    return jsonify(serialize.instance_detail(instance, me().id))


def _command_args(body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = body.get("command")
    if kind not in USER_COMMANDS:
        errors["command"] = [_("Choose one of: %(options)s.", options=", ".join(USER_COMMANDS))]
    args: dict[str, Any] = {
        "task_id": optional_int(body, "task_id", errors),
        "expected_version": optional_int(body, "expected_version", errors),
        "comment": (optional_str(body, "comment", errors, 2000) or "").strip(),
        "target": optional_str(body, "target", errors, 80),
        "resume": choice(body, "resume", ("returning", "rerun"), "returning", errors),
        "position": choice(body, "position", ("before", "after", "parallel"), "after", errors),
    }
    key = optional_str(body, "key", errors, KEY_MAX)
    assignees = body.get("assignees") or []
    if not isinstance(assignees, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in assignees
    ):
        errors["assignees"] = [_("Give a list of member ids.")]
    elif assignees:
        known = set(
            db.session.scalars(
                sa.select(Membership.id).where(
                    Membership.id.in_(assignees), Membership.active.is_(True)
                )
            )
        )
        if known != set(assignees):  # another workspace's, a disabled one, a made-up id
            errors["assignees"] = [refusal_message("unknown_member")]
    if errors:
        raise Invalid(errors)
    # Keys are the caller's own: another member's key never replays their answer to this one.
    args["key"] = f"api:{me().id}:{key}" if key else None
    args["assignees"] = tuple(dict.fromkeys(assignees))
    args["kind"] = kind
    return args


@bp.route("/instances/<int:process_instance_id>/commands", methods=["POST"])
def instance_command(process_instance_id: int) -> Response:
    """Run a command (approve, reject, send back, ...) on a process instance.
    ---
    post:
      tags: [instances]
      description: One command is one transaction. Send `expected_version` (the instance's
        `version` you saw) to be told 409 `stale` when someone acted in between, and a `key`
        to make a retry safe (the first answer is returned again, with `replayed` true).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Command'}
      responses:
        200:
          description: Done; the instance as it is now.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CommandResult'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Refused'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Refused'}
        422:
          description: Invalid input, or refused for bad input (e.g. `comment_required`).
          content:
            application/json:
              schema:
                oneOf:
                  - {$ref: '#/components/schemas/ValidationErrors'}
                  - {$ref: '#/components/schemas/Error'}
        429: {$ref: '#/components/responses/Refused'}
    """
    instance = visible_instance(process_instance_id)
    args = _command_args(json_body(COMMAND_FIELDS))
    kind = args.pop("kind")
    kind = "approve" if kind == "resubmit" else kind
    try:
        result = engine.command(instance.id, kind, me().id, is_admin=is_process_admin(), **args)
    except CommandRefused as exc:
        db.session.rollback()
        return error(exc.status, exc.code, refusal_message(exc.code), exc.details)
    db.session.commit()
    instance = db.session.get(ProcessInstance, instance.id)
    return jsonify(
        {
            "result": {
                "instance_id": result.instance_id,
                "status": result.status,
                "version": result.version,
                "replayed": result.replayed,
            },
            "instance": serialize.instance_detail(instance, me().id),
        }
    )
