"""The engine through a real document type (通用申请), on the demo organisation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from suite.audit.models import AuditEvent
from suite.audit.verify import verify
from suite.db import db
from suite.demo import seed_demo
from suite.requests.models import GeneralRequest
from suite.tenancy import use_workspace
from suite.workflow import definitions, engine
from suite.workflow.models import ProcessInstance, WorkflowTask
from suite.workflow.planner import CommandRefused
from tests.suite.workflow_helpers import act, assignees, member, new_request, open_tasks


@pytest.fixture
def demo(app):
    with app.app_context():
        ws, _ = seed_demo()
        with use_workspace(ws.id):
            yield ws
            db.session.remove()


def test_small_request_needs_the_department_head_only(demo):
    req = new_request("staff", "4800.00")
    assert req.number.startswith("GR-") and req.status == "submitted"
    assert assignees(req.instance_id) == ["dept_head"]
    result = act("dept_head", req.instance_id)
    assert result.status == "approved"
    assert db.session.get(GeneralRequest, req.id).status == "approved"
    cc = db.session.scalars(
        sa.select(WorkflowTask).where(
            WorkflowTask.instance_id == req.instance_id, WorkflowTask.kind == "cc"
        )
    ).all()
    assert [(t.assignee_id, t.status) for t in cc] == [
        (member("dept_head").id, "cc")
    ]  # the manager
    assert verify() == []


def test_over_5000_also_needs_finance_and_over_50000_the_gm(demo):
    req = new_request("staff", "6000.00")
    act("dept_head", req.instance_id)
    assert assignees(req.instance_id) == ["finance"]
    assert act("finance", req.instance_id).status == "approved"
    big = new_request("staff", "60000.00")
    act("dept_head", big.instance_id)
    act("finance", big.instance_id)
    assert assignees(big.instance_id) == ["gm"]
    assert act("gm", big.instance_id).status == "approved"


def test_reject_needs_a_comment_and_ends_the_process(demo):
    req = new_request("staff", "100.00")
    with pytest.raises(CommandRefused) as refused:
        act("dept_head", req.instance_id, "reject")
    assert refused.value.code == "comment_required" and refused.value.status == 422
    db.session.rollback()
    assert act("dept_head", req.instance_id, "reject", comment="No budget").status == "rejected"
    assert db.session.get(GeneralRequest, req.id).status == "rejected"


def test_only_the_assignee_can_approve_and_a_repeated_key_is_answered_once(demo):
    req = new_request("staff", "100.00")
    task = open_tasks(req.instance_id)[0]
    with pytest.raises(CommandRefused) as refused:
        engine.command(req.instance_id, "approve", member("finance").id, task_id=task.id)
    assert refused.value.code == "not_your_task"
    db.session.rollback()
    first = engine.command(
        req.instance_id, "approve", member("dept_head").id, task_id=task.id, key="k1"
    )
    db.session.commit()
    again = engine.command(
        req.instance_id, "approve", member("dept_head").id, task_id=task.id, key="k1"
    )
    assert again.replayed and again.version == first.version and again.status == "approved"


def test_stale_expected_version_is_refused(demo):
    req = new_request("staff", "100.00")
    instance = db.session.get(ProcessInstance, req.instance_id)
    with pytest.raises(CommandRefused) as refused:
        act("dept_head", req.instance_id, expected_version=instance.version - 1)
    assert refused.value.code == "stale" and refused.value.status == 409


def test_withdraw_before_anyone_acted_returns_the_request_to_draft(demo):
    req = new_request("staff", "6000.00")
    assert act("staff", req.instance_id, "withdraw").status == "withdrawn"
    assert db.session.get(GeneralRequest, req.id).status == "draft"
    assert open_tasks(req.instance_id) == []
    again = new_request("staff", "6000.00")
    act("dept_head", again.instance_id)
    with pytest.raises(CommandRefused) as refused:
        act("staff", again.instance_id, "withdraw")
    assert refused.value.code == "already_acted"


def test_send_back_to_the_requester_then_resubmit_resumes_at_the_returning_step(demo):
    req = new_request("staff", "6000.00")
    act("dept_head", req.instance_id)
    act("finance", req.instance_id, "send_back", comment="Attach the quote", target="submit")
    edit = open_tasks(req.instance_id, kind="edit")
    assert [t.assignee_id for t in edit] == [member("staff").id]
    act("staff", req.instance_id, "approve", task_id=edit[0].id)  # resubmit
    assert assignees(req.instance_id) == ["finance"]  # straight back, dept head not asked again
    assert act("finance", req.instance_id).status == "approved"


def test_transfer_and_escalation_and_delegation_mark_who_acts_for_whom(demo):
    req = new_request("staff", "6000.00")
    act("dept_head", req.instance_id, "transfer", assignees=(member("gm").id,))
    assert assignees(req.instance_id) == ["gm"]
    act("gm", req.instance_id)
    assert assignees(req.instance_id) == ["finance"]
    task = open_tasks(req.instance_id)[0]
    engine.command(req.instance_id, "escalate", None, task_id=task.id)  # finance's manager: gm
    db.session.commit()
    escalated = open_tasks(req.instance_id)[0]
    assert escalated.assignee_id == member("gm").id
    assert escalated.on_behalf_of_id == member("finance").id
    act("gm", req.instance_id)
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "process_instance", AuditEvent.action == "wf.approve")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.on_behalf_of_id == member("finance").user_id


def test_admin_raises_the_threshold_running_requests_keep_their_route(demo):
    """S10.1: in-flight documents keep the version they started on; new ones take the new one."""
    before = new_request("staff", "4000.00")  # under 5,000: dept head only
    definition = definitions.definition_for("suite.general_request")
    v2 = definitions.publish(
        definition, {"params": {"finance_threshold": 3000}}, by=member("admin").id
    )
    db.session.commit()
    assert v2.number == 2
    after = new_request("staff", "4000.00")  # over the new 3,000: finance too
    assert act("dept_head", before.instance_id).status == "approved"
    act("dept_head", after.instance_id)
    assert assignees(after.instance_id) == ["finance"]
    assert definitions.instances_per_version(definition) == {2: 1}
    v3 = definitions.publish(definition, {"params": {"finance_threshold": 5000}}, by=None)
    db.session.commit()
    third = new_request("staff", "4000.00")
    assert act("dept_head", third.instance_id).status == "approved"
    assert db.session.get(ProcessInstance, third.instance_id).version_id == v3.id


def test_publish_refuses_bad_definitions_with_messages(demo):
    definition = definitions.definition_for("suite.general_request")
    bad = {
        "nodes": {
            "route": {"cases": [{"when": "amount.__class__", "next": "finance"}]},
            "nope": {"mode": "all"},
            "finance": {"approvers": [{"resolver": "astrology"}]},
        }
    }
    with pytest.raises(definitions.DefinitionError) as exc:
        definitions.publish(definition, bad, by=None)
    text = " ".join(exc.value.problems)
    assert "nope" in text and "astrology" in text and "route" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkflowTask)) == 0


def test_sla_reminds_at_24h_and_escalates_to_the_manager_at_48h_once(demo, monkeypatch):
    """S10.4 with the template's SLA: remind after 24 h, escalate after 48 h; sweeping twice fires
    nothing twice."""
    import datetime as dt

    from suite.notify.models import OutboxMessage
    from suite.workflow import timers
    from suite.workflow.models import WorkflowTimer

    req = new_request("staff", "6000.00")
    act("dept_head", req.instance_id)
    task = open_tasks(req.instance_id)[0]
    assert task.due_at is not None
    start = task.created_at
    db.session.commit()

    def reminders():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.event == "remind", OutboxMessage.recipient_id == member("finance").id
            )
        )

    assert timers.sweep(start + dt.timedelta(hours=23)) == 0
    assert timers.sweep(start + dt.timedelta(hours=24, seconds=1)) == 1
    assert reminders() >= 1
    assert timers.sweep(start + dt.timedelta(hours=25)) == 0  # fired once
    assert timers.sweep(start + dt.timedelta(hours=48, seconds=1)) == 1
    escalated = open_tasks(req.instance_id)[0]
    assert escalated.assignee_id == member("gm").id  # finance's manager in the demo
    assert escalated.on_behalf_of_id == member("finance").id
    statuses = db.session.scalars(
        sa.select(WorkflowTimer.status).where(WorkflowTimer.task_id == task.id)
    ).all()
    assert sorted(statuses) == ["fired", "fired"]
    assert verify() == []


def test_timers_of_a_closed_task_are_cancelled(demo):
    import datetime as dt

    from suite.workflow import timers
    from suite.workflow.models import WorkflowTimer

    req = new_request("staff", "100.00")
    task = open_tasks(req.instance_id)[0]
    act("dept_head", req.instance_id)
    statuses = db.session.scalars(
        sa.select(WorkflowTimer.status).where(WorkflowTimer.task_id == task.id)
    ).all()
    assert statuses and set(statuses) == {"cancelled"}
    assert timers.sweep(task.created_at + dt.timedelta(days=5)) == 0
