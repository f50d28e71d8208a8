"""nash.predict_parties (parties pooled before the tables) gives predict_tables' numbers to the bit."""
from __future__ import annotations

import numpy as np
import pytest

from redline.bargaining import nash


def _parties(rng, parties: int, batch: int, *, shared: int, nan_positions=False, zero_weights=False):
    """Parties whose positions are drawn from ``shared`` distinct rows (so several share one,
    as parties sharing a rule do), with per-party saliences and capabilities."""
    rows = [np.round(rng.uniform(0, 100, batch), 1) for _ in range(shared)]
    rows[0][: batch // 3] = 0.0  # a stretch of ideal points at 0 (and -0.0 below)
    if shared > 1:
        rows[1][: batch // 4] = -0.0
    positions = [rows[j % shared] for j in range(parties)]
    if nan_positions:
        positions[-1] = positions[-1].copy()
        positions[-1][::5] = np.nan
    saliences = [np.clip(rng.uniform(-0.2, 1.2, batch), 0, 1) for _ in range(parties)]
    capabilities = [np.full(batch, float(rng.integers(0, 60))) for _ in range(parties)]
    if zero_weights:  # inactive in some runs where its ideal point is 0 anyway: not pooled with its twins
        saliences[0][: batch // 3: 2] = 0.0
    return positions, saliences, capabilities


@pytest.mark.parametrize("utility", ["linear", "quadratic"])
@pytest.mark.parametrize("case", [
    dict(parties=12, shared=5), dict(parties=12, shared=1), dict(parties=11, shared=2),  # groups of 6 and of 9 (>= 8)
    dict(parties=1, shared=1), dict(parties=5, shared=5), dict(parties=7, shared=3, nan_positions=True),
    dict(parties=9, shared=3, zero_weights=True),
])
def test_pooled_parties_give_the_tables_numbers(utility, case):
    rng = np.random.default_rng(len(str(case)) + (utility == "linear"))
    for batch in (0, 1, 257):
        positions, saliences, capabilities = _parties(rng, batch=batch, **case)
        with np.errstate(all="ignore"):  # as in the engine: parties with no weight in a row
            want = nash.predict_tables(np.array(positions), np.array(saliences), np.array(capabilities), utility=utility)
            got = nash.predict_parties(positions, saliences, capabilities, utility=utility)
        assert got.shape == want.shape == (batch,)
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), (case, batch)


def test_equal_parties_that_are_different_arrays_pool_and_a_nan_weight_goes_to_the_tables():
    rng = np.random.default_rng(3)
    positions, saliences, capabilities = _parties(rng, 6, 100, shared=2)
    positions = [p.copy() for p in positions]  # equal values, distinct objects
    assert len(nash._groups(positions, [np.ones(100, bool)] * 6)) == 2
    want = nash.predict_tables(np.array(positions), np.array(saliences), np.array(capabilities))
    assert np.array_equal(nash.predict_parties(positions, saliences, capabilities), want)
    saliences[2] = saliences[2].copy()
    saliences[2][7] = np.nan  # refused where the party holds a position, as for any caller
    with pytest.raises(Exception) as tables:
        nash.predict_tables(np.array(positions), np.array(saliences), np.array(capabilities))
    with pytest.raises(type(tables.value)):
        nash.predict_parties(positions, saliences, capabilities)


def test_parties_pool_only_with_the_same_ideal_points_and_active_rows():
    """As _pool_identical: equal ideal points are not enough, the active rows must match too."""
    at_zero = np.zeros(6)
    everywhere, some = np.ones(6, bool), np.array([True, False] * 3)
    assert nash._groups([at_zero, at_zero.copy(), at_zero], [everywhere, some, everywhere]) == [[0, 2], [1]]
    assert nash._groups([at_zero, at_zero + 1.0], [everywhere, everywhere]) == [[0], [1]]
    positions = [at_zero, at_zero, np.full(6, 100.0), np.full(6, 40.0)]
    saliences = [np.where(some, 0.5, 0.0), np.full(6, 0.5), np.full(6, 0.9), np.full(6, 0.3)]
    capabilities = [np.full(6, 30.0), np.full(6, 10.0), np.full(6, 20.0), np.full(6, 50.0)]
    want = nash.predict_tables(np.array(positions), np.array(saliences), np.array(capabilities))
    assert np.array_equal(nash.predict_parties(positions, saliences, capabilities), want)
    assert want[0] != want[1]  # the party missing from a row moves its outcome
