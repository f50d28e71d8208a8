"""`redline breakout`: the JSON contract, the JCPOA-era row and bad input refused with exit 2."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import redline.cli.breakout  # noqa: F401  registers the command
from redline.cli.app import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["breakout", *args])


def test_jcpoa_row_json():
    result = run("--stock", "3.67=203", "--machines", "IR-1=5060", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 180 <= data["days_to_first_sq"] <= 540
    for key in ("days_to_each_sq", "swu_required", "plan", "assumptions"):
        assert key in data
    assert data["plan"][0]["source"] == "stock at 3.67%"


def test_uf6_flag_converts_to_uranium_mass():
    u = json.loads(run("--stock", "3.67=202.8", "--machines", "IR-1=5060", "--json").stdout)
    f = json.loads(run("--stock", "3.67=300", "--uf6", "--machines", "IR-1=5060", "--json").stdout)
    assert f["stocks_kg"]["3.67"] == pytest.approx(202.85, abs=0.05)
    assert f["days_to_first_sq"] == pytest.approx(u["days_to_first_sq"], rel=1e-3)


def test_count_swu_override_and_no_natural_feed():
    data = json.loads(run("--stock", "60=100", "--machines", "IR-6=1000", "--swu", "IR-6=10",
                          "--count", "3", "--no-natural-feed", "--json").stdout)
    assert data["machine_swu_per_year"] == {"IR-6": 10.0}
    assert data["days_to_each_sq"][1] is not None
    assert data["days_to_each_sq"][2] is None  # 100 kg of 60% cannot make three SQs


def test_human_output_has_table_and_plan():
    result = run("--stock", "20=100", "--machines", "IR-2m=1000")
    assert result.exit_code == 0
    assert "Breakout estimate" in result.stdout and "Plan" in result.stdout


@pytest.mark.parametrize("args", [
    ("--stock", "150=10", "--machines", "IR-1=100"),
    ("--stock", "0=10", "--machines", "IR-1=100"),
    ("--stock", "60=-5", "--machines", "IR-1=100"),
    ("--stock", "60=10", "--machines", "IR-99=100"),
    ("--stock", "60=10", "--machines", "IR-1=-3"),
    ("--stock", "60=10", "--machines", "IR-1=10", "--tails", "0.9"),
    ("--stock", "60=10", "--machines", "IR-1=10", "--sq-mass", "5"),
    ("--stock", "60=10", "--machines", "IR-1=10", "--efficiency", "1.5"),
    ("--stock", "60=10", "--machines", "IR-1=10", "--count", "0"),
    ("--stock", "60", "--machines", "IR-1=10"),
    ("--stock", "60=10",),
])
def test_bad_input_exit_2_one_line(args):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_machine_suggests():
    result = run("--stock", "60=10", "--machines", "IR-2M2=10")
    assert result.exit_code == 2 and "did you mean 'IR-2m'" in result.stderr
