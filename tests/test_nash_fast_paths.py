"""The Nash solver's fast paths give the general path's numbers to the bit.

Each fast path is compared with the operations it replaces on the edge cases it must get
right: signed zeros and ties among ideal points, a point exactly at an ideal point, infinite
and huge values, zero weights, a single actor, every actor active (the path that skips the
masks), no batch rows or one, numbers passed as one entry for every row, no live runs.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from redline.bargaining import Actors, nash
from redline.escalation.common import collective_positions
from tests import nash_before_layout as before

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in both solvers

EDGES = np.array([-0.0, 0.0, 1.0, 2.5, 40.0, 100.0, -3.0])


def _bits(x):
    return np.ascontiguousarray(x, dtype=float).view(np.int64)


def _old_one_sided(x, ideal, w, radius, from_left, weightless):
    """_one_sided as it was: the quotient, 0 where weightless, negated where below x."""
    d = ideal - x
    below = d < 0 if from_left else d <= 0
    with np.errstate(all="ignore"):
        inv = w / (radius - np.abs(d))
    if weightless is not None:
        inv[weightless] = 0.0
    np.negative(inv, out=inv, where=below)
    return nash._row_sum(inv)


@pytest.mark.parametrize("actors", [1, 2, 5, 9])
def test_one_sided_signs_as_the_negated_quotients(actors):
    """Only the sign of the sum is used (the binary search and the kink test compare it with 0):
    it must be the old one, and so must every number that is neither zero nor NaN."""
    rng = np.random.default_rng(actors)
    batch = 2000
    ideal = np.where(rng.random((actors, batch)) < 0.7, EDGES[rng.integers(0, EDGES.size, (actors, batch))],
                     rng.uniform(-5, 105, (actors, batch)))
    ideal[rng.random((actors, batch)) < 0.03] = np.inf
    radius = np.choose(rng.integers(0, 4, (actors, batch)), [np.zeros((actors, batch)), np.full((actors, batch), 1e-300),
                                                              rng.uniform(0, 120, (actors, batch)), np.full((actors, batch), np.inf)])
    w = np.choose(rng.integers(0, 4, (actors, batch)), [np.zeros((actors, batch)), np.full((actors, batch), 1e-300),
                                                         rng.uniform(0, 50, (actors, batch)), np.full((actors, batch), np.inf)])
    x = np.where(rng.random(batch) < 0.6, ideal[rng.integers(0, actors), np.arange(batch)], EDGES[rng.integers(0, EDGES.size, batch)])
    positive = np.where(w > 0, w, 2.0)
    for weights, weightless in ((w, ~(w > 0)), (positive, None)):
        for from_left in (True, False):
            want = _old_one_sided(x, ideal, weights, radius, from_left, weightless)
            got = nash._one_sided(x, ideal, weights, radius, from_left, weightless, np.empty(ideal.shape))
            assert np.array_equal(got <= 0, want <= 0) and np.array_equal(got >= 0, want >= 0)
            plain = ~np.isnan(want) & (want != 0)
            assert np.array_equal(_bits(got[plain]), _bits(want[plain]))
            given = nash._one_sided(x, ideal, weights, radius, from_left, weightless, np.empty(ideal.shape), -weights,
                                    np.empty(ideal.shape))
            assert np.array_equal(_bits(given), _bits(got))


@pytest.mark.parametrize("actors", [1, 3, 5, 7])
def test_linear_derivatives_as_the_general_ones_away_from_kinks(actors):
    """Every actor active, finite tables: the same f and f' bits as _derivatives, and None as
    soon as x is some actor's ideal point in some row (signed zeros included)."""
    rng = np.random.default_rng(10 + actors)
    batch = 3000
    ideal = np.where(rng.random((actors, batch)) < 0.5, EDGES[rng.integers(0, EDGES.size, (actors, batch))],
                     rng.uniform(-5, 105, (actors, batch)))
    radius = rng.uniform(0, 150, (actors, batch))
    radius[rng.random((actors, batch)) < 0.05] = 0.0
    w = rng.uniform(1e-3, 60, (actors, batch))
    w[rng.random((actors, batch)) < 0.05] = 1e-300
    scratch, general = np.empty((3, actors, batch)), np.empty((3, actors, batch))
    with np.errstate(all="ignore"):
        for x in (rng.uniform(-5, 105, batch), rng.uniform(-1e-300, 1e-300, batch), np.full(batch, 1e200)):
            got = nash._linear_derivatives(x, ideal, radius, w, -w, scratch)
            want = nash._derivatives(x, ideal, radius, w, None, "linear", general)
            assert got is not None
            for g, v in zip(got, want):
                assert np.array_equal(_bits(g), _bits(v))
        at_ideal = rng.uniform(-5, 105, batch)
        at_ideal[7] = ideal[0, 7]
        signed_zero = rng.uniform(-5, 105, batch)
        zero_rows = np.flatnonzero(ideal[0] == 0)
        signed_zero[zero_rows] = np.where(np.signbit(ideal[0, zero_rows]), 0.0, -0.0)  # -0.0 - 0.0 == 0
        for hit in (ideal[-1].copy(), at_ideal) + ((signed_zero,) if zero_rows.size else ()):
            assert nash._linear_derivatives(hit, ideal, radius, w, -w, scratch) is None


