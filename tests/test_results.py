"""redline.results: summaries (intervals, paired differences), result files, the sweep store."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from redline import simulate
from redline.errors import ParameterError, RedlineError
from redline.jsonable import to_jsonable
from redline.results import (
    ResultsStore,
    atomic_write_text,
    load_result,
    outcome_summary,
    paired_difference,
    save_result,
    wilson_interval,
)


def test_wilson_interval_matches_the_closed_form():
    # Wilson (1927): 10 of 100 at z = 1.96 gives about [0.0552, 0.1744] (Newcombe 1998, Stat Med 17, table II).
    lo, hi = wilson_interval(10, 100)
    assert lo == pytest.approx(0.0552, abs=5e-4) and hi == pytest.approx(0.1744, abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(0, 50)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0 < hi < 0.1


def test_paired_difference_of_identical_arms_is_exactly_zero():
    a = np.random.default_rng(0).random(500) < 0.3
    assert paired_difference(a, a) == (0.0, (0.0, 0.0))
    b = np.zeros(500)
    diff, (lo, hi) = paired_difference(a, b)
    assert diff == pytest.approx(a.mean()) and lo < diff < hi


def test_to_jsonable_turns_numpy_and_non_finite_values_into_json():
    value = {"a": np.int64(3), "b": np.float32(0.5), "c": np.array([1.0, np.nan, np.inf]), 4: np.bool_(True),
             "d": (math.inf, -math.inf)}
    assert json.loads(json.dumps(to_jsonable(value))) == {"a": 3, "b": 0.5, "c": [1.0, None, None], "4": True,
                                                          "d": [None, None]}


def test_result_directory_round_trips_and_writes_atomically(tmp_path):
    ds = simulate("proxy-deterrence", runs=50, seed=3)
    out = save_result(tmp_path / "r", {"base": ds}, {"kind": "run", "p": np.float64(0.25)})
    assert sorted(p.name for p in out.iterdir()) == ["base.nc", "summary.json"]  # no temporary files left
    summary, datasets = load_result(out)
    assert summary["p"] == 0.25 and summary["datasets"] == ["base"]
    assert datasets["base"]["failed"].dtype == bool
    assert outcome_summary(datasets["base"]) == outcome_summary(ds)
    atomic_write_text(tmp_path / "x.txt", "one")
    atomic_write_text(tmp_path / "x.txt", "two")
    assert (tmp_path / "x.txt").read_text() == "two" and len(list(tmp_path.glob(".x.txt.*"))) == 0


def test_load_result_refuses_a_directory_that_is_not_a_result(tmp_path):
    with pytest.raises(RedlineError, match="not a redline result directory"):
        load_result(tmp_path)


def test_store_refuses_missing_and_foreign_files(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    with pytest.raises(ParameterError, match="no such results store"):
        ResultsStore.open(tmp_path / "none.duckdb")
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).execute("create table t (x int)").close()
    with pytest.raises(ParameterError, match="not a redline results store"):
        ResultsStore.open(foreign)
