"""The package's layering: nothing below the interfaces imports them, and the public face."""
from __future__ import annotations

import ast
from pathlib import Path

import redline

PACKAGE = Path(redline.__file__).resolve().parent
INTERFACES = ("cli", "web")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_nothing_below_the_interfaces_imports_them():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in INTERFACES or rel.name == "__main__.py":
            continue
        upward += [f"{rel}: {m}" for m in _imports(path)
                   if any(m == f"redline.{i}" or m.startswith(f"redline.{i}.") for i in INTERFACES)]
    assert upward == []


def test_public_face_exports_the_api():
    assert {"load_scenario", "simulate", "compare", "perform_experiments", "forecast", "backtest",
            "write_report", "RedlineError", "ScenarioError", "ExpressionError", "ParameterError"} <= set(redline.__all__)
    for name in redline.__all__:
        assert getattr(redline, name) is not None
