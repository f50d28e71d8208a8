"""Enrichment physics and breakout planning: check values, properties, vectorised == scalar."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ParameterError
from redline.nuclear import (
    DEFAULT_ASSUMPTIONS,
    MACHINE_TYPES,
    NATURAL_ASSAY,
    BreakoutAssumptions,
    breakout_days,
    feed_per_product,
    fleet_swu_per_year,
    plan_breakout,
    separative_work,
    significant_quantity,
    solve_enrichment,
    swu_per_product,
    value_function,
)

FAST = settings(max_examples=60, deadline=None)
assays = st.floats(min_value=1e-4, max_value=0.9999, allow_nan=False)


# --- check values from the issue (to 0.1%) ---------------------------------------------------

def test_check_value_weapon_grade_from_natural():
    assert separative_work(1.0, 0.90, NATURAL_ASSAY, 0.003) == pytest.approx(192.9, rel=1e-3)
    assert feed_per_product(0.90, NATURAL_ASSAY, 0.003) == pytest.approx(218.3, rel=1e-3)


def test_check_value_reactor_grade_from_natural():
    assert swu_per_product(0.035, NATURAL_ASSAY, 0.003) == pytest.approx(4.34, rel=1e-3)


def test_value_function_known_points():
    assert value_function(0.5) == pytest.approx(0.0, abs=1e-15)
    assert value_function(0.9) == pytest.approx(0.8 * math.log(9.0))


# --- solving for one unknown -----------------------------------------------------------------

def test_solve_from_feed_matches_solve_from_product():
    by_product = solve_enrichment(product_kg=2.0, feed_assay=NATURAL_ASSAY, product_assay=0.2,
                                  tails_assay=0.003)
    by_feed = solve_enrichment(feed_kg=by_product.feed_kg, feed_assay=NATURAL_ASSAY,
                               product_assay=0.2, tails_assay=0.003)
    by_swu = solve_enrichment(swu=by_product.swu, feed_assay=NATURAL_ASSAY, product_assay=0.2,
                              tails_assay=0.003)
    assert by_feed.product_kg == pytest.approx(2.0)
    assert by_swu.tails_kg == pytest.approx(by_product.tails_kg)


def test_solve_missing_tails_assay_from_masses():
    known = solve_enrichment(product_kg=1.0, feed_assay=NATURAL_ASSAY, product_assay=0.9,
                             tails_assay=0.0025)
    solved = solve_enrichment(feed_kg=known.feed_kg, product_kg=1.0, feed_assay=NATURAL_ASSAY,
                              product_assay=0.9)
    assert solved.tails_assay == pytest.approx(0.0025)
    assert solved.swu == pytest.approx(known.swu)


@pytest.mark.parametrize("kwargs", [
    dict(product_kg=1.0, feed_assay=0.003, product_assay=0.9, tails_assay=0.005),  # tails >= feed
    dict(product_kg=-1.0, feed_assay=0.00711, product_assay=0.9, tails_assay=0.003),
    dict(product_kg=1.0, feed_kg=2.0, feed_assay=0.00711, product_assay=0.9, tails_assay=0.003),
    dict(product_kg=1.0, feed_assay=1.5, product_assay=0.9, tails_assay=0.003),
])
def test_solve_refuses_bad_input(kwargs):
    with pytest.raises(ParameterError):
        solve_enrichment(**kwargs)


# --- properties ------------------------------------------------------------------------------

@FAST
@given(assays)
def test_value_function_symmetric(x):
    assert value_function(x) == pytest.approx(value_function(1.0 - x), rel=1e-9, abs=1e-12)


@FAST
@given(st.lists(assays, min_size=3, max_size=3, unique=True), st.floats(0.01, 1e3))
def test_swu_non_negative_and_mass_conserved(three, product_kg):
    xt, xf, xp = sorted(three)
    if xf - xt < 1e-6 or xp - xf < 1e-6:
        return
    b = solve_enrichment(product_kg=product_kg, feed_assay=xf, product_assay=xp, tails_assay=xt)
    assert b.swu >= -1e-9 * max(1.0, b.feed_kg)
    assert b.feed_kg == pytest.approx(b.product_kg + b.tails_kg, rel=1e-9)
    assert b.feed_kg * xf == pytest.approx(b.product_kg * xp + b.tails_kg * xt, rel=1e-9)


stock_maps = st.dictionaries(st.sampled_from([0.0367, 0.045, 0.2, 0.6, 0.9]),
                             st.floats(0.0, 500.0), max_size=4)
capacities = st.floats(100.0, 1e5)


@FAST
@given(stock_maps, capacities, st.floats(1.01, 5.0), st.booleans())
def test_more_machines_never_lengthen(stocks, swu, factor, natural):
    a = BreakoutAssumptions(natural_feed=natural)
    slow = plan_breakout(stocks, swu, assumptions=a, count=2).days_to_each_sq
    fast = plan_breakout(stocks, swu * factor, assumptions=a, count=2).days_to_each_sq
    assert all(f <= s or (math.isinf(f) and math.isinf(s)) for f, s in zip(fast, slow))


@FAST
@given(stock_maps, capacities, st.sampled_from([0.0367, 0.2, 0.6, 0.95]), st.floats(0.1, 300.0))
def test_more_or_higher_stock_never_lengthens(stocks, swu, assay, kg):
    base = plan_breakout(stocks, swu).days_to_first_sq
    more = dict(stocks)
    more[assay] = more.get(assay, 0.0) + kg
    assert plan_breakout(more, swu).days_to_first_sq <= base + 1e-9
    # moving the same kg of a stock up to a higher assay never lengthens breakout either
    if stocks:
        low = min(stocks)
        raised = {k: v for k, v in stocks.items() if k != low}
        higher = min(0.95, low * 2)
        raised[higher] = raised.get(higher, 0.0) + stocks[low]
        assert plan_breakout(raised, swu).days_to_first_sq <= base + 1e-9


@FAST
@given(stock_maps, capacities, st.floats(0.3, 1.0), st.floats(0.3, 1.0))
def test_higher_efficiency_never_lengthens(stocks, swu, e1, e2):
    lo, hi = sorted((e1, e2))
    d_lo = plan_breakout(stocks, swu, assumptions=BreakoutAssumptions(efficiency=lo)).days_to_first_sq
    d_hi = plan_breakout(stocks, swu, assumptions=BreakoutAssumptions(efficiency=hi)).days_to_first_sq
    assert d_hi <= d_lo + 1e-9


# --- vectorised == scalar ----------------------------------------------------------------------

def test_vectorised_matches_scalar_planner():
    rng = np.random.default_rng(20261125)
    runs = 200
    col_assays = [0.0367, 0.045, 0.2, 0.6]
    kg = rng.uniform(0, 300, size=(runs, 4)) * (rng.uniform(size=(runs, 4)) < 0.7)
    swu = rng.uniform(500, 30000, size=runs)
    eff = rng.uniform(0.5, 1.0, size=runs)
    for natural in (True, False):
        for sq in ("iaea", "42kg60"):
            a = BreakoutAssumptions(natural_feed=natural)
            vec = breakout_days(kg, swu, assays=col_assays, sq=sq, efficiency=eff, assumptions=a)
            for r in range(runs):
                ar = BreakoutAssumptions(natural_feed=natural, efficiency=float(eff[r]))
                scalar = plan_breakout(dict(zip(col_assays, kg[r])), float(swu[r]), sq=sq,
                                       assumptions=ar).days_to_first_sq
                if math.isinf(scalar):
                    assert math.isinf(vec[r])
                else:
                    assert vec[r] == pytest.approx(scalar, rel=1e-9, abs=1e-9)


def test_vectorised_mapping_form_and_infeasible_runs():
    d = breakout_days({0.6: np.array([0.0, 10.0, 100.0])}, np.array([1000.0, 1000.0, 0.0]),
                      assumptions=BreakoutAssumptions(natural_feed=False))
    assert math.isinf(d[0]) and math.isinf(d[1])      # not enough 60% without natural feed
    assert math.isinf(d[2])                           # enough material but no capacity


# --- significant quantities and plans ------------------------------------------------------------

def test_significant_quantity_conventions():
    iaea = significant_quantity("iaea")
    assert iaea.u235_kg == pytest.approx(25.0) and iaea.mass_kg == pytest.approx(27.78, abs=0.01)
    assert significant_quantity("42kg60").u235_kg == pytest.approx(25.2)
    with pytest.raises(ParameterError):
        significant_quantity("custom", mass_kg=10.0)
    with pytest.raises(ParameterError):
        significant_quantity("iaea", mass_kg=10.0)


def test_stock_at_product_assay_needs_no_enrichment():
    plan = plan_breakout({0.6: 100.0}, 1000.0, sq="42kg60")
    assert plan.days_to_first_sq == 0.0 and plan.swu_required == 0.0
    # 100 kg at 60% is two 42 kg quantities, not three
    assert math.isinf(plan_breakout({0.6: 100.0}, 1000.0, sq="42kg60", count=3,
                                    assumptions=BreakoutAssumptions(natural_feed=False)).days_to_each_sq[2])


def test_plan_is_auditable_and_consistent():
    plan = plan_breakout({0.0367: 203.0, 0.2: 20.0}, 4554.0, count=2)
    d = plan.to_dict()
    assert d["days_to_each_sq"] == sorted(d["days_to_each_sq"])
    assert d["swu_required"] == pytest.approx(sum(s["swu"] for s in d["plan"]))
    first = [s for s in plan.steps if s.sq_number == 1]
    assert sum(s.product_kg for s in first) == pytest.approx(significant_quantity().mass_kg)
    assert first[0].feed_assay == 0.2                      # highest assay first
    assert plan.stocks_used_kg[0.0367] == pytest.approx(203.0)


def test_jcpoa_row_from_documented_defaults():
    """JCPOA implementation (Jan 2016): ~203 kg U at 3.67%, 5,060 IR-1 -> US officials' ~12 months."""
    total, _ = fleet_swu_per_year({"IR-1": 5060})
    assert total == pytest.approx(5060 * MACHINE_TYPES["IR-1"].swu_per_year)
    days = plan_breakout({0.0367: 202.8}, total, assumptions=DEFAULT_ASSUMPTIONS).days_to_first_sq
    assert 300 <= days <= 430


