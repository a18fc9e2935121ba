"""Audit trail: every write is a chained event; verify-audit finds tampering; daily anchors."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from suite.audit import acting_as
from suite.audit.anchor import anchor_all
from suite.audit.models import AuditAnchor, AuditEvent
from suite.audit.verify import verify
from suite.auth.models import Department
from suite.auth.services import save_department
from suite.db import db
from suite.tenancy import system, use_workspace


def events(entity_type, entity_id):
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.seq)
        )
    )


def test_insert_update_delete_form_one_chain_with_actor_and_diffs(ctx, make_workspace, make_member):
    ws = make_workspace()
    boss = make_member(ws, "boss")
    with use_workspace(ws.id), acting_as(boss):
        d = save_department(None, name="Ops", parent_id=None, head_id=None)
        db.session.commit()
        d.name = "Operations"
        db.session.commit()
        db.session.delete(d)
        db.session.commit()
        chain = events("department", d.id)
    assert [e.action for e in chain] == ["create", "update", "delete"]
    assert [e.seq for e in chain] == [1, 2, 3]
    assert chain[0].payload["values"]["name"] == "Ops"
    assert chain[1].payload["changes"] == {"name": ["Ops", "Operations"]}
    assert all(e.actor_id == boss and e.workspace_id == ws.id for e in chain)
    assert chain[1].prev_hash == chain[0].hash and chain[2].prev_hash == chain[1].hash
    assert verify() == []


def test_web_writes_record_the_logged_in_actor(app, admin_client):
    admin_client.form("/admin/departments/new", {"name": "Audited"})
    with app.app_context(), system():
        ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "department"))
        from suite.auth.models import User

        boss = db.session.scalar(sa.select(User.id).where(User.login == "boss"))
    assert ev.actor_id == boss


def test_password_hashes_never_enter_the_audit_trail(ctx, make_workspace, make_member):
    ws = make_workspace()
    make_member(ws, "alice")
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "user"))
    assert ev.payload["values"]["password_hash"] == "***"


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["suite", *args])


def test_verify_audit_detects_a_row_altered_in_the_database(app, ctx, make_workspace):
    ws = make_workspace()
    with use_workspace(ws.id):
        d = save_department(None, name="Finance", parent_id=None, head_id=None)
        db.session.commit()
        dept_id = d.id
        last = events("department", dept_id)[-1].id
    ok = _cli(app, "verify-audit")
    assert ok.exit_code == 0, ok.output
    assert "audit trail OK" in ok.output
    db.session.execute(
        sa.text("UPDATE department SET name = 'Fraud' WHERE id = :id"), {"id": dept_id}
    )
    db.session.commit()
    bad = _cli(app, "verify-audit")
    assert bad.exit_code == 1
    assert f"event #{last}" in bad.output
    assert "'Finance' -> 'Fraud'" in bad.output


def test_verify_audit_detects_an_edited_event_and_names_it(app, ctx, make_workspace):
    ws = make_workspace()
    with use_workspace(ws.id):
        save_department(None, name="A", parent_id=None, head_id=None)
        db.session.commit()
    target = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "role").order_by(AuditEvent.id)
    )
    db.session.execute(
        sa.text("UPDATE audit_event SET actor_id = 4242 WHERE id = :id"), {"id": target.id}
    )
    db.session.commit()
    bad = _cli(app, "verify-audit")
    assert bad.exit_code == 1
    assert f"first at event #{target.id}" in bad.output
    assert "does not match its hash" in bad.output


def test_verify_audit_detects_a_deleted_event_and_rows_without_history(app, ctx, make_workspace):
    ws = make_workspace()
    with use_workspace(ws.id):
        d = save_department(None, name="A", parent_id=None, head_id=None)
        db.session.commit()
        d.name = "B"
        db.session.commit()
        d.name = "C"
        db.session.commit()
        middle = events("department", d.id)[1]
    db.session.execute(sa.text("DELETE FROM audit_event WHERE id = :id"), {"id": middle.id})
    db.session.execute(
        sa.text("INSERT INTO department (name, sort, workspace_id) VALUES ('Ghost', 0, :ws)"),
        {"ws": ws.id},
    )
    db.session.commit()
    found = [str(b) for b in verify()]
    assert any("sequence jumps to 3, expected 2" in f for f in found)
    assert any("no audit history" in f for f in found)


def test_daily_anchor_hashes_each_days_chain_heads(app, ctx, make_workspace, monkeypatch):
    ws = make_workspace()
    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    import suite.audit.recorder as recorder

    monkeypatch.setattr(recorder, "utcnow", lambda: two_days_ago)
    with use_workspace(ws.id):
        save_department(None, name="Old", parent_id=None, head_id=None)
        db.session.commit()
    monkeypatch.undo()
    made = anchor_all(db.session)
    assert made >= 2  # two days ago and yesterday (possibly empty)
    anchors = db.session.scalars(sa.select(AuditAnchor).order_by(AuditAnchor.day)).all()
    assert anchors[0].events >= 1
    assert anchors[1].prev_hash == anchors[0].hash
    assert anchor_all(db.session) == 0  # idempotent
    assert verify() == []
    db.session.execute(
        sa.text("UPDATE audit_anchor SET heads_hash = 'x' WHERE id = :id"), {"id": anchors[0].id}
    )
    db.session.commit()
    assert any("anchor" in str(b) for b in verify())


def test_timeline_on_the_record_page_shows_who_changed_what(app, admin_client):
    admin_client.form("/admin/departments/new", {"name": "Ops"})
    with app.app_context(), system():
        dept_id = db.session.scalar(sa.select(Department.id).where(Department.name == "Ops"))
    admin_client.form(f"/admin/departments/{dept_id}", {"name": "Operations"})
    html = admin_client.get(f"/admin/departments/{dept_id}").get_data(as_text=True)
    assert "<del>Ops</del>" in html and "<ins>Operations</ins>" in html
    assert "Boss" in html
