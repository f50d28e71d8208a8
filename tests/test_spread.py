"""redline.spread: a number handed to numpy's maximum/minimum as an array of it gives the bits
the number gives (NaN, ±0, infinities, denormals), and the expression language uses it."""
from __future__ import annotations

import numpy as np
import pytest

from redline import expr as ex
from redline.spread import SPREAD_FROM, spread

EDGES = np.array([np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324, -1.0, 0.25, 1.0, 1.5, 100.0])
NUMBERS = [0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan, 5e-324, np.float64(0.25)]


def bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("op", [np.maximum, np.minimum])
@pytest.mark.parametrize("n", [1, SPREAD_FROM - 1, SPREAD_FROM, 1000])
def test_a_spread_number_gives_the_bits_of_the_number(op, n):
    x = np.random.default_rng(n).choice(EDGES, n)
    for v in NUMBERS:
        s = spread(v, x)
        assert (type(s) is np.ndarray) == (n >= SPREAD_FROM)
        assert np.array_equal(bits(op(x, s)), bits(op(x, v)))
        assert np.array_equal(bits(op(s, x)), bits(op(v, x)))


def test_spread_arrays_are_shared_read_only_and_keep_the_sign_of_zero():
    x = np.zeros(100)
    a, b = spread(0.0, x), spread(0.0, x[:80])
    assert not a.flags.writeable and np.shares_memory(a, b) and b.shape == (80,)
    assert np.signbit(spread(-0.0, x)).all() and not np.signbit(a).any()
    assert spread(1, x) == 1 and spread(0.5, x.astype(np.float32)) == 0.5  # ints, other dtypes: the number
    assert spread(0.5, np.zeros((10, 10))) == 0.5


@pytest.mark.parametrize("text", ["max(x, 0.0)", "min(1, x)", "max(0.25, x * 2)", "clip(x, 0, 1)",
                                  "min(x + 1, -0.0)", "max(x, 1e-310)"])
def test_expressions_spread_their_numbers_and_give_the_same_bits(monkeypatch, text):
    x = np.random.default_rng(1).choice(EDGES, 500)
    e = ex.parse(text, names={"x"}, site="t")

    def evaluate():
        return e.evaluate(ex.EvalContext({"x": x.copy()}, 500, None))

    calls = []
    monkeypatch.setattr(ex, "spread", lambda v, like: v)  # numbers stay numbers
    want = evaluate()
    monkeypatch.setattr(ex, "spread", lambda v, like: calls.append(v) or spread(v, like))
    got = evaluate()
    assert any(type(spread(v, x)) is np.ndarray for v in calls)  # a number went to numpy as an array
    assert np.array_equal(bits(got), bits(want))
    reference = {"max(x, 0.0)": np.maximum(x, 0.0), "min(1, x)": np.minimum(1.0, x),
                 "clip(x, 0, 1)": np.minimum(np.maximum(x, 0), 1)}.get(text)
    if reference is not None:
        assert np.array_equal(bits(got), bits(reference))
