"""Checklist services: specs per item type, versions, tokens, answers, photos, submit."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from suite.auth.models import Membership
from suite.checklists import services
from suite.checklists import spec as specs
from suite.checklists.models import ChecklistRun, CheckpointToken
from suite.checklists.signals import run_submitted
from suite.db import db
from suite.errors import DomainError
from suite.tenancy import use_workspace
from tests.suite.checklist_helpers import ALL_TYPES, build_template, png


@pytest.fixture
def ws_member(app, make_workspace, make_member):
    ws = make_workspace("acme")
    mid = make_member(ws, "ivy", roles=("inspections.inspector",))
    ws.otto = make_member(ws, "otto", roles=("inspections.inspector",))
    with app.app_context(), use_workspace(ws.id), force_locale("en"):
        yield ws, db.session.get(Membership, mid)
        db.session.rollback()
        db.session.remove()


def _point(template, owner=None, code="CP-1"):
    return services.save_checkpoint(
        None, name="Door", code=code, template_id=template.id, owner_id=owner
    )


def test_every_item_type_saves_with_its_fields(ws_member):
    template, keys = build_template()
    version = template.current_version
    assert version.number == 1
    number = specs.item(version.spec, keys["number"])
    assert (number["min"], number["max"], number["unit"], number["weight"]) == (
        "1.0",
        "1.4",
        "MPa",
        "2",
    )
    assert specs.item(version.spec, keys["select"])["options"] == ["Early", "Late"]
    assert specs.item(version.spec, keys["pass_fail"])["on_fail"]["require_photo"] is True
    assert [i["type"] for i in specs.items(version.spec)] == [t for t, _ in ALL_TYPES]


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("pass_fail", {"label": ""}, "label"),
        ("pass_fail", {"label": "x", "weight": "-1"}, "weight"),
        ("yes_no", {"label": "x", "weight": "abc"}, "weight"),
        ("number", {"label": "x", "min": "abc"}, "min"),
        ("number", {"label": "x", "min": "2", "max": "1"}, "max"),
        ("select", {"label": "x", "options": "only one"}, "options"),
        ("select", {"label": "x", "options": "a\na"}, "options"),
        ("text", {"label": "x" * 301}, "label"),
        ("date", {"label": ""}, "label"),
        ("photo", {"label": ""}, "label"),
        ("signature", {"label": ""}, "label"),
    ],
)
def test_invalid_item_is_refused_on_its_field(ws_member, kind, values, field):
    template = services.save_template(None, name="T")
    key = services.add_item(template, 0, kind)
    before = template.draft
    with pytest.raises(DomainError) as exc:
        services.update_item(template, key, values)
    assert exc.value.field == field
    assert template.draft == before  # nothing half-written


def test_publishing_an_empty_or_unlabelled_draft_is_refused(ws_member):
    template = services.save_template(None, name="T")
    with pytest.raises(specs.SpecError) as exc:
        services.publish(template, None)
    assert "sections" in exc.value.errors
    key = services.add_item(template, 0, "pass_fail")
    with pytest.raises(specs.SpecError) as exc:
        services.publish(template, None)
    assert f"{key}.label" in exc.value.errors


def test_a_change_applies_to_new_runs_only(ws_member):
    _ws, ivy = ws_member
    template, keys = build_template(items=[("pass_fail", {"label": "Old"})])
    point = _point(template)
    run1 = services.open_run(point, ivy)
    services.update_item(template, keys["pass_fail"], {"label": "New"})
    v2 = services.publish(template, ivy)
    assert v2.number == 2
    assert services.open_run(point, ivy).id == run1.id  # the draft resumes on version 1
    assert specs.item(run1.version.spec, keys["pass_fail"])["label"] == "Old"
    services.save_answer(run1, keys["pass_fail"], result="pass")
    services.submit(run1, ivy, key="k1")
    run2 = services.open_run(point, ivy)
    assert run2.id != run1.id and run2.version_id == v2.id
    assert specs.item(run2.version.spec, keys["pass_fail"])["label"] == "New"


def test_removed_item_keys_are_never_reused(ws_member):
    template, keys = build_template(items=[("pass_fail", {"label": "A"})])
    services.remove_item(template, keys["pass_fail"])
    assert services.add_item(template, 0, "pass_fail") != keys["pass_fail"]


def test_move_item_reorders(ws_member):
    template, _k = build_template(
        items=[("pass_fail", {"label": "A"}), ("yes_no", {"label": "B"})], publish=False
    )
    first, second = (i["key"] for i in specs.items(template.draft))
    services.move_item(template, second, -1)
    assert [i["key"] for i in specs.items(template.draft)] == [second, first]


def test_tokens_are_long_random_and_revoking_keeps_the_old_row(ws_member):
    template, _k = build_template()
    point = _point(template)
    old = point.token
    assert len(old) >= 32
    new = services.revoke_token(point)
    assert new != old and point.token == new
    rows = {t.token: t for t in db.session.scalars(sa.select(CheckpointToken))}
    assert rows[old].revoked_at is not None and rows[new].revoked_at is None


def test_checkpoint_code_is_unique_per_workspace(ws_member):
    template, _k = build_template()
    _point(template, code="FS-01")
    with pytest.raises(DomainError) as exc:
        _point(template, code="fs-01")
    assert exc.value.field == "code"


def test_answers_per_type_valid_and_invalid(ws_member):
    _ws, ivy = ws_member
    template, keys = build_template()
    run = services.open_run(_point(template), ivy)
    services.save_answer(run, keys["pass_fail"], result="pass")
    services.save_answer(run, keys["yes_no"], result="yes")
    services.save_answer(run, keys["text"], value="all fine")
    services.save_answer(run, keys["select"], value="Late")
    services.save_answer(run, keys["date"], value="2026-12-01")
    a = services.save_answer(run, keys["number"], value="1,2")
    assert a.number == Decimal("1.2") and not a.out_of_range
    for key, kwargs in [
        (keys["pass_fail"], {"result": "yes"}),
        (keys["yes_no"], {"result": "pass"}),
        (keys["number"], {"value": "12abc"}),
        (keys["select"], {"value": "Night"}),
        (keys["date"], {"value": "tomorrow"}),
    ]:
        with pytest.raises(DomainError) as exc:
            services.save_answer(run, key, **kwargs)
        assert exc.value.field == key
    with pytest.raises(DomainError):
        services.save_answer(run, "i999", result="pass")


def test_out_of_range_number_is_kept_marked_and_counts_as_failed(ws_member):
    _ws, ivy = ws_member
    template, keys = build_template(
        items=[("number", {"label": "P", "min": "1.0", "max": "1.4", "unit": "MPa"})]
    )
    run = services.open_run(_point(template), ivy)
    a = services.save_answer(run, keys["number"], value="0.8")
    assert a.number == Decimal("0.8") and a.out_of_range
    run, first = services.submit(run, ivy, key="k")
    assert first and run.failed_count == 1 and run.out_of_range_count == 1
    assert (run.score, run.max_score) == (Decimal(0), Decimal(1))


def test_photo_too_large_or_not_an_image_is_refused(ws_member, app):
    _ws, ivy = ws_member
    template, keys = build_template(items=[("photo", {"label": "P"})])
    run = services.open_run(_point(template), ivy)
    with pytest.raises(DomainError, match="not a photo") as exc:
        services.add_photo(run, keys["photo"], b"%PDF-1.4 nope", name="x.jpg", member=ivy)
    assert exc.value.field == keys["photo"]
    app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 100
    try:
        with pytest.raises(DomainError, match="too large"):
            services.add_photo(run, keys["photo"], png((400, 400)), name="big.png", member=ivy)
    finally:
        app.config["SUITE_CHECKLIST_PHOTO_MAX_BYTES"] = 8 * 1024 * 1024
    a = services.add_photo(run, keys["photo"], png(), name="ok.png", member=ivy)
    assert len(a.photo_ids) == 1


def test_submit_refuses_missing_required_and_failed_item_without_photo(ws_member):
    _ws, ivy = ws_member
    template, keys = build_template()
    run = services.open_run(_point(template), ivy)
    services.save_answer(run, keys["pass_fail"], result="fail")
    services.save_answer(run, keys["yes_no"], result="no")
    with pytest.raises(services.SubmitRefused) as exc:
        services.submit(run, ivy, key="k")
    assert exc.value.items[keys["pass_fail"]] == "A failed item needs a photo."
    assert exc.value.items[keys["yes_no"]] == "A failed item needs a note."
    assert exc.value.items[keys["number"]] == "This item is required."
    assert run.status == "draft" and run.number is None


def test_submit_scores_counts_numbers_and_signals_once(ws_member):
    _ws, ivy = ws_member
    template, keys = build_template()
    run = services.open_run(_point(template), ivy)
    services.save_answer(run, keys["pass_fail"], result="fail")
    services.add_photo(run, keys["pass_fail"], png(), name="p.png", member=ivy)
    services.save_answer(run, keys["yes_no"], result="na")
    services.save_answer(run, keys["number"], value="1.3")
    sig = services.add_photo(run, keys["signature"], png(color="blue"), name="s.png", member=ivy)
    received = []

    def listener(sender):
        received.append((sender.id, sender.number, sender.score, sender.failed_count))

    run_submitted.connect(listener)
    try:
        run1, first = services.submit(run, ivy, key="same")
        run2, again = services.submit(run, ivy, key="same")
    finally:
        run_submitted.disconnect(listener)
    assert first and not again and run1.id == run2.id
    assert run1.number.startswith("INS-") and run1.number.endswith("-0001")
    # pass_fail failed (weight 1), yes/no N/A (left out), number in range (weight 2).
    assert (run1.score, run1.max_score, run1.failed_count) == (Decimal(2), Decimal(3), 1)
    assert run1.signature_file_id == sig.photo_ids[0]
    assert received == [(run1.id, run1.number, Decimal(2), 1)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistRun)) == 1
    assert [it["key"] for it, _a in services.failed_items(run1)] == [keys["pass_fail"]]


def test_only_the_inspector_fills_and_a_submitted_run_is_locked(ws_member):
    ws, ivy = ws_member
    template, keys = build_template(items=[("pass_fail", {"label": "A"})])
    run = services.open_run(_point(template), ivy)
    services.save_answer(run, keys["pass_fail"], result="pass")
    other = db.session.get(Membership, ws.otto)
    with pytest.raises(DomainError):
        services.submit(run, other, key="x")
    services.submit(run, ivy, key="y")
    with pytest.raises(DomainError):
        services.save_answer(run, keys["pass_fail"], result="fail")
