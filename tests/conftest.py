"""Shared fixtures: paths, a CLI runner and small scenario builders."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLE = ROOT / "src" / "redline" / "scenarios" / "proxy-deterrence.yaml"


@pytest.fixture
def example_doc() -> dict:
    """The example scenario as plain data (a fresh copy per test)."""
    return copy.deepcopy(_EXAMPLE_DOC)


_EXAMPLE_DOC = yaml.safe_load(EXAMPLE.read_text())


def write_yaml(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def redline_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed CLI in a subprocess, as users do."""
    return subprocess.run([sys.executable, "-m", "redline", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)
