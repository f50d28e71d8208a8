"""redline.limits: one place for the horizon and runs limits, read by every check and the CLI."""
from __future__ import annotations

import numpy as np
import pytest

from redline import escalation
from redline.errors import ParameterError
from redline.experiments import perform_experiments
from redline.limits import MAX_HORIZON, MAX_ROBUSTNESS_POINTS, MAX_RUNS, check_horizon, check_points, check_runs
from redline.scenario import load_scenario
from tests.conftest import redline_cli


def test_runs_accept_numpy_integers_and_refuse_bools_floats_and_out_of_range():
    assert check_runs(np.int64(5)) == 5 and isinstance(check_runs(np.int32(5)), int)
    for bad in (True, 2.0, 0, MAX_RUNS + 1, "10"):
        with pytest.raises(ParameterError, match="runs must be a whole number"):
            check_runs(bad)


def test_horizon_bounds():
    assert check_horizon(MAX_HORIZON) == MAX_HORIZON
    for bad in (0, MAX_HORIZON + 1):
        with pytest.raises(ParameterError, match=f"outside 1..{MAX_HORIZON} weeks"):
            check_horizon(bad)


def test_engine_and_experiments_apply_the_same_limits():
    loaded = load_scenario("proxy-deterrence")
    # numpy integers were refused by the engine and accepted by perform_experiments; now both accept
    assert escalation.run(loaded, runs=np.int64(8), horizon=4, seed=0).sizes["run"] == 8
    for call in (lambda: escalation.run(loaded, runs=8, horizon=MAX_HORIZON + 1, seed=0),
                 lambda: perform_experiments(loaded, design="lhs", samples=2, runs=8, horizon=MAX_HORIZON + 1)):
        with pytest.raises(ParameterError, match=f"outside 1..{MAX_HORIZON} weeks"):
            call()


def test_cli_option_bounds_come_from_the_limits():
    res = redline_cli("run", "proxy-deterrence", "--horizon", str(MAX_HORIZON + 1))
    assert res.returncode == 2 and f"less than or equal to {MAX_HORIZON}" in " ".join(res.stderr.split())


def test_robustness_points_one_bound_for_library_and_cli():
    from redline.experiments.robustness import robustness_check

    assert check_points(np.int64(MAX_ROBUSTNESS_POINTS)) == MAX_ROBUSTNESS_POINTS
    for bad in (0, MAX_ROBUSTNESS_POINTS + 1, 2.0, True):
        with pytest.raises(ParameterError, match="robustness points must be a whole number"):
            check_points(bad)
    with pytest.raises(ParameterError, match="robustness points"):  # checked before anything runs
        robustness_check(load_scenario("proxy-deterrence"), actor="challenger", strategies=["a", "b"],
                         points=MAX_ROBUSTNESS_POINTS + 1, runs=10, horizon=4, seed=0)
    res = redline_cli("compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "a,b",
                      "--robustness", str(MAX_ROBUSTNESS_POINTS + 1))
    text = " ".join(res.stderr.replace("│", " ").split())
    assert res.returncode == 2 and f"less than or equal to {MAX_ROBUSTNESS_POINTS}" in text