def test_machine_types_have_ranges_and_bases():
    for m in MACHINE_TYPES.values():
        assert 0 < m.low_swu_per_year <= m.swu_per_year <= m.high_swu_per_year
        assert len(m.basis) > 40


def test_unknown_machine_suggests_nearest():
    with pytest.raises(ParameterError, match="did you mean 'IR-6'"):
        fleet_swu_per_year({"IR-6x": 10})
    total, rates = fleet_swu_per_year({"IR-99": 10}, overrides={"IR-99": 2.0})
    assert total == 20.0 and rates == {"IR-99": 2.0}


def _breakout_days_reference(stocks, rate, a):
    """breakout_days as written before its shortcuts (full arrays, the shortfall test always)."""
    from redline.nuclear.breakout import DAYS_PER_YEAR, _routes

    sq = significant_quantity("iaea")
    assays, columns = [float(x) for x in stocks], [np.asarray(v, dtype=float) for v in stocks.values()]
    rate = np.asarray(rate, dtype=float)
    shape = np.broadcast_shapes(rate.shape, *(c.shape for c in columns))
    per_day = np.broadcast_to(rate * np.asarray(a.efficiency) / DAYS_PER_YEAR, shape)
    need = np.full(shape, sq.mass_kg / (1.0 - a.loss_fraction))
    swu, enriched, tol = np.zeros(shape), np.zeros(shape, dtype=bool), 1e-9 * need
    for i, r in _routes(tuple(assays), sq.assay, a):
        take = need if i < 0 else np.minimum(np.maximum(columns[i], 0.0) * r.product_per_kg_feed, need)
        if r.swu_per_kg_product > 0:
            swu = swu + take * r.swu_per_kg_product
        if r.tails_assay is not None:
            enriched |= take > 0
        need = need - take
    with np.errstate(divide="ignore", invalid="ignore"):
        enrich_days = np.where(swu > 0, swu / per_day, 0.0)
    return np.where(need > tol, np.inf, np.where(enriched, a.setup_days, 0.0) + enrich_days)


