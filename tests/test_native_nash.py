"""The compiled Nash search (redline.native.nash) against the numpy solver it replaces: the same bits.

:func:`redline.native.nash_linear_roots` walks each batch row through ``_linear_kinks`` and
``_newton_root``. These tests solve the same tables with the kernel and with the kernels switched
off, on what the search must get right: ties and kinks (a root exactly at an ideal point), signed
zeros, infinite and huge values, absent actors and zero weights (the masked path), a status quo,
one actor and seven, rows that never stop, no batch rows.
"""
from __future__ import annotations

import numpy as np
import pytest

from redline import native
from redline.bargaining import Actors, nash
from tests.test_nash_fast_paths import _active_table

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in both solvers

EDGES = np.array([0.0, 1.0, 2.5, 40.0, 50.0, 100.0, -3.0])


@pytest.fixture
def numpy_only(monkeypatch):
    return lambda: monkeypatch.setattr(native, "_compiled", lambda: None)


def _bits(x):
    return np.ascontiguousarray(x, dtype=float).view(np.int64)


def _table(rng, batch, actors, *, masked, extreme, status_quo):
    """The fast-path tests' table (signed zeros left out: the kernel gives way to numpy on a row
    holding both), with absent actors and zero weights if ``masked`` and a status quo."""
    pos, sal, cap = _active_table(rng, batch, actors, extreme, edges=EDGES)
    if masked:
        pos[rng.random((batch, actors)) < 0.1] = np.nan  # absent
        sal[rng.random((batch, actors)) < 0.1] = 0.0  # no weight
    sq = np.where(rng.random(batch) < 0.8, rng.uniform(-5, 105, batch), np.nan) if status_quo else None
    return Actors.from_arrays(pos, sal, cap, status_quo=sq)


@pytest.mark.parametrize("actors", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("extreme", [False, True])
@pytest.mark.parametrize("disagreement", ["worst", "status_quo"])
def test_the_kernel_gives_the_numpy_solution(monkeypatch, actors, masked, extreme, disagreement):
    rng = np.random.default_rng([actors, masked, extreme, disagreement == "worst"])
    for batch in (0, 1, 400):
        table = _table(rng, batch, actors, masked=masked, extreme=extreme, status_quo=disagreement == "status_quo")
        compiled = nash.predict(table, disagreement=disagreement).prediction
        with monkeypatch.context() as m:
            m.setattr(native, "_compiled", lambda: None)
            plain = nash.predict(table, disagreement=disagreement).prediction
        assert np.array_equal(_bits(compiled), _bits(plain)), (batch, np.flatnonzero(_bits(compiled) != _bits(plain))[:5])


def _tables(rng, actors, batch):
    ideal = EDGES[rng.integers(0, EDGES.size, (actors, batch))].astype(float)
    w = rng.integers(0, 5, (actors, batch)).astype(float)
    active = w > 0
    radius = np.full((actors, batch), 120.0)
    return ideal, w, radius, active, np.full(batch, -5.0), np.full(batch, 105.0)


def test_the_kernel_is_used_and_declines_what_it_must(numpy_only):
    """It answers for 1..7 actors (ties and kinks included, so the root is often an ideal point),
    and gives way to numpy for 8 actors or a row holding both 0.0 and -0.0 inside its bracket."""
    rng = np.random.default_rng(3)
    ideal, w, radius, active, left, right = _tables(rng, 7, 500)
    roots = native.nash_linear_roots(ideal, w, radius, active, left, right, 1e-9, False)
    assert roots is not None and np.isin(roots, EDGES).mean() > 0.5  # most roots are kinks here
    assert native.nash_linear_roots(*_tables(rng, 8, 10), 1e-9, False) is None
    signed = ideal.copy()
    signed[:2, 7] = [0.0, -0.0]
    active[:2, 7] = True
    assert native.nash_linear_roots(signed, w + active, radius, active, left, right, 1e-9, False) is None
    signed[:2, 7] = [-0.0, -0.0]  # one sign only: any sort gives the same bits
    assert native.nash_linear_roots(signed, w + active, radius, active, left, right, 1e-9, False) is not None
    numpy_only()
    assert native.nash_linear_roots(ideal, w, radius, active, left, right, 1e-9, False) is None


@pytest.mark.parametrize("everywhere", [False, True])
def test_kernel_roots_as_kinks_then_newton(everywhere):
    """The kernel's roots against numpy's two steps on the same tables, including a tolerance no
    step meets (every row runs the 200 steps) and weightless actors left in when ``everywhere``
    says the numpy code would not look for them."""
    rng = np.random.default_rng(11 + everywhere)
    for actors in (1, 4, 7):
        ideal, w, radius, active, left, right = _tables(rng, actors, 300)
        ideal += rng.uniform(-0.5, 0.5, ideal.shape) * (rng.random(ideal.shape) < 0.5)
        if everywhere:
            active[:] = True
        for tolerance in (1e-12, -1.0):
            got = native.nash_linear_roots(ideal, w, radius, active, left, right, tolerance, everywhere)
            a, b = nash._linear_kinks(ideal, w, radius, active, left, right, np.empty(ideal.shape), everywhere)
            want = nash._newton_root(a, b, ideal, w, radius, active, "linear", tolerance, everywhere=everywhere)
            assert np.array_equal(_bits(got), _bits(want)), (actors, tolerance)


@pytest.mark.parametrize("actors", [1, 2, 4, 7])
@pytest.mark.parametrize("everywhere", [False, True])
def test_kernel_brackets_as_numpy(actors, everywhere):
    """Radius, bracket and range ends with the numpy code's bits: ties of 0.0 and -0.0 among the
    extremes (numpy's minimum and maximum give the later actor), infinite and huge ideal points,
    absent actors (their ideal point 0, as the tables hold them)."""
    rng = np.random.default_rng(actors * 2 + everywhere)
    batch = 2000
    ideal = np.where(rng.random((actors, batch)) < 0.6, np.array([-0.0, 0.0, 3.0, 100.0])[rng.integers(0, 4, (actors, batch))],
                     rng.uniform(-10, 110, (actors, batch)))
    ideal[rng.random((actors, batch)) < 0.03] = np.inf
    ideal[rng.random((actors, batch)) < 0.03] = -1e308
    active = np.ones((actors, batch), bool) if everywhere else rng.random((actors, batch)) < 0.8
    ideal[~active] = 0.0
    got = native.nash_brackets(ideal, active, everywhere)
    want = nash._brackets(ideal, active, None, "worst", everywhere)
    for name, g, w in zip(("radius", "left", "right", "lo", "hi"), got, want):
        assert np.array_equal(_bits(g), _bits(w)), name
    assert native.nash_brackets(np.zeros((8, 3)), np.ones((8, 3), bool), True) is None  # numpy's pairwise sums
