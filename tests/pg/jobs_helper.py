"""Jobs for test_jobs_rq.py, importable by the RQ worker process (it runs with cwd = the project).

They follow `suite.jobs.execute(name, workspace_id, *args)`: plain arguments, the workspace is
already active, `execute` commits or rolls back.
"""

from __future__ import annotations

from suite.auth.models import Department
from suite.db import db


class JobFailedError(RuntimeError):
    pass


def create_department(name: str) -> int:
    dept = Department(name=name)
    db.session.add(dept)
    db.session.flush()
    return dept.id


def create_department_then_fail(name: str) -> None:
    create_department(name)
    raise JobFailedError(f"failed after writing {name!r}")


def create_department_slowly(name: str, marker: str, seconds: float) -> int:
    """Write a department, then sleep before `execute` commits (test_workflow_races_pg.py).

    The first attempt creates `marker` once its write is flushed (not committed) and sleeps, so the
    test can kill the worker mid-job; a retried attempt finds the marker and finishes at once.
    """
    import os
    import time

    dept_id = create_department(name)
    first = not os.path.exists(marker)
    with open(marker, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    if first:
        time.sleep(seconds)
    return dept_id
