"""S8 Inspections (质量安全检查) steps 1-2 on SQLite; tests/pg/test_checklists_pg.py runs them on
PostgreSQL. The steps live in tests/scenarios/s8_steps.py."""

from __future__ import annotations

from tests.scenarios.s8_steps import run_steps


def test_s8_1_2_template_labels_scan_fill_and_one_inspection_for_two_submits(app):
    run_steps(app)


def test_s8_3_4_actions_fixed_verified_escalated_rounds_missed_dashboard_and_report(app):
    from tests.scenarios.s8_later_steps import run_later_steps

    run_later_steps(app)
