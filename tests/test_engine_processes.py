"""Processes: a ``set`` is clipped in the array its evaluation made for it, never in one held
elsewhere, with the numbers of the general path (a copy clipped)."""
from __future__ import annotations

import numpy as np
import pytest

from redline import escalation
from redline import expr as ex
from redline.scenario import load_scenario, scenario_from_dict


def _with_echoes(doc: dict):
    """The example with two bounded variables set every week from the unbounded ``tension``:
    one to the variable itself (its array is held by the values), one to a new array."""
    for name in ("echo", "echo_scaled"):
        doc["state"][name] = {"type": "real", "initial": 0, "min": 0, "max": 1, "unit": "share",
                              "description": "tension, clipped", "assumption": "test"}
    doc["processes"]["echoes"] = {"set": {"echo": "tension", "echo_scaled": "tension * 0.5"}, "assumption": "test"}
    return scenario_from_dict(doc)


def _results(scenario, **kw):
    ds = escalation.run(scenario, **kw)
    return {name: ds[name].values.copy() for name in ds.data_vars}, ds


@pytest.mark.parametrize("scenario, strategies", [("echoes", {"challenger": "loud"}),
                                                  ("iran-us-2020", {"iran": "slow_drip"})])
def test_a_set_clipped_in_its_own_array_gives_the_numbers_of_a_copy(example_doc, monkeypatch, scenario, strategies):
    sc = _with_echoes(example_doc) if scenario == "echoes" else load_scenario(scenario)
    kw = dict(runs=2000, horizon=60, seed=3, strategies=strategies)
    fast, ds = _results(sc, **kw)
    monkeypatch.setattr(ex.Expression, "fresh", property(lambda self: False))  # every set on a copy
    slow, _ = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    if scenario == "echoes":  # tension went above the echoes' bound and was not clipped with them
        final = ds["final_state"]
        tension = final.sel(variable="tension").values
        assert tension.max() > 2.0
        assert np.array_equal(final.sel(variable="echo").values, np.minimum(tension, 1.0))
