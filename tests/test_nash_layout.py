"""The Nash solver on (actors, batch) tables gives the numbers it gave before, bit for bit.

``tests/nash_before_layout.py`` is the solver as it stood on (batch, actors) tables; the current
one (``nash.predict``, its table entry ``nash.predict_tables`` and the simulation's
``collective_positions``) must give identical bits on random tables built to hit the edge cases:
ties and signed zeros among ideal points, absent actors, zero weights, blocs of identical actors
(pooled; eight or more pool through numpy's pairwise sum), more than eight actors (numpy's own
reductions), a status quo that is missing in some rows, both utilities and both disagreement points.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from redline.bargaining import Actors, BargainingError, nash
from redline.escalation.common import collective_positions
from tests import nash_before_layout as before

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in both solvers

GRID = np.array([0.0, -0.0, 25.0, 50.0, 100.0, 33.3, 70.0])


def _bits(x):
    return np.ascontiguousarray(x, dtype=float).view(np.int64)


def _table(rng, batch, actors):
    """positions, saliences, capabilities (batch, actors) with ties, gaps and copied columns."""
    pos = np.where(rng.random((batch, actors)) < 0.6, GRID[rng.integers(0, GRID.size, (batch, actors))],
                   rng.uniform(-10.0, 110.0, (batch, actors)))
    pos[rng.random((batch, actors)) < 0.1] = np.nan
    sal = np.where(rng.random((batch, actors)) < 0.15, 0.0, rng.random((batch, actors)))
    sal[rng.random((batch, actors)) < 0.1] = 1.0
    cap = np.where(rng.random((batch, actors)) < 0.15, 0.0, rng.integers(1, 60, (batch, actors)).astype(float))
    cap[rng.random((batch, actors)) < 0.3] *= rng.random()
    if actors > 1:  # blocs that share a position rule: copies of one column, with their own weights
        source = int(rng.integers(0, actors))
        for j in rng.choice(actors, size=int(rng.integers(1, actors)), replace=False):
            pos[:, j] = pos[:, source]
        if rng.random() < 0.3:  # the same ideal points but absent in other rows: not one actor
            j = int(rng.integers(0, actors))
            pos[:, j] = np.where(np.isnan(pos[:, source]), 40.0, pos[:, source])
    return pos, sal, cap


CASES = [(seed, actors) for seed in range(6) for actors in (1, 2, 3, 5, 7, 8, 9, 12)]


@pytest.mark.parametrize("seed,actors", CASES)
def test_predict_bits_unchanged(seed, actors):
    rng = np.random.default_rng(1000 * seed + actors)
    pos, sal, cap = _table(rng, 150, actors)
    sq = np.where(rng.random(150) < 0.3, np.nan, rng.uniform(-5.0, 105.0, 150))
    for status_quo in (None, sq):
        table = Actors.from_arrays(pos, sal, cap, status_quo=status_quo)
        for utility in ("linear", "quadratic"):
            for disagreement in ("worst", "status_quo"):
                want, agree = before.predict(table, disagreement=disagreement, utility=utility)
                got = nash.predict(table, disagreement=disagreement, utility=utility)
                assert np.array_equal(_bits(got.prediction), _bits(want)), (utility, disagreement)
                assert np.array_equal(got.diagnostics["agreement"], agree)
                if status_quo is None:
                    fast = nash.predict_tables(pos.T.copy(), sal.T.copy(), cap.T.copy(),
                                               disagreement=disagreement, utility=utility)
                    assert np.array_equal(_bits(fast), _bits(want)), (utility, disagreement)


@pytest.mark.parametrize("seed", range(8))
def test_collective_positions_bits_unchanged(seed):
    """The simulation's path (one array per party, weights clipped into range) against the old solver."""
    rng = np.random.default_rng(seed)
    actors = int(rng.integers(1, 13))
    pos, sal, cap = _table(rng, 200, actors)
    sal = sal * 1.4 - 0.2  # out of [0, 1]: collective_positions clips
    cap[rng.random(cap.shape) < 0.1] = -3.0
    options = [{}, {"utility": "quadratic"}, {"disagreement": "status_quo"}][seed % 3]
    decision = SimpleNamespace(model="nash", options=options, parties=tuple(f"p{j}" for j in range(actors)))
    got = collective_positions(decision, list(pos.T), list(sal.T), list(cap.T))
    table = Actors.from_arrays(pos, np.clip(sal, 0.0, 1.0), np.maximum(cap, 0.0))
    want, _ = before.predict(table, **options)
    assert np.array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("seed", range(4))