@pytest.mark.parametrize("assumptions", [
    DEFAULT_ASSUMPTIONS, BreakoutAssumptions(natural_feed=False), BreakoutAssumptions(tails_assay=0.008),
    BreakoutAssumptions(setup_days=0.0, loss_fraction=0.02, efficiency=0.7),
])
def test_breakout_days_shortcuts_give_the_reference_bits(assumptions):
    # Scalar starts, cached routes and no shortfall test behind natural feed: the same bits as
    # the general computation, odd stocks and capacities included.
    kg = np.array([300.0, np.nan, np.inf, -5.0, 0.0, -0.0, 1e-300, 5000.0, 12.0, 40.0])
    rate = np.array([5000.0, 5000.0, 5000.0, 5000.0, 0.0, np.inf, 5000.0, -1.0, np.nan, 300.0])
    for stocks in ({0.045: kg, 0.2: kg[::-1]}, {0.2: kg}, {0.95: kg, 0.0036: kg[::-1]}, {},
                   {0.045: 250.0, 0.2: kg}, {0.2: np.float64(3.0)}):  # a stock the same in every run
        for capacity in (rate, 4554.0, -rate, -np.inf):
            got = breakout_days(stocks, capacity, assumptions=assumptions)
            want = _breakout_days_reference(stocks, capacity, assumptions)
            assert np.shape(got) == np.shape(want), stocks
            assert np.array_equal(np.asarray(got).view(np.int64), np.asarray(want).view(np.int64)), (stocks, capacity)


