"""redline.functions: the domain functions scenario expressions may call (enrichment physics)."""
from __future__ import annotations

import numpy as np
import pytest

from redline import expr as ex
from redline.errors import ExpressionError
from redline.functions import breakout_days_expr, feed_per_kg_expr, swu_per_kg_expr
from redline.nuclear import breakout_days


def test_registered_in_the_expression_language():
    assert {"breakout_days", "swu_per_kg", "feed_per_kg"} <= ex.extension_names()


def test_swu_and_feed_per_kg_match_the_textbook_values():
    # 4.5% product from natural uranium (0.711%) at 0.3% tails: about 6.23 kg-SWU and 10.22 kg of
    # feed per kg (Benedict, Pigford & Levi 1981, eq. 12.61; feed from the U-235 mass balance)
    assert swu_per_kg_expr(4.5, 0.711, 0.3) == pytest.approx(6.23, abs=0.01)
    assert feed_per_kg_expr(4.5, 0.711, 0.3) == pytest.approx((4.5 - 0.3) / (0.711 - 0.3))


def test_out_of_order_assays_give_nan_per_run():
    swu = swu_per_kg_expr(np.array([4.5, 0.3]), np.array([0.711, 0.711]), np.array([0.3, 4.5]))
    assert np.isfinite(swu[0]) and np.isnan(swu[1])
    assert np.isnan(feed_per_kg_expr(20.0, 0.711, 0.711))  # tails equal to feed: no separation


def test_breakout_days_groups_runs_by_their_assays():
    rate = np.array([1000.0, 1000.0, 2000.0])
    kg = np.array([100.0, 100.0, 100.0])
    assay = np.array([60.0, 20.0, 60.0])
    days = breakout_days_expr(rate, kg, assay)
    for i in range(3):  # each run as if computed alone
        assert days[i] == pytest.approx(breakout_days({assay[i] / 100: np.array([kg[i]])}, np.array([rate[i]]))[0])
    assert days[0] < days[1]  # a stock at 60% is closer to weapons grade than one at 20%
    assert days[2] < days[0]  # more separative capacity, fewer days


def test_breakout_days_one_assay_set_gives_the_grouped_path_s_bits():
    # Assays written as numbers skip the grouping; the runs must get the very numbers they get
    # when the same assays arrive per run among others (the grouped path), stocks at one assay
    # added, negative stocks counted as none.
    rng = np.random.default_rng(7)
    rate = rng.uniform(0.0, 9000.0, 40)
    leu, heu, more_leu = rng.uniform(-5.0, 400.0, (3, 40))
    heu[::3] = 0.0
    fast = breakout_days_expr(rate, leu, 4.5, heu, 20.0, more_leu, 4.5)
    odd = np.full(40, 4.5)
    odd[-1] = 3.0  # one run with other assays forces the grouped path
    grouped = breakout_days_expr(rate, leu, odd, heu, 20.0, more_leu, 4.5)
    assert np.array_equal(fast[:-1].view(np.int64), grouped[:-1].view(np.int64))
    assert fast[-1] != grouped[-1]
    alone = breakout_days({0.045: np.maximum(leu, 0) + np.maximum(more_leu, 0), 0.2: heu}, rate)
    assert np.allclose(fast, alone, rtol=1e-12)


def test_breakout_days_routes_follow_the_assumptions():
    # The routes are cached per (assays, product assay, assumptions): other tails, other days.
    from redline.nuclear import BreakoutAssumptions

    stocks, rate = {0.045: np.array([300.0])}, np.array([5000.0])
    lean = breakout_days(stocks, rate, assumptions=BreakoutAssumptions(natural_tails_assay=0.002,
                                                                       enriched_tails_assay=0.002))
    assert breakout_days(stocks, rate)[0] != lean[0]
    assert breakout_days(stocks, rate)[0] == breakout_days(dict(stocks), rate)[0]


def test_breakout_days_refuses_impossible_assays_and_odd_arguments():
    with pytest.raises(ExpressionError, match="outside"):
        breakout_days_expr(np.array([1000.0]), np.array([100.0]), np.array([120.0]))
    with pytest.raises(ExpressionError, match="pairs"):
        breakout_days_expr(np.array([1000.0]), np.array([100.0]))


@pytest.mark.parametrize("bad", [120.0, 100.0, 0.0, -0.0, -3.0, float("nan"), float("inf")])
def test_breakout_days_refuses_an_impossible_assay_written_as_a_number(bad):
    # Assays written as numbers are checked without an array: the same refusals and message as
    # per-run assays get, the first bad assay named.
    rate, kg = np.array([1000.0, 2000.0]), np.array([100.0, 50.0])
    for assays in ((bad, 20.0), (20.0, bad)):
        for args in ((kg, assays[0], kg, assays[1]), (kg, np.full(2, assays[0]), kg, np.full(2, assays[1]))):
            with pytest.raises(ExpressionError, match=f"assay {bad:g}% is outside") as info:
                breakout_days_expr(rate, *args)
            assert str(info.value).startswith("breakout_days: assay")


def test_breakout_days_keeps_the_shape_of_its_widest_argument():
    # Scalars and per-run arrays mix: the result has the broadcast shape, whatever carries it.
    kg = np.array([100.0, 0.0, 300.0])
    one = breakout_days_expr(5000.0, 100.0, 4.5)
    assert np.shape(one) == () and one > 0
    for args in ((5000.0, kg, 4.5), (np.full(3, 5000.0), 100.0, 4.5), (5000.0, 100.0, np.full(3, 4.5)),
                 (5000.0, kg, 4.5, 10.0, 20.0)):
        days = breakout_days_expr(*args)
        assert days.shape == (3,)
        for i in range(3):
            alone = breakout_days_expr(*(np.asarray(a)[i] if np.ndim(a) else a for a in args))
            assert days[i] == alone


def test_breakout_days_expr_long_arrays_give_the_bits_of_short_ones():
    # Negative capacities and stocks are counted as none with a spread zero over long arrays:
    # the bits of the short-array computation, NaN, ±0 and infinities included.
    edges = np.array([300.0, np.nan, np.inf, -5.0, 0.0, -0.0, 1e-300, 5000.0, -np.inf, 40.0])
    rng = np.random.default_rng(2)
    rate, leu, heu, more = (rng.choice(edges, 200) for _ in range(4))
    long = breakout_days_expr(rate, leu, 4.5, heu, 20.0, more, 4.5)
    short = np.concatenate([breakout_days_expr(rate[i:i + 8], leu[i:i + 8], 4.5, heu[i:i + 8], 20.0, more[i:i + 8], 4.5)
                            for i in range(0, 200, 8)])
    assert np.array_equal(long.view(np.int64), short.view(np.int64))
