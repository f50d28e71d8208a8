"""``redline bargain``: JSON contract, DEU III benchmark, exit code 2 on bad input."""
from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Until the lead's scenario_commands module lands, redline.cli cannot import it; stand in an
# empty module so this command can be exercised alone. Never shadows the real module.
_root = Path(importlib.util.find_spec("redline").origin).parent
if not (_root / "cli" / "scenario_commands.py").exists():
    sys.modules.setdefault("redline.cli.scenario_commands", types.ModuleType("redline.cli.scenario_commands"))

import redline.cli.bargain  # noqa: E402,F401
from redline.cli.app import app  # noqa: E402

EXAMPLE = Path("/work/shared/data/bdm_emissions/actors.csv")
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["bargain", *args])


@pytest.fixture(scope="module")
def bench():
    res = invoke("--benchmark", "deu3", "--json", "--n-boot", "300")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_benchmark_json_contract(bench):
    assert bench["n_issues"] == 353
    models = {m["model"]: m for m in bench["models"]}
    for needed in ("weighted_mean", "weighted_median", "nash_bargaining", "bdm_expected_utility", "cv_fitted"):
        assert models[needed]["n_issues"] == 353
        lo, hi = models[needed]["ci95"]
        assert lo < models[needed]["mae"] < hi
    assert models["weighted_mean"]["mae"] == pytest.approx(23.22, abs=0.01)
    assert models["weighted_median"]["mae"] == pytest.approx(27.58, abs=0.01)
    base = {b["model"]: b for b in bench["baselines"]}
    assert base["status_quo"]["n_issues"] == 253 and base["status_quo"]["mae"] == pytest.approx(51.11, abs=0.01)
    assert base["commission"]["n_issues"] == 348 and base["commission"]["mae"] == pytest.approx(37.70, abs=0.01)


def test_benchmark_is_reproducible(bench):
    again = json.loads(invoke("--benchmark", "deu3", "--json", "--n-boot", "300").stdout)
    assert again["models"] == bench["models"]
    other = json.loads(invoke("--benchmark", "deu3", "--json", "--n-boot", "300", "--seed", "7").stdout)
    assert other["models"][0]["ci95"] != bench["models"][0]["ci95"]


def test_file_model_json_rounds():
    res = invoke(str(EXAMPLE), "--model", "bdm", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["rounds"]) == 11 and out["rounds"][1]["median"] == pytest.approx(8.4159, abs=1e-3)
    assert out["prediction"] == pytest.approx(out["rounds"][-1]["median"])
    res = invoke(str(EXAMPLE), "--model", "mean", "--json")
    assert json.loads(res.stdout)["prediction"] == pytest.approx(7.39, abs=0.01)


@pytest.mark.parametrize("text, fragment", [
    ("actor,position,salience,capability\nA,10,1.5,3\nA,nan,0.5,0\n", "bad.csv:2:3: salience 1.5 outside [0, 1]"),
    ("actor,position,capability\nA,1,1\nB,2,1\n", "bad.csv:1:1: missing column 'salience'"),
    ("actor,position,salience,capability\nA,1,0.5,1\n", "bad.csv:2:1: only 1 actor"),
])
def test_bad_table_exit_2_one_line(tmp_path, text, fragment):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    res = invoke(str(p), "--model", "bdm", "--json")
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in res.output


def test_unknown_model_and_benchmark_exit_2():
    res = invoke(str(EXAMPLE), "--model", "nahs")
    assert res.exit_code == 2 and "did you mean 'nash'" in res.stderr
    assert invoke("--benchmark", "deu4").exit_code == 2
    assert invoke().exit_code == 2
