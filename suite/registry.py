"""Module manifests and staged loading (ARCHITECTURE 1).

Each module declares itself once in `modules/<name>/manifest.py`. Targets are `"pkg.mod:attr"`
strings resolved and checked at start-up, so a typo fails at boot, not in front of a user.
Stages: manifests (ordered by `depends`) -> all models -> blueprints, permissions, roles, menus.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, Flask


class ManifestError(RuntimeError):
    """A manifest names something that does not exist, or the modules cannot be ordered."""


@dataclass(frozen=True)
class Permission:
    code: str  # <module>.<object>.<action>
    label: Any  # lazy_gettext string


@dataclass(frozen=True)
class RoleSpec:
    code: str  # <module>.<role>
    label: Any
    permissions: tuple[str, ...] = ()
    demo_login: str | None = None  # the demo workspace's user for this role
    demo_department: str = "production"  # key of suite.demo.DEPARTMENTS
    demo_head: bool = False  # the demo user heads that department


@dataclass(frozen=True)
class MenuItem:
    label: Any
    endpoint: str
    permission: str | None = None
    icon: str = "dot"  # a symbol id in static/img/icons.svg, or a short text glyph
    order: int = 100


@dataclass(frozen=True)
class Manifest:
    name: str
    label: Any
    summary: Any = ""
    version: str = "0.1.0"
    depends: tuple[str, ...] = ()
    models: str | None = None  # "modules.x.models"
    blueprint: str | None = None  # "modules.x.blueprint:bp"
    permissions: tuple[Permission, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    menus: tuple[MenuItem, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)  # name -> "pkg.mod:func"
    demo: str | None = None  # "pkg.mod:seed" called with the demo workspace
    workflows: tuple[str, ...] = ()  # "pkg:relative/path.yaml" process templates
    actions: dict[str, str] = field(default_factory=dict)  # automation name -> "pkg.mod:func"
    documents: dict[str, str] = field(default_factory=dict)  # document type -> "pkg.mod:obj"
    # permissions of this module given to roles other modules declare ("suite.finance": (...))
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # home page panels: "pkg.mod:func" -> func() returns (template, context) or None (nothing)
    widgets: tuple[str, ...] = ()
    # "modules.x.api": imported by suite.api.init_api before the API blueprint is registered;
    # its routes go on suite.api.blueprint.bp and its `SCHEMAS` dict joins the OpenAPI document
    api: str | None = None
    # "pkg.mod:func" run on every scheduler pass (suite.jobs.run_periodic); each must be
    # idempotent under several schedulers (claims in the database)
    periodic: tuple[str, ...] = ()
    # "pkg.mod:func" -> func(run) returns [(label, url), ...] shown on a checklist run's page
    # (e.g. the module's printed report); [] or None for runs it has nothing for
    run_links: tuple[str, ...] = ()


@dataclass
class Registry:
    manifests: list[Manifest] = field(default_factory=list)
    permissions: dict[str, Permission] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    menus: list[MenuItem] = field(default_factory=list)
    jobs: dict[str, Callable[..., Any]] = field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    widgets: list[Callable[[], Any]] = field(default_factory=list)
    periodic: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    run_links: list[Callable[[Any], Any]] = field(default_factory=list)

    def manifest(self, name: str) -> Manifest:
        for m in self.manifests:
            if m.name == name:
                return m
        raise KeyError(name)


def resolve(target: str) -> Any:
    """Import `"pkg.mod:attr"` (or a module path without `:`)."""
    module_path, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ManifestError(f"cannot import {module_path!r} ({target}): {exc}") from exc
    if not attr:
        return module
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ManifestError(f"{module_path!r} has no attribute {attr!r} ({target})") from exc


def load_template(target: str) -> dict[str, Any]:
    """A process template YAML named `"package:relative/path.yaml"`."""
    import pathlib

    import yaml

    package, _, rel = target.partition(":")
    base = pathlib.Path(resolve(package).__file__).parent
    path = base / rel
    if not path.is_file():
        raise ManifestError(f"process template {target} not found ({path})")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not spec.get("key") or not isinstance(spec.get("nodes"), dict):
        raise ManifestError(f"process template {target} has no key or nodes")
    return spec


def order_by_depends(manifests: Iterable[Manifest]) -> list[Manifest]:
    """Topological order, stable by the given order; unknown or cyclic dependencies fail."""
    by_name = {m.name: m for m in manifests}
    for m in by_name.values():
        for dep in m.depends:
            if dep not in by_name:
                raise ManifestError(f"module {m.name!r} depends on {dep!r}, which is not loaded")
    ordered: list[Manifest] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ManifestError("dependency cycle: " + " -> ".join([*path, name]))
        state[name] = "visiting"
        for dep in by_name[name].depends:
            visit(dep, [*path, name])
        state[name] = "done"
        ordered.append(by_name[name])

    for name in by_name:
        visit(name, [])
    return ordered


def load_manifests(names: Iterable[str], package: str = "modules") -> list[Manifest]:
    manifests = []
    for name in names:
        manifest = resolve(f"{package}.{name}.manifest:manifest")
        if not isinstance(manifest, Manifest) or manifest.name != name:
            raise ManifestError(
                f"{package}.{name}.manifest:manifest must be Manifest(name={name!r})"
            )
        manifests.append(manifest)
    return manifests


def load_modules(app: Flask, kernel: Iterable[Manifest], names: Iterable[str]) -> Registry:
    """Load the kernel's manifests and the named modules into `app.extensions["suite.registry"]`."""
    manifests = order_by_depends([*kernel, *load_manifests(names)])
    registry = Registry(manifests=manifests)
    for m in manifests:  # stage 2: every model before any blueprint
        if m.models:
            resolve(m.models)
    for m in manifests:  # stage 3
        if m.blueprint:
            bp = resolve(m.blueprint)
            if not isinstance(bp, Blueprint):
                raise ManifestError(f"{m.name}: {m.blueprint} is not a Blueprint")
            app.register_blueprint(bp)
        for p in m.permissions:
            if not p.code.startswith(f"{m.name}."):
                raise ManifestError(f"{m.name}: permission {p.code!r} must start with {m.name}.")
            registry.permissions[p.code] = p
        for name, target in m.jobs.items():
            registry.jobs[name] = resolve(target)
        for name, target in m.actions.items():
            registry.actions[name] = resolve(target)
        for name, target in m.documents.items():
            registry.documents[name] = resolve(target)
        registry.widgets.extend(resolve(target) for target in m.widgets)
        registry.periodic.extend((target, resolve(target)) for target in m.periodic)
        registry.run_links.extend(resolve(target) for target in m.run_links)
        for target in m.workflows:
            spec = load_template(target)
            if spec["key"] in registry.templates:
                raise ManifestError(f"{m.name}: two process templates share the key {spec['key']}")
            registry.templates[spec["key"]] = spec
        if m.demo:
            resolve(m.demo)
    for m in manifests:  # roles may grant permissions of modules they depend on
        for r in m.roles:
            unknown = [p for p in r.permissions if p != "*" and p not in registry.permissions]
            if unknown:
                raise ManifestError(f"{m.name}: role {r.code} grants unknown {unknown}")
            registry.roles[r.code] = r
        registry.menus.extend(m.menus)
    for m in manifests:  # a module may give its own permissions to another module's roles
        for role_code, perms in m.grants.items():
            if role_code not in registry.roles:
                raise ManifestError(f"{m.name}: grants to unknown role {role_code}")
            foreign = [p for p in perms if not p.startswith(f"{m.name}.")]
            unknown = [p for p in perms if p not in registry.permissions]
            if foreign or unknown:
                raise ManifestError(f"{m.name}: grants {foreign or unknown} to {role_code}")
            spec = registry.roles[role_code]
            extra = tuple(p for p in perms if p not in spec.permissions)
            registry.roles[role_code] = replace(spec, permissions=spec.permissions + extra)
    registry.menus.sort(key=lambda i: i.order)
    endpoints = set(app.view_functions)
    for item in registry.menus:
        if item.endpoint not in endpoints:
            raise ManifestError(f"menu {item.label!s} points to unknown endpoint {item.endpoint}")
        if item.permission and item.permission not in registry.permissions:
            raise ManifestError(f"menu {item.label!s} needs unknown permission {item.permission}")
    app.extensions["suite.registry"] = registry
    return registry
