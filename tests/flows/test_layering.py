"""Import rules: only the CLI package imports argparse, and no product module imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PRODUCT = ("pipeline", "clips_metadata", "review", "flows")
CLI = REPO / "flows" / "cli"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _product_files() -> list[Path]:
    return [p for pkg in PRODUCT for p in (REPO / pkg).rglob("*.py") if "migrations" not in p.parts]


def test_only_the_cli_package_imports_argparse():
    offenders = [str(p.relative_to(REPO)) for p in _product_files()
                 if CLI not in p.parents and "argparse" in _imports(p)]
    assert offenders == []


def test_nothing_outside_the_cli_imports_it():
    offenders = [str(p.relative_to(REPO)) for p in _product_files() if CLI not in p.parents
                 and any(n == "flows.cli" or n.startswith("flows.cli.") for n in _imports(p))]
    assert offenders == []


def test_review_does_not_import_flows():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "review").rglob("*.py")
                 if any(n == "flows" or n.startswith("flows.") for n in _imports(p))]
    assert offenders == []
