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


CALIBRATED_PARTICLES = (["attribution_probability", "defender_credibility"],
                        [[0.95, 0.35], [0.9, 0.4], [0.1, 0.3]], [0.5, 0.3, 0.2])
"""A small posterior for the example: three particles, unequal weights, far from the defaults
(attribution 0.3, credibility 0.8), so draws from it change the outcomes."""


def write_calibrated(folder: Path, doc: dict, scenario_id: str) -> Path:
    """``doc`` saved as ``folder/<scenario_id>.yaml`` under that id, with the small posterior
    (:data:`CALIBRATED_PARTICLES`) shipped beside it as ``<scenario_id>.posterior.parquet``."""
    import numpy as np

    from redline.calibrate import write_posterior
    from redline.scenario import load_scenario

    doc = {**doc, "meta": {**doc["meta"], "id": scenario_id}}
    path = write_yaml(folder / f"{scenario_id}.yaml", doc)
    names, theta, weights = CALIBRATED_PARTICLES
    write_posterior(folder / f"{scenario_id}.posterior.parquet", names, np.array(theta), np.array(weights),
                    {"scenario": scenario_id, "scenario_sha256": load_scenario(path).sha256})
    return path