def test_spread_numbers_compare_as_the_numbers_do():
    # A number spread over a long array (numpy's SIMD loop) gives the bits of the number itself
    # (its one-at-a-time loop): NaN, ±0, infinities, denormals; -0.0 and 0.0 are kept apart.
    from redline.nuclear.breakout import spread

    rng = np.random.default_rng(5)
    edges = np.array([np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324, -1.0, 27.7, 1e308])
    for n in (1, 63, 64, 65, 1000):
        x = rng.choice(edges, n)
        for value in (0.0, -0.0, 27.7, np.inf, -np.inf, np.nan, 5e-324):
            s = spread(value, x)
            assert (np.ndim(s) == 1) == (n >= 64)
            for f in (np.maximum, np.minimum):
                assert np.array_equal(f(x, s).view(np.int64), f(x, value).view(np.int64)), (n, value, f)
    assert np.signbit(spread(-0.0, np.zeros(100))).all() and not np.signbit(spread(0.0, np.zeros(100))).any()
    assert not spread(1.0, np.zeros(100)).flags.writeable


def test_breakout_days_long_arrays_give_the_bits_of_short_ones():
    # Long arrays take numpy's SIMD comparisons (numbers spread over arrays); each run's days are
    # the bits it gets computed in a short array.
    kg = np.tile(np.array([300.0, np.nan, np.inf, -5.0, 0.0, -0.0, 1e-300, 5000.0, 12.0, 40.0]), 20)
    rate = np.tile(np.array([5000.0, 5000.0, 5000.0, 5000.0, 0.0, np.inf, 5000.0, -1.0, np.nan, 300.0]), 20)[::-1]
    for stocks in ({0.045: kg, 0.2: kg[::-1]}, {0.2: kg}, {0.95: kg, 0.0036: kg[::-1]}):
        long = breakout_days(stocks, rate)
        short = np.concatenate([breakout_days({a: v[i:i + 10] for a, v in stocks.items()}, rate[i:i + 10])
                                for i in range(0, kg.size, 10)])
        assert np.array_equal(long.view(np.int64), short.view(np.int64))


@pytest.mark.parametrize("assumptions", [DEFAULT_ASSUMPTIONS, BreakoutAssumptions(natural_feed=False)])
def test_breakout_days_without_masks_where_they_hold_everywhere(assumptions):
    # Where every run enriches and has separative work to do (the usual case), the days are
    # computed without numpy's masks: the bits of the general computation, long and short
    # arrays, with and without natural feed, one run without work making the masks partial.
    rng = np.random.default_rng(9)
    for n in (3, 200):
        leu, heu = rng.uniform(1.0, 900.0, n), rng.uniform(0.5, 60.0, n)
        rate = rng.uniform(100.0, 20000.0, n)
        for stocks in ({0.045: leu, 0.2: heu}, {0.2: heu}, {0.045: leu, 0.95: np.zeros(n)}):
            for capacity in (rate, 4554.0):
                got = breakout_days(stocks, capacity, assumptions=assumptions)
                want = _breakout_days_reference(stocks, capacity, assumptions)
                assert np.array_equal(got.view(np.int64), want.view(np.int64))
        partial = {0.045: leu, 0.95: np.where(np.arange(n) == 1, 40.0, 0.0)}  # run 1 blends, no enrichment
        got = breakout_days(partial, rate, assumptions=assumptions)
        want = _breakout_days_reference(partial, rate, assumptions)
        assert np.array_equal(got.view(np.int64), want.view(np.int64)) and got[1] == 0.0


@pytest.mark.parametrize("assumptions", [DEFAULT_ASSUMPTIONS, BreakoutAssumptions(natural_feed=False),
                                         BreakoutAssumptions(setup_days=0.0, efficiency=0.7)])
def test_breakout_days_every_run_its_bits_whether_or_not_all_runs_enrich(assumptions):
    # An array whose every run has separative work to do skips the masks (see _stock_days); one
    # odd run (no work, a NaN, a blend-down, a denormal stock) brings them back. Either way each
    # run gets the reference's bits, alone or among usual runs.
    edges = [300.0, np.nan, np.inf, -5.0, 0.0, -0.0, 1e-300, 5e-324, 5000.0, 40.0]
    usual = np.array([250.0, 900.0, 12.0])
    for assay_a, assay_b in ((0.045, 0.2), (0.045, 0.95), (0.2, 0.0036)):
        for a_kg in edges:
            for b_kg in (3.0, np.nan, 0.0):
                for rate in (4554.0, 0.0, np.nan):
                    alone = {assay_a: np.array([a_kg]), assay_b: np.array([b_kg])}
                    among = {assay_a: np.append(usual, a_kg), assay_b: np.append(usual / 10, b_kg)}
                    for stocks in (alone, among):
                        got = breakout_days(stocks, rate, assumptions=assumptions)
                        want = _breakout_days_reference(stocks, rate, assumptions)
                        assert np.array_equal(got.view(np.int64), want.view(np.int64)), (stocks, rate)
