"""`flask suite ...`: init, seed-demo, create-admin, modules, verify-audit, worker, scheduler."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from suite.db import db

suite_cli = AppGroup("suite", help="Shunliu administration commands.")


@suite_cli.command("init")
def init_cmd() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("database is up to date")


@suite_cli.command("seed-demo")
def seed_demo_cmd() -> None:
    """Create the demo workspace "Demo Co. 演示公司" with one user per role (idempotent)."""
    from suite.demo import DEMO_PASSWORD, seed_demo

    ws, created = seed_demo()
    click.echo(f"demo workspace {ws.name!r}: {'created' if created else 'already there'}")
    logins = ", ".join(
        spec.demo_login
        for spec in current_app.extensions["suite.registry"].roles.values()
        if spec.demo_login
    )
    click.echo(f"logins: {logins}  password: {DEMO_PASSWORD}")


@suite_cli.command("create-admin")
@click.option("--workspace", "code", required=True, help="workspace code (created if missing)")
@click.option("--name", default=None, help="workspace name for a new workspace")
@click.option("--login", required=True)
@click.password_option()
def create_admin_cmd(code: str, name: str | None, login: str, password: str) -> None:
    """Create a workspace administrator."""
    from suite.auth.models import Role
    from suite.auth.services import create_workspace, save_member
    from suite.tenancy import Workspace, system, use_workspace

    registry = current_app.extensions["suite.registry"]
    with system():
        ws = db.session.scalar(sa.select(Workspace).where(Workspace.code == code))
        if ws is None:
            ws = create_workspace(code, name or code, registry)
    with use_workspace(ws.id):
        admin = db.session.scalar(sa.select(Role).where(Role.code == "suite.admin"))
        save_member(
            None,
            login=login,
            display_name=login,
            email=None,
            password=password,
            department_id=None,
            manager_id=None,
            role_ids=[admin.id],
            active=True,
        )
    db.session.commit()
    click.echo(f"administrator {login} created in workspace {code}")


@suite_cli.command("modules")
def modules_cmd() -> None:
    """List the loaded modules and what each one adds."""
    registry = current_app.extensions["suite.registry"]
    for m in registry.manifests:
        click.echo(f"{m.name} {m.version}: {m.label}")
        if m.depends:
            click.echo(f"  depends: {', '.join(m.depends)}")
        if m.blueprint:
            click.echo(f"  blueprint: {m.blueprint}")
        if m.models:
            click.echo(f"  models: {m.models}")
        for p in m.permissions:
            click.echo(f"  permission {p.code}: {p.label}")
        for r in m.roles:
            login = f" (demo login: {r.demo_login})" if r.demo_login else ""
            click.echo(f"  role {r.code}: {r.label}{login}")
        for item in m.menus:
            click.echo(f"  menu {item.label} -> {item.endpoint}")
        for name, target in m.jobs.items():
            click.echo(f"  job {name} -> {target}")


@suite_cli.command("verify-audit")
def verify_audit_cmd() -> None:
    """Check every audit chain and every audited row; exit 1 naming the first broken event."""
    from suite.audit.verify import verify
    from suite.tenancy import system

    with system():
        breaks = verify(db.session)
        total = db.session.scalar(sa.text("SELECT count(*) FROM audit_event"))
    if breaks:
        click.echo(f"audit trail BROKEN: first at {breaks[0]}", err=True)
        for b in breaks[1:10]:
            click.echo(f"  also: {b}", err=True)
        sys.exit(1)
    click.echo(f"audit trail OK: {total} events verified")


@suite_cli.command("anchor-audit")
def anchor_audit_cmd() -> None:
    """Anchor every finished day of every workspace (the scheduler does this too)."""
    from suite.audit.anchor import anchor_all

    click.echo(f"{anchor_all(db.session)} anchors written")


@suite_cli.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queue is empty")
def worker_cmd(burst: bool) -> None:
    """Run an RQ worker for SUITE_REDIS_URL (no fork per job: heavy imports stay loaded)."""
    from rq import SimpleWorker

    from suite.jobs import queue

    if not current_app.config["SUITE_REDIS_URL"]:
        raise click.UsageError("SUITE_REDIS_URL is not set: jobs run inline in the web process")
    q = queue()
    SimpleWorker([q], connection=q.connection).work(burst=burst, with_scheduler=False)


@suite_cli.command("scheduler")
@click.option("--once", is_flag=True, help="run the periodic tasks once and exit")
def scheduler_cmd(once: bool) -> None:
    """Run the periodic tasks (any number of copies may run: claims are in the database)."""
    from suite.jobs import run_periodic, scheduler_loop

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        run_periodic(app)
        return
    scheduler_loop(app)
