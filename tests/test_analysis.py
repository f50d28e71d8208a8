"""redline.analysis: scenario discovery (PRIM, CART) and sensitivity indices on known functions."""
from __future__ import annotations

import numpy as np
import pytest

from redline.analysis.discovery import cart, prim
from redline.analysis.sensitivity import analyse


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    X = rng.random((2000, 4))
    y = (X[:, 0] > 0.6) & (X[:, 2] < 0.3)
    box = prim(X, y)["boxes"][0]
    assert box.coverage > 0.9 and box.density > 0.9
    assert abs(box.limits[0][0] - 0.6) < 0.03 and abs(box.limits[2][1] - 0.3) < 0.03
    assert box.limits[1][0] < 0.02 and box.limits[1][1] > 0.98  # untouched factors stay unrestricted
    assert box.limits[3][0] < 0.02 and box.limits[3][1] > 0.98


def test_prim_peels_categories_and_cart_agrees():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.random(900), rng.integers(0, 3, 900)])
    y = (X[:, 0] < 0.4) & (X[:, 1] == 2)
    box = prim(X, y, categorical={1})["boxes"][0]
    assert box.categories[1] == frozenset({2.0}) and abs(box.limits[0][1] - 0.4) < 0.05
    leaves = [leaf for leaf in cart(X, y, categorical={1}) if leaf["cases"] / leaf["points"] > 0.5]
    assert len(leaves) == 1 and leaves[0]["cases"] == y.sum()


def test_sensitivity_ranks_the_factor_that_moves_the_output():
    pytest.importorskip("SALib")
    rng = np.random.default_rng(2)
    X = rng.random((240, 3))
    Y = 5 * X[:, 1] + 0.1 * X[:, 0]
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    indices, note = analyse("rbd_fast", problem, X, Y, seed=0)
    assert note is None
    assert int(np.argmax(indices["S1"])) == 1 and indices["S1"][1] > 0.8


def test_sensitivity_of_a_constant_output_is_zero_with_a_note():
    X = np.random.default_rng(3).random((20, 2))
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    indices, note = analyse("rbd_fast", problem, X, np.full(20, 0.25))
    assert indices["S1"] == [0.0, 0.0] and "every experiment" in note
