"""Background work: `enqueue()` sends to RQ when `SUITE_REDIS_URL` is set, else runs inline.

Inside a web request nothing is sent or run until the response is ready and successful: the view
has committed by then, so a worker never races ahead of the rows it needs, a failed request
starts no jobs, and an inline job never touches the request's unfinished work.

Jobs are registered by name in manifests (`jobs={"name": "pkg.mod:func"}`) or passed as
`"pkg.mod:func"` targets; they take plain ids. The scheduler loop runs periodic tasks; the
database, never Redis, is the record of what is due (ARCHITECTURE 4.4).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, has_request_context

from suite import tenancy

log = logging.getLogger(__name__)


def _target(name: str) -> Callable[..., Any]:
    from suite.registry import resolve

    registry = current_app.extensions["suite.registry"]
    return registry.jobs[name] if name in registry.jobs else resolve(name)


def execute(name: str, workspace_id: int, *args: Any) -> Any:
    """Run a job inside an app context and its workspace; commits or rolls back."""
    if not has_app_context():
        from suite.app import create_app

        with create_app().app_context():
            return execute(name, workspace_id, *args)
    from rq import get_current_job

    from suite.db import db

    fn = _target(name)
    with tenancy.use_workspace(workspace_id):
        try:
            result = fn(*args)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
        finally:
            if get_current_job() is not None:
                db.session.remove()  # a long-lived worker starts every job with a fresh session


def queue() -> Any:
    from redis import Redis
    from rq import Queue

    conn = Redis.from_url(current_app.config["SUITE_REDIS_URL"])
    return Queue(current_app.config["SUITE_QUEUE"], connection=conn)


def enqueue(name: str, *args: Any, workspace_id: int | None = None) -> Any:
    """Run `name(*args)` in the background (RQ) or inline (embedded default).

    In a request the job is held until the response succeeded (see `dispatch_deferred`);
    elsewhere (commands, the scheduler, jobs) it is dispatched at once.
    """
    _target(name)  # fail now, in the caller, for an unknown job
    ws = workspace_id if workspace_id is not None else tenancy.current_workspace_id()
    if has_request_context():
        g.setdefault("_suite_jobs", []).append((name, ws, args))
        return None
    return _dispatch(name, ws, args)


def _dispatch(name: str, workspace_id: int, args: tuple[Any, ...]) -> Any:
    if current_app.config["SUITE_REDIS_URL"]:
        return queue().enqueue(execute, name, workspace_id, *args, job_timeout=600)
    return execute(name, workspace_id, *args)


def dispatch_deferred(response: Response) -> Response:
    """after_request hook: send (or run) the request's jobs once it has succeeded."""
    jobs = g.pop("_suite_jobs", [])
    if response.status_code >= 400:
        if jobs:
            log.info("request failed: %d job(s) not started", len(jobs))
        return response
    for name, workspace_id, args in jobs:
        try:
            _dispatch(name, workspace_id, args)
        except Exception:
            log.exception("job %s failed", name)
    return response


# --- scheduler ------------------------------------------------------------------------------------


def run_periodic(app: Flask) -> None:
    """One pass of the periodic tasks; each is idempotent and claims its work in the database."""
    from suite.audit.anchor import anchor_all
    from suite.db import db
    from suite.notify.delivery import drain_all
    from suite.workflow.timers import sweep

    tasks = [
        ("SLA timers", sweep),  # before the outbox: their notifications go out in this pass
        ("outbox delivery", drain_all),
        ("audit anchoring", lambda: anchor_all(db.session)),
    ]
    # the modules' (Manifest.periodic), before the outbox: their notifications go out this pass
    tasks[1:1] = app.extensions["suite.registry"].periodic
    with app.app_context():
        for name, task in tasks:
            try:
                task()
            except Exception:
                log.exception("%s failed", name)
                db.session.rollback()
            finally:
                db.session.remove()


def scheduler_loop(app: Flask, stop: threading.Event | None = None) -> None:
    interval = app.config["SUITE_SCHEDULER_INTERVAL"]
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        run_periodic(app)
        stop.wait(max(1.0, interval - (time.monotonic() - started)))


def start_scheduler_thread(app: Flask) -> threading.Thread:
    thread = threading.Thread(
        target=scheduler_loop, args=(app,), name="suite-scheduler", daemon=True
    )
    thread.start()
    return thread
