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
