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


def test_breakout_days_refuses_impossible_assays_and_odd_arguments():
    with pytest.raises(ExpressionError, match="outside"):
        breakout_days_expr(np.array([1000.0]), np.array([100.0]), np.array([120.0]))
    with pytest.raises(ExpressionError, match="pairs"):
        breakout_days_expr(np.array([1000.0]), np.array([100.0]))