def test_collective_positions_for_live_runs_are_those_of_the_cut_inputs(seed):
    """The engine passes every party's arrays over all working runs and the live mask; the
    prediction is the one for the live runs' values cut beforehand, bit for bit (constants
    broadcast as the engine's expressions give them, NaN, weights out of range)."""
    rng = np.random.default_rng(seed)
    actors = int(rng.integers(1, 13))
    pos, sal, cap = _table(rng, 300, actors)
    sal = sal * 1.4 - 0.2
    columns = [list(pos.T), list(sal.T), list(cap.T)]
    columns[0][0] = np.broadcast_to(100.0, (300,))  # a constant party, as Expression.evaluate gives it
    columns[2][-1] = np.broadcast_to(-2.0, (300,))
    live = rng.random(300) < [0.9, 0.5, 0.02, 1.0][seed]
    options = [{}, {"utility": "quadratic"}, {"disagreement": "status_quo"}, {}][seed]
    decision = SimpleNamespace(model="nash", options=options, parties=tuple(f"p{j}" for j in range(actors)))
    got = collective_positions(decision, *columns, live=live)
    want = collective_positions(decision, *[[x[live] for x in group] for group in columns])
    assert got.shape == (live.sum(),) and np.array_equal(_bits(got), _bits(want))


def test_predict_tables_nan_weights_as_actors_table():
    """A NaN salience is refused where the actor holds a position and ignored where it does not."""
    pos = np.array([[0.0, 100.0, 40.0], [10.0, np.nan, 60.0]]).T
    sal = np.array([[1.0, 0.5, 0.7], [0.2, np.nan, 0.9]]).T
    cap = np.ones((3, 2))
    got = nash.predict_tables(pos, sal, cap)
    want, _ = before.predict(Actors.from_arrays(pos.T, sal.T, cap.T))
    assert np.array_equal(_bits(got), _bits(want))
    sal[0, 1] = np.nan
    with pytest.raises(BargainingError, match="NaN"):
        nash.predict_tables(pos, sal, cap)
    with pytest.raises(BargainingError, match="disagreement"):
        nash.predict_tables(pos, sal, cap, disagreement="best")


@pytest.mark.parametrize("actors", range(1, 10))
def test_sort_columns_as_numpy(actors):
    """The sorting network gives numpy's sorted columns bit for bit, signed zeros included."""
    rng = np.random.default_rng(actors)
    values = np.array([-0.0, 0.0, 1.0, 2.5, -3.0, np.inf])
    for table in (values[rng.integers(0, 6, (actors, 500))], values[rng.integers(1, 6, (actors, 500))],
                  rng.uniform(-1.0, 1.0, (actors, 500))):
        want = np.sort(table, axis=0)
        got = nash._sort_columns(table.copy(), table == 0)
        assert np.array_equal(_bits(got), _bits(want))


def test_a_derivative_that_overflows_is_infinite_without_a_warning():
    """w / (radius - d) with a gap below the smallest normal number is +inf, as a zero gap is:
    the solver means it, so numpy's overflow warning is silenced with the divide-by-zero one
    (hypothesis found the warning in test_models_stay_within_positions)."""
    import warnings

    from redline.bargaining import nash

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = nash._one_sided(np.zeros(1), np.array([[1e-300]]), np.array([[1e10]]), np.array([[1e-300 + 1e-316]]),
                              True, None, np.empty((1, 1)))
    assert np.isinf(out).all()