def _active_table(rng, batch, actors, extreme=False, edges=EDGES):
    """Every actor present with a positive weight: the solver's unmasked path (ideal points often
    among ``edges``)."""
    pos = np.where(rng.random((batch, actors)) < 0.6, edges[rng.integers(0, edges.size, (batch, actors))],
                   rng.uniform(-10.0, 110.0, (batch, actors)))
    if actors > 1:
        pos[:, -1] = pos[:, 0]  # a bloc sharing a position rule (pooled)
    if extreme:
        pos[rng.random((batch, actors)) < 0.05] = np.inf
        pos[rng.random((batch, actors)) < 0.05] = -1e308
    sal = rng.uniform(0.05, 1.0, (batch, actors))
    cap = rng.integers(1, 60, (batch, actors)).astype(float)
    if extreme:
        cap[rng.random((batch, actors)) < 0.05] = np.inf
    return pos, sal, cap


@pytest.mark.parametrize("actors", [1, 2, 3, 5, 6, 7, 9])
@pytest.mark.parametrize("extreme", [False, True])
def test_every_actor_active_as_the_old_solver(actors, extreme):
    rng = np.random.default_rng(100 * actors + extreme)
    for batch in (0, 1, 300):
        pos, sal, cap = _active_table(rng, batch, actors, extreme)
        table = Actors.from_arrays(pos, sal, cap)
        for utility in ("linear", "quadratic"):
            want, _ = before.predict(table, utility=utility)
            got = nash.predict_tables(pos.T.copy(), sal.T.copy(), cap.T.copy(), utility=utility)
            assert np.array_equal(_bits(got), _bits(want)), (utility, batch)


def test_identical_rows_and_an_all_inside_actor_as_the_old_solver():
    """Every batch row the same (one answer, repeated) and actors that are never inside the
    bargaining range next to one that always is (the kink search ranks only the latter)."""
    pos = np.tile([0.0, 100.0, 25.0, 60.0, 60.0], (50, 1))
    sal, cap = np.full((50, 5), 0.6), np.array([[25.0, 48.0, 62.0, 54.0, 42.0]] * 50)
    want, _ = before.predict(Actors.from_arrays(pos, sal, cap))
    got = nash.predict_tables(pos.T.copy(), sal.T.copy(), cap.T.copy())
    assert np.array_equal(_bits(got), _bits(want)) and np.unique(got).size == 1
    pos[:, 3:] = np.linspace(0.0, 100.0, 50)[:, None]
    want, _ = before.predict(Actors.from_arrays(pos, sal, cap))
    assert np.array_equal(_bits(nash.predict_tables(pos.T.copy(), sal.T.copy(), cap.T.copy())), _bits(want))


@pytest.mark.parametrize("seed", range(4))
def test_parties_given_as_one_entry_as_full_rows(seed):
    """predict_parties with numbers as arrays of one entry (batch=) or spread (stride 0) gives
    the numbers of full rows, in groups of numbers, of rows and of both, NaN positions included."""
    rng = np.random.default_rng(seed)
    batch = 200
    rows = [rng.uniform(0, 100, batch), np.full(batch, 100.0), np.full(batch, 0.0), np.full(batch, 25.0)]
    rows[0][::7] = -0.0 if seed % 2 else np.nan
    picks = rng.integers(0, 4, 10)
    positions = [rows[k] for k in picks]
    saliences = [np.full(batch, float(rng.choice([0.0, 0.5, 0.9]))) for _ in picks]
    capabilities = [np.full(batch, float(rng.integers(1, 60))) if rng.random() < 0.7 else rng.uniform(0, 60, batch) for _ in picks]
    want = nash.predict_parties(positions, saliences, capabilities)
    assert np.array_equal(_bits(want), _bits(nash.predict_tables(np.array(positions), np.array(saliences), np.array(capabilities))))
    for shrink in (lambda x: x[:1], lambda x: np.broadcast_to(x[:1], x.shape)):
        def one(x):
            return shrink(x) if (x == x[0]).all() else x
        got = nash.predict_parties([one(p) for p in positions], [one(s) for s in saliences], [one(c) for c in capabilities],
                                   batch=batch)
        assert np.array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("live_runs", ["none", "one", "all", "some"])
