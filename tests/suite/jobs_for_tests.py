"""A job used by the jobs tests (takes plain values, runs in the job's workspace)."""

from suite.auth.services import save_department


def add_department(name: str) -> int:
    return save_department(None, name=name, parent_id=None, head_id=None).id
