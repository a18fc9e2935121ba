"""Manifests, staged loading and the `flask suite modules` listing."""

from __future__ import annotations

import pytest
from flask import Flask

from suite.registry import (
    Manifest,
    ManifestError,
    MenuItem,
    Permission,
    RoleSpec,
    load_modules,
    order_by_depends,
)


def m(name, depends=(), **kw):
    return Manifest(name=name, label=name, depends=depends, **kw)


def test_modules_are_ordered_by_their_dependencies():
    ordered = order_by_depends([m("purchasing", ("crm", "inventory")), m("crm"), m("inventory")])
    names = [x.name for x in ordered]
    assert names.index("crm") < names.index("purchasing")
    assert names.index("inventory") < names.index("purchasing")


def test_unknown_dependency_fails_at_boot():
    with pytest.raises(ManifestError, match="depends on 'crm'"):
        order_by_depends([m("purchasing", ("crm",))])


def test_dependency_cycle_fails_at_boot_and_names_the_cycle():
    with pytest.raises(ManifestError, match="cycle: a -> b -> a"):
        order_by_depends([m("a", ("b",)), m("b", ("a",))])


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (m("x", blueprint="suite.views:nope"), "has no attribute 'nope'"),
        (m("x", models="suite.no_such_module"), "cannot import"),
        (m("x", permissions=(Permission("other.thing.do", "x"),)), "must start with x."),
        (m("x", roles=(RoleSpec("x.r", "r", ("x.unknown.perm",)),)), "grants unknown"),
        (m("x", menus=(MenuItem("Nowhere", "x.nowhere"),)), "unknown endpoint"),
        (m("x", jobs={"j": "suite.jobs:no_such_job"}), "has no attribute"),
    ],
)
def test_a_typo_in_a_manifest_fails_at_boot(manifest, message):
    app = Flask("t")
    with pytest.raises(ManifestError, match=message):
        load_modules(app, [manifest], [])


def test_all_nine_modules_load_with_their_roles(app):
    registry = app.extensions["suite.registry"]
    names = [x.name for x in registry.manifests]
    assert names[0] == "suite"
    assert set(names) == {
        "suite",
        "crm",
        "inventory",
        "purchasing",
        "orders",
        "expenses",
        "projects",
        "hr",
        "inspections",
        "stores",
    }
    logins = {r.demo_login for r in registry.roles.values()}
    assert logins == {
        "staff",
        "dept_head",
        "finance",
        "gm",
        "buyer",
        "warehouse",
        "sales",
        "sales_manager",
        "hr",
        "inspector",
        "area_owner",
        "store_manager",
        "area_manager",
        "admin",
        "acceptance",  # purchasing's asset acceptance group (S1.7)
    }


def test_flask_suite_modules_lists_what_each_module_adds(app):
    result = app.test_cli_runner().invoke(args=["suite", "modules"])
    assert result.exit_code == 0
    assert "purchasing 0.1.0" in result.output
    assert "depends: crm, inventory" in result.output
    assert "permission suite.user.manage" in result.output
    assert "role purchasing.buyer" in result.output and "demo login: buyer" in result.output
    assert "menu" in result.output and "suite.user_list" in result.output


def test_menu_shows_only_entries_the_member_may_open(client, make_workspace, make_member, login_as):
    ws = make_workspace()
    make_member(ws, "amy")
    login_as(client, "amy")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in html
    assert 'href="/"' in html


def test_a_module_grants_its_permissions_to_another_modules_role(monkeypatch):
    from flask import Flask

    from suite import registry as reg

    kernel = reg.Manifest(name="k", label="K", roles=(reg.RoleSpec("k.finance", "Finance", ()),))
    granting = reg.Manifest(
        name="m",
        label="M",
        permissions=(reg.Permission("m.pay", "Pay"),),
        grants={"k.finance": ("m.pay",)},
    )
    monkeypatch.setattr(reg, "load_manifests", lambda names, package="modules": [granting])
    assert reg.load_modules(Flask("a"), [kernel], ["m"]).roles["k.finance"].permissions == (
        "m.pay",
    )
    foreign = reg.Manifest(name="m", label="M", grants={"k.finance": ("suite.user.manage",)})
    monkeypatch.setattr(reg, "load_manifests", lambda names, package="modules": [foreign])
    with pytest.raises(reg.ManifestError, match="grants"):
        reg.load_modules(Flask("b"), [kernel], ["m"])
