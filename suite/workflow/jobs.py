"""Workflow background jobs: batch approval from the inbox (批量同意)."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext

from suite.db import db
from suite.tenancy import Workspace, current_workspace_id
from suite.workflow import engine
from suite.workflow.models import WorkflowTask
from suite.workflow.planner import CommandRefused


def batch_approve(member_id: int, task_ids: list[int], key_prefix: str) -> dict[str, Any]:
    """Approve each task as `member_id`, one transaction per task; returns per-task results.

    Each approval carries the key `<key_prefix>:<task id>`, so running the job twice (a retry,
    a double click) approves nothing twice. A refused one (changed meanwhile, needs a comment)
    is reported and the others go on. The member gets one in-app summary.
    """
    results: list[dict[str, Any]] = []
    for task_id in task_ids:
        task = db.session.get(WorkflowTask, int(task_id))
        if task is None:
            results.append({"task": task_id, "ok": False, "code": "unknown_task"})
            continue
        instance_id = task.instance_id
        try:
            result = engine.command(
                instance_id,
                "approve",
                member_id,
                key=f"{key_prefix}:{task_id}",
                task_id=task.id,
            )
            db.session.commit()
            results.append({"task": task_id, "ok": True, "status": result.status})
        except CommandRefused as exc:
            db.session.rollback()
            results.append({"task": task_id, "ok": False, "code": exc.code})
    approved = sum(r["ok"] for r in results)
    summary = {"approved": approved, "failed": len(results) - approved, "results": results}
    _notify(member_id, summary)
    return summary


def _notify(member_id: int, summary: dict[str, Any]) -> None:
    try:
        from suite.notify import notify
    except ImportError:  # notifications are optional for this job
        return
    ws = db.session.get(Workspace, current_workspace_id())
    with force_locale(ws.locale if ws else "zh_CN"):
        subject = gettext("Approved in one go: %(num)d", num=summary["approved"])
        body = subject
        if summary["failed"]:
            body += "\n" + gettext(
                "Not approved (changed meanwhile, or a comment is needed): %(num)d",
                num=summary["failed"],
            )
    notify(
        [member_id],
        "batch_approved",
        subject,
        body,
        link="/inbox?tab=done",
        channels=("in_app",),
        payload={k: summary[k] for k in ("approved", "failed")},
    )
    db.session.commit()