def test_collective_positions_of_numbers_for_any_live_runs(live_runs):
    """Numbers as the engine gives them (floats, 0-d and stride-0 arrays) and per-run arrays,
    cut to no live run, one, all or some: the prediction for the cut inputs, bit for bit."""
    rng = np.random.default_rng(len(live_runs))
    runs = 120
    pressure = rng.uniform(0, 100, runs)
    positions = [pressure, np.broadcast_to(100.0, (runs,)), pressure, np.float64(0.0), 0.0, np.broadcast_to(25.0, (runs,))]
    saliences = [0.8, np.broadcast_to(0.9, (runs,)), np.full(runs, 0.6), np.full(runs, 0.6), np.array(1.3), rng.uniform(-0.2, 1.2, runs)]
    capabilities = [np.full(runs, 33.0), 48.0, np.broadcast_to(-2.0, (runs,)), np.broadcast_to(25.0, (runs,)), 18.0, 62.0]
    live = {"none": np.zeros(runs, bool), "one": np.arange(runs) == 5, "all": np.ones(runs, bool),
            "some": rng.random(runs) < 0.6}[live_runs]
    decision = SimpleNamespace(model="nash", options={}, parties=tuple(f"p{j}" for j in range(6)))
    got = collective_positions(decision, positions, saliences, capabilities, live=live)
    cut = [[np.broadcast_to(np.asarray(x, dtype=float), (runs,))[live].copy() for x in group]
           for group in (positions, saliences, capabilities)]
    want = collective_positions(decision, *cut)
    assert got.shape == (live.sum(),) and np.array_equal(_bits(got), _bits(want))
    table = Actors.from_arrays(np.array(cut[0]).T, np.clip(np.array(cut[1]), 0, 1).T, np.maximum(np.array(cut[2]), 0).T)
    assert np.array_equal(_bits(got), _bits(before.predict(table)[0]))


def test_newton_rows_that_never_stop_keep_their_last_step():
    """x is written when the first rows stop and after the last step: with a tolerance no step
    can meet, every row runs the 200 steps and keeps the last one (the converged root), not the
    starting midpoint."""
    rng = np.random.default_rng(5)
    actors, batch = 3, 50
    ideal = np.sort(rng.uniform(0, 100, (actors, batch)), axis=0)
    w, radius = rng.uniform(1, 10, (actors, batch)), np.full((actors, batch), 200.0)
    active = np.ones((actors, batch), bool)
    a, b = ideal[0].copy(), ideal[-1].copy()
    converged = nash._newton_root(a, b, ideal, w, radius, active, "linear", 1e-12, everywhere=True)
    forever = nash._newton_root(a, b, ideal, w, radius, active, "linear", -1.0, everywhere=True)
    assert np.allclose(forever, converged, rtol=0, atol=1e-9) and not np.allclose(forever, 0.5 * (a + b))


def test_a_per_run_input_is_one_number_only_if_every_bit_is_the_same():
    """collective_positions treats a per-run array whose entries all have the same bits as one
    number; 0.0 and -0.0 are equal but not the same: a heavy party at -0.0 in some runs keeps
    the outcome at -0.0 there (its ideal point, a kink)."""
    runs = 40
    heavy = np.zeros(runs)
    heavy[::3] = -0.0
    positions = [heavy, np.full(runs, 50.0), np.full(runs, -50.0)]
    saliences = [np.full(runs, 1.0), np.full(runs, 0.2), np.full(runs, 0.5)]  # one number as per-run arrays
    capabilities = [np.full(runs, 90.0), np.full(runs, 5.0), np.full(runs, 5.0)]
    decision = SimpleNamespace(model="nash", options={}, parties=("heavy", "right", "left"))
    for live in (None, np.arange(runs) % 4 != 1):
        got = collective_positions(decision, positions, saliences, capabilities, live=live)
        keep = slice(None) if live is None else live
        table = Actors.from_arrays(np.array(positions).T[keep], np.array(saliences).T[keep], np.array(capabilities).T[keep])
        want = before.predict(table)[0]
        assert np.array_equal(_bits(got), _bits(want)) and np.signbit(got).any() and not np.signbit(got).all()
