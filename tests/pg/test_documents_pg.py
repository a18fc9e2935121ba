"""Document numbers under concurrency: the first numbers of a new prefix, taken at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from suite.db import db
from suite.documents import next_number
from suite.tenancy import use_workspace

pytestmark = pytest.mark.pg

THREADS = 8


def test_first_numbers_of_a_year_taken_at_once_are_all_distinct(pg_app, pg_workspace):
    ws = pg_workspace("race", "Race")
    barrier = threading.Barrier(THREADS, timeout=60)

    def take(_: int) -> str:
        with pg_app.app_context(), use_workspace(ws.id):
            try:
                barrier.wait()
                number = next_number("RACE", 2031)
                db.session.commit()
                return number
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        numbers = list(pool.map(take, range(THREADS)))
    assert sorted(numbers) == [f"RACE-2031-{n:04d}" for n in range(1, THREADS + 1)]
