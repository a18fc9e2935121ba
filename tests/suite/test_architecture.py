"""Import rules: `suite` never imports `modules`; a module imports only modules it depends on."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_suite_never_imports_modules():
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in (ROOT / "suite").rglob("*.py")
        for name in imported_modules(p)
        if name == "modules" or name.startswith("modules.")
    ]
    assert offenders == []


def test_a_module_imports_only_the_modules_it_depends_on():
    from suite.registry import load_manifests

    names = [p.name for p in (ROOT / "modules").iterdir() if (p / "manifest.py").exists()]
    manifests = {m.name: m for m in load_manifests(names)}
    offenders = []
    for name, manifest in manifests.items():
        allowed = {name, *manifest.depends}
        for p in (ROOT / "modules" / name).rglob("*.py"):
            for imported in imported_modules(p):
                parts = imported.split(".")
                if parts[0] == "modules" and len(parts) > 1 and parts[1] not in allowed:
                    offenders.append(f"{p.relative_to(ROOT)} imports {imported}")
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from modules.purchasing import services\nimport os\n")
    assert "modules.purchasing" in imported_modules(bad)


def test_no_app_is_created_at_import_time():
    import importlib

    for mod in ["suite.app", "suite.jobs", "suite.cli", "suite.views"]:
        module = importlib.import_module(mod)
        assert not [v for v in vars(module).values() if type(v).__name__ == "Flask"], mod
