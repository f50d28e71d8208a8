"""Compiled kernels (redline.native) against the numpy code they replace: the same bits.

The numpy code is the specification and the fallback; these tests run both on the same inputs
(the kernels switched off by patching ``native._compiled``) and require identical arrays, from
single hashes up to whole simulations.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from redline import escalation, native
from redline.escalation.common import BLOCK_RUNS, block_streams

pytest.importorskip("llvmlite")


@pytest.fixture
def numpy_only(monkeypatch):
    """A switch: ``numpy_only()`` turns the kernels off for the rest of the test."""
    return lambda: monkeypatch.setattr(native, "_compiled", lambda: None)


def draws(seed: int, block: int, runs: int, subset, calls: list[tuple[str, str]]) -> list[np.ndarray]:
    """The arrays a sequence of (site, kind) calls returns, reading the runs in ``subset``."""
    streams = block_streams(np.random.SeedSequence(seed), block, runs)
    streams.subset = subset
    out = []
    for site, kind in calls:
        stream = streams.get(site)
        out.append(stream.random(0) if kind == "random" else stream.standard_normal(0))
    return out


CALLS = [("a", "random"), ("b", "normal"), ("a", "random"), ("a", "normal"), ("c", "random")]


def test_kernels_compile_here():
    assert native.enabled()


@pytest.mark.parametrize("runs, block, subset", [
    (10_000, 0, None),
    (1, 0, None),
    (7, 3, None),
    (BLOCK_RUNS, 30, None),  # the largest run indices a block of the last allowed blocks reaches
    (10_000, 1, np.arange(0, 10_000, 3)),
    (10_000, 0, np.array([9_999])),
    (10_000, 0, np.array([0, 1, 2, 5_000, 9_998, 9_999])),
    (10_000, 0, np.array([], dtype=np.int64)),
    (1_000, 2, np.arange(1_000)[::-1].copy()),  # any order
    (1_000, 0, np.arange(1_000, dtype=np.int32)[5:900:7]),  # other integer types, a view
])
def test_kernel_draws_equal_numpy_draws_bit_for_bit(numpy_only, runs, block, subset):
    fast = draws(11, block, runs, subset, CALLS)
    numpy_only()
    spec = draws(11, block, runs, subset, CALLS)
    for f, s in zip(fast, spec):
        assert f.dtype == s.dtype == np.float64 and f.shape == s.shape
        assert np.array_equal(f.view(np.uint64), s.view(np.uint64))


def test_row_reads_equal_numpy_reads_bit_for_bit(numpy_only):
    def read():
        streams = block_streams(np.random.SeedSequence(5), 0, 2_000)
        streams.subset = np.arange(0, 2_000, 2)
        rows = np.array([0, 3, 999])
        return [streams.rows(rows).get("x").random(3), streams.get("x").random(0),
                streams.rows(rows).get("y").standard_normal(3)]
    fast = read()
    numpy_only()
    for f, s in zip(fast, read()):
        assert np.array_equal(f.view(np.uint64), s.view(np.uint64))


@pytest.mark.parametrize("scenario, strategies", [
    ("proxy-deterrence", {}),
    ("proxy-deterrence", {"challenger": "loud"}),
    ("iran-us-2020", {}),
])
def test_whole_simulations_are_identical_with_and_without_kernels(numpy_only, scenario, strategies):
    kw = dict(runs=1_500, horizon=52, seed=3, strategies=strategies)
    fast = escalation.run(scenario, **kw)
    numpy_only()
    spec = escalation.run(scenario, **kw)
    for name in spec.data_vars:
        assert np.array_equal(fast[name].values, spec[name].values, equal_nan=True), name


def test_the_hash_kernel_returns_new_arrays():
    a = native.hash_uniforms(None, 5, 99, 1.0)
    b = native.hash_uniforms(None, 5, 99, 1.0)
    assert a is not b and np.array_equal(a, b) and a.flags.owndata and a.flags.writeable
    assert native.hash_uniforms(np.array([], dtype=np.int64), 0, 99, 1.0).shape == (0,)


def test_redline_native_0_switches_the_kernels_off():
    code = "from redline import native; print(native.enabled(), native.hash_uniforms(None, 3, 1, 1.0))"
    env = dict(os.environ, REDLINE_NATIVE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "None"]


@pytest.mark.parametrize("cdf", [
    pytest.param(None, id="poisson tables"),
    pytest.param(np.array([0.25]), id="one entry"),
    pytest.param(np.array([0.1, 0.1, 0.5, 0.5, 0.9]), id="ties, and uniforms past the end"),
    pytest.param(np.array([0.0, 0.0, 1.0]), id="zeros first"),
    pytest.param("ties", id="entries equal to uniforms drawn"),
])
@pytest.mark.parametrize("subset", [None, np.arange(0, 3_000, 5), np.array([], dtype=np.int64)])
def test_inverse_cdf_equals_numpy_lookup_bit_for_bit(numpy_only, cdf, subset):
    from redline import expr as ex

    def uniforms(calls=1):
        streams = block_streams(np.random.SeedSequence(8), 1, 3_000)
        streams.subset = subset
        return [streams.get("p").random(0) for _ in range(calls)][-1]

    if isinstance(cdf, str):  # ties: some uniforms of the call sit exactly on table entries
        cdf = np.sort(np.concatenate([uniforms()[:6], [0.5, 0.999]]))
    tables = [ex._poisson_cdf(lam) for lam in (0.01, 0.7, 4.0, 30.0)] if cdf is None else [cdf]

    def look_up():
        streams = block_streams(np.random.SeedSequence(8), 1, 3_000)
        streams.subset = subset
        return [streams.get("p").inverse_cdf(t) for t in tables] + [streams.get("p").random(0)]

    fast = look_up()
    numpy_only()
    spec = look_up()
    for f, s in zip(fast, spec):
        assert f.dtype == np.float64 and np.array_equal(f, s)
    for call, (t, f) in enumerate(zip(tables, fast), 1):  # the look-up of the uniforms random() gives
        want = np.minimum(np.searchsorted(t, uniforms(call), side="left"), t.size - 1)
        assert np.array_equal(f, want)


def test_poisson_draws_by_table_keep_their_distribution():
    from redline import expr as ex

    streams = block_streams(np.random.SeedSequence(2), 0, 200_000)
    draws = streams.get("p").inverse_cdf(ex._poisson_cdf(3.0))
    assert abs(draws.mean() - 3.0) < 0.02 and abs(draws.var() - 3.0) < 0.05


def test_within_gives_the_reductions_answer_on_edge_values():
    edges = np.array([np.nan, -0.0, 0.0, 1.0, 0.5, np.nextafter(1.0, 2.0), -5e-324, 5e-324, np.inf, -np.inf])
    rng = np.random.default_rng(0)
    seen = set()
    for t in range(2_000):
        n = int(rng.integers(1, 200))
        x = rng.uniform(-0.0, 1.0, n)
        if t % 3:
            x[rng.integers(0, n, rng.integers(1, 3))] = rng.choice(edges, 1)
        for lo, hi in ((0.0, 1.0), (-0.0, 0.0), (0.5, 0.5), (-np.inf, np.inf), (0.25, 0.75)):
            want = bool(np.minimum.reduce(x) >= lo and np.maximum.reduce(x) <= hi)
            assert native.within(x, lo, hi) is want, (x, lo, hi)
            seen.add(want)
    assert seen == {True, False}
    assert native.within(np.array([]), 0.0, 1.0) is None  # empty, other kinds: the caller reduces
    assert native.within(np.zeros(4, dtype=np.float32), 0.0, 1.0) is None
    assert native.within(np.zeros(8)[::2], 0.0, 1.0) is None
    assert native.within(np.zeros(4, dtype=">f8"), 0.0, 1.0) is None  # equal values, another byte order
