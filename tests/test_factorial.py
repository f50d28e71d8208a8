"""Full factorial experiments with common random numbers (redline.experiments.factorial)."""
from __future__ import annotations

import pytest

from redline.experiments.factorial import main_effects, run_factorial, split_difference
from redline.scenario import scenario_from_dict

DOC = {
    "meta": {"id": "two-factors", "title": "two factors", "as_of": "2020-01-06", "horizon": 20},
    "actors": {"a": {"name": "A", "kind": "state", "assumption": "test", "strategy": "mix"}},
    "state": {"hits": {"type": "counter", "initial": 0, "assumption": "test"},
              "noise": {"type": "counter", "initial": 0, "assumption": "test"}},
    "actions": {
        "hit": {"actor": "a", "track": "one", "effects": [{"var": "hits", "add": "1 + 2 * big"}], "assumption": "test"},
        "other": {"actor": "a", "track": "two", "effects": [{"var": "noise", "add": 1}], "assumption": "test"},
    },
    "strategies": {"mix": {"actor": "a", "assumption": "test", "policy": {
        "kind": "scripted", "probabilities": {"hit": "0.2 + 0.4 * often", "other": 0.5}}}},
    "levers": {
        "often": {"default": 0, "low": 0, "high": 1, "values": [0, 1], "assumption": "test"},
        "big": {"default": 0, "low": 0, "high": 1, "values": [0, 1], "assumption": "test"},
    },
}


@pytest.fixture(scope="module")
def result():
    loaded = scenario_from_dict(DOC)
    return run_factorial(loaded, actor="a", strategy="mix", factors={"often": [0, 1], "big": [0, 1]},
                         measures={"hits": ("hits", 20)}, runs=4000, seed=1)


def test_main_effects_match_the_design(result):
    eff = main_effects(result)["hits"]
    # E[hits] = 20 weeks x P(hit) x size: P 0.2 or 0.6, size 1 or 3
    # often: averaged over size 2 -> 20 x 0.4 x 2 = 16; big: averaged over P 0.4 -> 20 x 0.4 x 2 = 16
    for f in ("often", "big"):
        lo, hi = eff[f]["ci95"]
        assert lo < 16 < hi and hi - lo < 1.5, f


def test_a_two_factor_difference_splits_into_its_parts(result):
    s = split_difference(result, "hits", {"often": 1, "big": 1}, {"often": 0, "big": 0})
    assert s["often"]["effect"] + s["big"]["effect"] == pytest.approx(s["difference"]["effect"])
    # 20 x (0.6 x 3 - 0.2 x 1) = 32, carried equally by the two factors
    assert s["difference"]["ci95"][0] < 32 < s["difference"]["ci95"][1]
    assert s["often"]["effect"] == pytest.approx(16, abs=1.0) and s["big"]["effect"] == pytest.approx(16, abs=1.0)


def test_cells_share_random_numbers_and_the_seed_reproduces(result):
    loaded = scenario_from_dict(DOC)
    again = run_factorial(loaded, actor="a", strategy="mix", factors={"often": [0, 1], "big": [0, 1]},
                          measures={"hits": ("hits", 20), "noise": ("noise", 20)}, runs=500, seed=1)
    noise = again.measures["noise"]
    assert (noise == noise[0]).all()  # a track the factors do not touch draws the same in every cell
    twice = run_factorial(loaded, actor="a", strategy="mix", factors={"often": [0, 1], "big": [0, 1]},
                          measures={"hits": ("hits", 20), "noise": ("noise", 20)}, runs=500, seed=1)
    assert (twice.measures["hits"] == again.measures["hits"]).all()
    with pytest.raises(ValueError):
        split_difference(result, "hits", {"often": 1, "big": 1}, {"often": 1, "big": 0})
