"""The OpenAPI 3 document, built by apispec from the views' YAML docstrings and these schemas.

Each `/api/v1` view documents its operations after a `---` line in its docstring; the first
line of the docstring becomes the summary. Path parameters come from the URL rule. A test
compares the document with `app.url_map`, so an undocumented route fails the build.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask

from suite.workflow.planner import USER_COMMANDS

TITLE = "Shunliu API"
VERSION = "1.0.0"
OPENAPI_VERSION = "3.1.0"
DESCRIPTION = (
    "Shunliu as JSON: the workflow kernel, QR checklists, and the modules' master data and "
    "documents. "
    "Authenticate every call with a personal API "
    "token (`Authorization: Bearer <token>`), created under Account -> API tokens; session "
    "cookies are not accepted. Money is a string with two decimals, never a number; times "
    "are ISO 8601 in UTC. Lists are newest first: pass a page's `next_after` as `after`."
)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
MONEY = {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "example": "1234.50"}
QTY = {"type": "string", "pattern": r"^-?\d{1,11}(\.\d{1,3})?$", "example": "480.000"}

# The builders, for the `SCHEMAS` a module's api contributes (Manifest.api).
nullable, ref, obj = _nullable, _ref, _obj

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(
        ["error", "message", "details"],
        error={**STR, "description": "A stable code, e.g. `stale`, `comment_required`."},
        message={**STR, "description": "The same in the caller's language."},
        details={"type": "object", "additionalProperties": True},
    ),
    "ValidationErrors": _obj(
        ["errors"],
        errors={
            "type": "object",
            "description": "Field name -> messages.",
            "additionalProperties": {"type": "array", "items": STR},
        },
    ),
    "Member": _obj(["id", "name"], id={**INT, "description": "The membership id."}, name=STR),
    "Actor": _obj(["id", "name"], id={**INT, "description": "The user id."}, name=STR),
    "Department": _obj(["id", "name"], id=INT, name=STR),
    "Me": _obj(
        ["user", "membership", "workspace", "roles", "permissions", "token"],
        user=_obj(
            ["id", "login", "display_name"],
            id=INT,
            login=STR,
            display_name=STR,
            email=_nullable(STR),
            locale=_nullable(STR),
        ),
        membership=_obj(
            ["id"],
            id=INT,
            title=_nullable(STR),
            department=_nullable(_ref("Department")),
            manager=_nullable(_ref("Member")),
        ),
        workspace=_obj(
            ["id", "code", "name", "timezone", "locale"],
            id=INT,
            code=STR,
            name=STR,
            timezone=STR,
            locale=STR,
        ),
        roles={"type": "array", "items": STR},
        permissions={
            "type": "array",
            "items": STR,
            "description": "Permission codes; `*` means all.",
        },
        token=_obj(["id", "name", "prefix"], id=INT, name=STR, prefix=STR),
    ),
    "InstanceSummary": _obj(
        ["id", "title", "status", "version", "document_type", "document_id", "started_at"],
        id=INT,
        title=STR,
        status={
            **STR,
            "enum": ["draft", "running", "approved", "rejected", "withdrawn", "cancelled"],
        },
        version={**INT, "description": "Send it back as `expected_version`."},
        document_type=STR,
        document_id=INT,
        initiator=_nullable(_ref("Member")),
        started_at=TIME,
        ended_at=_nullable(TIME),
    ),
    "Task": _obj(
        ["id", "instance_id", "node", "node_label", "kind", "status", "round", "created_at"],
        id=INT,
        instance_id=INT,
        node=STR,
        node_label=STR,
        kind={**STR, "enum": ["approval", "edit", "cc"]},
        status=STR,
        round=INT,
        assignee=_nullable(_ref("Member")),
        on_behalf_of=_nullable(_ref("Member")),
        comment=_nullable(STR),
        created_at=TIME,
        acted_at=_nullable(TIME),
        due_at=_nullable(TIME),
        instance={**_ref("InstanceSummary")},
    ),
    "TaskPage": _obj(
        ["tab", "items", "next_after", "counts"],
        tab={**STR, "enum": ["todo", "done", "started", "cc"]},
        items={
            "type": "array",
            "items": {"oneOf": [_ref("Task"), _ref("InstanceSummary")]},
        },
        next_after=_nullable(INT),
        counts=_obj(["todo", "done", "started", "cc"], todo=INT, done=INT, started=INT, cc=INT),
    ),
    "Event": _obj(
        ["seq", "action", "at", "data"],
        seq=INT,
        action={**STR, "description": "`create`, `update`, or `wf.<event>` (wf.approve, ...)."},
        at=TIME,
        actor=_nullable(_ref("Actor")),
        on_behalf_of=_nullable(_ref("Actor")),
        data={"type": "object", "additionalProperties": True},
    ),
    "Instance": {
        "allOf": [
            _ref("InstanceSummary"),
            _obj(
                ["process", "document", "values", "current", "my_open_task_ids", "tasks"],
                process=_obj(["key", "version"], key=STR, label=STR, version=INT),
                document=_obj(["type", "id"], type=STR, id=INT, url=_nullable(STR)),
                values={
                    "type": "object",
                    "additionalProperties": True,
                    "description": "The document's values at submit; money as strings.",
                },
                current={
                    "type": "array",
                    "items": _obj(
                        ["node", "label", "assignees", "task_ids"],
                        node=STR,
                        label=STR,
                        kind=_nullable(STR),
                        assignees={"type": "array", "items": _ref("Member")},
                        task_ids={"type": "array", "items": INT},
                    ),
                },
                my_open_task_ids={"type": "array", "items": INT},
                tasks={"type": "array", "items": _ref("Task")},
                timeline={"type": "array", "items": _ref("Event")},
            ),
        ]
    },
    "Command": _obj(
        ["command"],
        command={**STR, "enum": list(USER_COMMANDS)},
        task_id=_nullable({**INT, "description": "The task acted on (approve, reject, ...)."}),
        comment={**STR, "maxLength": 2000},
        key=_nullable(
            {**STR, "maxLength": 100, "description": "Idempotency key: a retry replays."}
        ),
        expected_version=_nullable(INT),
        target=_nullable({**STR, "description": "send_back / jump: the step id."}),
        resume={**STR, "enum": ["returning", "rerun"], "default": "returning"},
        assignees={
            "type": "array",
            "items": INT,
            "description": "Membership ids: transfer, add_approver, cc, reassign.",
        },
        position={**STR, "enum": ["before", "after", "parallel"], "default": "after"},
    )
    | {"additionalProperties": False},
    "CommandResult": _obj(
        ["result", "instance"],
        result=_obj(
            ["instance_id", "status", "version", "replayed"],
            instance_id=INT,
            status=STR,
            version=INT,
            replayed={"type": "boolean"},
        ),
        instance=_ref("Instance"),
    ),
    "GeneralRequest": _obj(
        ["id", "number", "title", "amount", "urgency", "reason", "status", "created_at"],
        id=INT,
        number={**STR, "example": "GR-2026-0001"},
        title=STR,
        amount=_nullable(MONEY),
        urgency={**STR, "enum": ["low", "normal", "high"]},
        reason=STR,
        status={**STR, "enum": ["draft", "submitted", "approved", "rejected"]},
        requester=_nullable(_ref("Member")),
        department=_nullable(_ref("Department")),
        instance_id=_nullable(INT),
        created_at=TIME,
        submitted_at=_nullable(TIME),
    ),
    "GeneralRequestInput": {
        **_obj(
            ["title"],
            title={**STR, "maxLength": 200},
            amount=_nullable(MONEY),
            urgency={**STR, "enum": ["low", "normal", "high"], "default": "normal"},
            reason={**STR, "maxLength": 5000},
        ),
        "additionalProperties": False,
    },
    "GeneralRequestPage": _obj(
        ["items", "next_after"],
        items={"type": "array", "items": _ref("GeneralRequest")},
        next_after=_nullable(INT),
    ),
    "SubmitInput": {
        **_obj([], key=_nullable({**STR, "maxLength": 100})),
        "additionalProperties": False,
    },
    "SubmitResult": _obj(
        ["request", "result"],
        request=_ref("GeneralRequest"),
        result=_obj(
            ["instance_id", "status", "version", "replayed"],
            instance_id=INT,
            status=STR,
            version=INT,
            replayed={"type": "boolean"},
        ),
    ),
}


def kernel_schemas() -> dict[str, dict[str, Any]]:
    """The kernel's schemas: these and the checklist kernel's (`suite.api.checklists`)."""
    from suite.api.checklists import SCHEMAS as CHECKLISTS

    return SCHEMAS | CHECKLISTS


def _error_response(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


RESPONSES = {
    "Unauthorized": _error_response(
        "No token, an unknown or revoked one, or its member or user is disabled."
    ),
    "Forbidden": _error_response("The caller lacks the permission this needs."),
    "NotFound": _error_response("Not in this workspace, or not visible to the caller."),
    "Invalid": _error_response("The input does not validate.", "ValidationErrors"),
    "Refused": _error_response("The command does not fit the current state."),
}

PARAMETERS = {
    "after": {
        "name": "after",
        "in": "query",
        "description": "The `next_after` of the previous page.",
        "schema": INT,
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "Rows per page (default: the site's page size).",
        "schema": {**INT, "minimum": 1, "maximum": 100},
    },
}


class SuitePlugin(FlaskPlugin):
    """apispec's Flask plugin, plus: the docstring's first line as summary, the endpoint as
    operation id, typed path parameters from the URL rule, no security on public views."""

    def path_helper(
        self,
        path: str | None = None,
        operations: dict | None = None,
        parameters: list | None = None,
        **kwargs: Any,
    ) -> str | None:
        view, app = kwargs["view"], kwargs["app"]
        rule = self._rule_for_view(view, app=app)
        if parameters is not None:
            parameters.extend(
                {"name": arg, "in": "path", "required": True, "schema": _path_type(rule, arg)}
                for arg in sorted(rule.arguments)
            )
        return super().path_helper(path, operations, parameters, **kwargs)

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        view, app = kwargs["view"], kwargs["app"]
        endpoint = self._rule_for_view(view, app=app).endpoint
        doc = (view.__doc__ or "").strip()
        for operation in (operations or {}).values():
            operation.setdefault("summary", doc.splitlines()[0] if doc else endpoint)
            operation.setdefault("operationId", endpoint.removeprefix("api."))
            if getattr(view, "api_public", False):
                operation["security"] = []


def _path_type(rule: Any, arg: str) -> dict[str, Any]:
    converter = rule._converters.get(arg)
    return INT if type(converter).__name__ == "IntegerConverter" else STR


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every view of the `api` blueprint."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[SuitePlugin()],
        info={"description": DESCRIPTION},
        security=[{"bearer": []}],
    )
    spec.components.security_scheme(
        "bearer",
        {"type": "http", "scheme": "bearer", "description": "A personal API token."},
    )
    for name, schema in (kernel_schemas() | app.extensions.get("suite.api.schemas", {})).items():
        spec.components.schema(name, schema)
    for name, response in RESPONSES.items():
        spec.components.response(name, response)
    for name, parameter in PARAMETERS.items():
        spec.components.parameter(name, "query", parameter)
    for endpoint, view in sorted(app.view_functions.items()):
        if endpoint.startswith("api."):
            spec.path(view=view, app=app)
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """The document, built once per app."""
    cached = app.extensions.get("suite.api.spec")
    if cached is None:
        cached = app.extensions["suite.api.spec"] = build(app)
    return cached
