"""Photos are served through the row that holds them: an action's finding and fix photos to
whoever may see the action, a finding's to those who triage; any other file is a 404."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from modules.inspections.models import CorrectiveAction, Finding
from modules.inspections.services import actions
from modules.inspections.services import findings as finding_services
from modules.inspections.services.photos import Upload
from suite import files
from suite.auth.models import Membership
from suite.checklists.models import Checkpoint
from suite.db import db
from suite.errors import DomainError
from tests.modules.inspections.factories import png, submit_run


def test_photos_only_through_their_action_or_finding(
    insp, inside, new_client, login_as, make_member
):
    make_member(insp["ws"], "clerk", roles=("suite.staff",))
    with inside():
        point = db.session.get(Checkpoint, insp["points"][0])
        finding_photo = files.store(png(color="blue"), name="f.png", content_type="image/png")
        other = files.store(png(color="black"), name="o.png", content_type="image/png")
        text = files.store(b"hello", name="t.txt", content_type="text/plain")
        submit_run(point, insp["inspector"], fails=("exits",), photo_ids=[finding_photo.id])
        ca = db.session.scalar(sa.select(CorrectiveAction))
        actions.record_fix(
            ca,
            db.session.get(Membership, insp["owner"]),
            note="done",
            photos=[Upload(png(color="green"), "fix.png")],
            key="k",
        )
        finding = finding_services.report(
            point, description="leak", contact="", photo=Upload(png(), "r.png"), address="x"
        )
        db.session.commit()
        ca_id, fix_id, f_id = ca.id, ca.fix_photo_ids[0], finding.id
        reported = finding.photo_ids[0]
        ids = {"finding": finding_photo.id, "other": other.id, "text": text.id}
    owner = new_client()
    login_as(owner, "owner")
    base = f"/inspections/actions/{ca_id}/files"
    for pid in (ids["finding"], fix_id):
        resp = owner.get(f"{base}/{pid}")
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.data.startswith(b"\x89PNG")
    for pid in (ids["other"], ids["text"], reported, 999999):
        assert owner.get(f"{base}/{pid}").status_code == 404
    page = owner.get(f"/inspections/actions/{ca_id}").get_data(as_text=True)
    assert f'src="{base}/{fix_id}"' in page
    # findings: for those who triage them
    assert owner.get(f"/inspections/findings/{f_id}/files/{reported}").status_code == 403
    insp_c = new_client()
    login_as(insp_c, "inspector")
    assert insp_c.get(f"/inspections/findings/{f_id}/files/{reported}").status_code == 200
    assert insp_c.get(f"/inspections/findings/{f_id}/files/{ids['other']}").status_code == 404
    assert f"/inspections/findings/{f_id}/files/{reported}" in insp_c.get(
        "/inspections/findings"
    ).get_data(as_text=True)
    clerk = new_client()
    login_as(clerk, "clerk")
    assert clerk.get(f"{base}/{fix_id}").status_code == 403
    with inside():
        assert db.session.get(Finding, f_id).photo_ids == [reported]


def test_a_photo_upload_that_is_not_an_image_is_refused_with_nothing_stored(insp, inside):
    with inside():
        point = db.session.get(Checkpoint, insp["points"][0])
        submit_run(point, insp["inspector"], fails=("exits",))
        db.session.commit()
        ca = db.session.scalar(sa.select(CorrectiveAction))
        before = db.session.scalar(sa.select(sa.func.count(files.StoredFile.id)))
        with pytest.raises(DomainError) as refused:
            actions.record_fix(
                ca,
                db.session.get(Membership, insp["owner"]),
                note="done",
                photos=[Upload(png(), "a.png"), Upload(b"%PDF-1.4", "b.pdf")],
                key="k2",
            )
        assert refused.value.field == "photo"
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(files.StoredFile.id))) == before
        assert db.session.get(CorrectiveAction, ca.id).status == "open"
