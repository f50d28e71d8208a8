"""The engine's counter-based random numbers (redline.escalation.common.block_streams).

A uniform is a pure function of (site, call number, global run index): these tests check it
against a plain-Python statement of that function, check the properties the engine relies on
(a subset's draw is the full draw restricted to it, bit for bit; a call for no run keeps later
calls aligned; a run's numbers depend neither on the block's size nor on the other runs) and a
few statistical properties on a million values (fixed seeds: deterministic, they cannot flake).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from redline import expr as ex
from redline.escalation.common import BLOCK_RUNS, _mix64, block_streams

GOLDEN, MASK = 0x9E3779B97F4A7C15, 2**64 - 1


def uniform_by_hand(seed: int, site: str, call: int, run: int) -> float:
    """The specification, written out one number at a time."""
    ss = np.random.SeedSequence(seed, spawn_key=(ex.site_seed_key(site),))
    site_key = int(ss.generate_state(1, np.uint64)[0])
    call_key = _mix64((site_key + GOLDEN * call) & MASK)
    bits = _mix64((call_key + GOLDEN * (run + 1)) & MASK)
    return (bits >> 12) * 2.0**-52


def test_the_finalizer_is_splitmix64():
    """SplitMix64 from state 1234567 (Vigna's splitmix64.c): its first outputs."""
    state, out = 1234567, []
    for _ in range(3):
        state = (state + GOLDEN) & MASK
        out.append(_mix64(state))
    assert out == [6457827717110365317, 3203168211198807973, 9817491932198370423]


@pytest.mark.parametrize("block", [0, 2])
def test_block_draws_are_the_function_of_site_call_and_global_run(block):
    streams = block_streams(np.random.SeedSequence(42), block, 50)
    site = streams.get("a.b#1")
    for call in (1, 2, 3):
        u = site.random(50)
        for position in (0, 1, 31, 49):
            assert u[position] == uniform_by_hand(42, "a.b#1", call, block * BLOCK_RUNS + position)
    other = block_streams(np.random.SeedSequence(42), block, 50).get("a.b#2").random(50)
    assert not np.array_equal(u, other)


def test_a_run_draws_the_same_numbers_whatever_the_block_size():
    small, large = block_streams(np.random.SeedSequence(7), 0, 10), block_streams(np.random.SeedSequence(7), 0, 4000)
    for _ in range(3):
        assert np.array_equal(small.get("s").random(10), large.get("s").random(4000)[:10])
        assert np.array_equal(small.get("n").standard_normal(10), large.get("n").standard_normal(4000)[:10])


def expression_draws(text: str, streams, read, values=None) -> np.ndarray:
    e = ex.parse(text, names=set(values or {}), site="e")
    ctx = ex.EvalContext(dict(values or {}), read.size if read is not None else streams.runs,
                         streams.get if read is None else streams.rows(read).get)
    return e.evaluate(ctx)


@pytest.mark.parametrize("text", ["uniform(0, 1)", "bernoulli(0.3)", "normal(2, 3)", "poisson(0.2)", "poisson(7)",
                                  "poisson(r)", "poisson(3) + normal(0, 1) * uniform(-1, 1)"])
def test_a_subset_draw_is_the_full_draw_restricted_to_it_bit_for_bit(text):
    """Reading some runs (given rows, or the runs still simulated after others ended) gives
    exactly the numbers a draw for every run gives them, call after call."""
    runs = 3000
    rates = {"r": np.linspace(0.0, 25.0, runs)}
    rows = np.array([0, 5, 6, 1234, runs - 1])
    full, few, live = (block_streams(np.random.SeedSequence(3), 1, runs) for _ in range(3))
    live.subset = np.arange(1, runs, 3)  # two runs in three ended
    for week in range(3):
        every = expression_draws(text, full, None, rates)
        values = {"r": rates["r"][rows]}
        assert np.array_equal(expression_draws(text, few, rows, values), every[rows])
        ctx_values = {"r": rates["r"][live.subset]}
        e = ex.parse(text, names={"r"}, site="e")
        kept = e.evaluate(ex.EvalContext(ctx_values, live.subset.size, live.get))
        assert np.array_equal(kept, every[live.subset])


def test_a_call_for_no_run_moves_the_counter_and_keeps_later_calls_aligned():
    ss = np.random.SeedSequence(9)
    drawn, skipped = block_streams(ss, 0, 500), block_streams(ss, 0, 500)
    nobody = np.zeros(0, dtype=np.intp)
    e = ex.parse("normal(0, 1) + bernoulli(0.5) + poisson(2)", names=set(), site="e")
    for week in range(3):
        if week == 1:  # week 2: one stream draws for every run, the other for none (skip_draws)
            expression_draws(e.text, drawn, None)
            assert e.skip_draws(ex.EvalContext({}, 0, skipped.rows(nobody).get))
        else:
            a, b = expression_draws(e.text, drawn, None), expression_draws(e.text, skipped, None)
            assert np.array_equal(a, b)
    assert {k: s.calls for k, s in drawn.sites.items()} == {k: s.calls for k, s in skipped.sites.items()}
    assert skipped.rows(nobody).get("x").random(0).size == 0 and skipped.sites["x"].calls == 1


def test_numpy_poisson_fallback_is_reproducible_and_moves_no_counter():
    """Rates above the inversion tables use numpy's sampler, seeded by the site's key, call
    number and block: the same numbers again under the same seed, and the site's next call reads
    the same uniforms as after small rates."""
    rates = np.full(200, 80.0)
    runs = [block_streams(np.random.SeedSequence(4), 0, 200) for _ in range(3)]
    first = [expression_draws("poisson(r)", s, None, {"r": rates if i < 2 else np.ones(200)})
             for i, s in enumerate(runs)]
    assert np.array_equal(first[0], first[1]) and abs(first[0].mean() - 80.0) < 4 * np.sqrt(80.0 / 200)
    after = [s.get("x.next").random(200) for s in runs]
    assert np.array_equal(after[0], after[2])
    later = [expression_draws("poisson(r)", s, None, {"r": rates}) for s in runs[:2]]
    assert np.array_equal(later[0], later[1]) and not np.array_equal(later[0], first[0])


@pytest.fixture(scope="module")
def million():
    """A million uniforms and normals: 100 calls of 10,000 runs of two sites each."""
    streams = block_streams(np.random.SeedSequence(20261202), 3, 10_000)
    u = np.stack([streams.get("u").random(10_000) for _ in range(100)])
    v = np.stack([streams.get("v").random(10_000) for _ in range(100)])
    z = np.stack([streams.get("z").standard_normal(10_000) for _ in range(100)])
    return u, v, z


def test_a_million_uniforms_look_uniform(million):
    u, v, _ = million
    flat = u.ravel()
    assert ((flat >= 0.0) & (flat < 1.0)).all()
    assert np.all(np.modf(flat * 2.0**52)[0] == 0.0)  # multiples of 2**-52
    n = flat.size
    assert abs(flat.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(flat.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)  # Var of (U - 1/2)^2: 1/180
    assert stats.kstest(flat, "uniform").pvalue > 1e-4
    counts = np.bincount((flat * 100).astype(int), minlength=100)
    assert stats.chisquare(counts).pvalue > 1e-4
    bound = 5 / np.sqrt(n)
    for a, b in ((u[:, :-1], u[:, 1:]),  # neighbouring runs
                 (u[:-1], u[1:]),  # consecutive calls of a site
                 (u, v)):  # two sites
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < bound


def test_a_million_normals_look_normal(million):
    u, _, z = million
    flat = z.ravel()
    assert np.isfinite(flat).all()
    n = flat.size
    assert abs(flat.mean()) < 5 / np.sqrt(n) and abs(flat.var() - 1) < 5 * np.sqrt(2 / n)
    assert stats.kstest(flat, "norm").pvalue > 1e-4
    assert abs(np.corrcoef(z[:-1].ravel(), z[1:].ravel())[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(u.ravel(), z.ravel())[0, 1]) < 5 / np.sqrt(n)


def test_normals_are_finite_at_the_ends_of_the_uniforms():
    """The centred uniform (2k + 1) 2**-53 never reaches 0 or 1, so ndtri stays finite."""
    k = np.array([0, 1, 2**52 - 1], dtype=np.uint64)
    doubles = (k | np.uint64(0x3FF0000000000000)).view(np.float64)
    centred = doubles - (1.0 - 2.0**-53)
    assert list(centred) == [2.0**-53, 3 * 2.0**-53, 1 - 2.0**-53]
    assert np.isfinite(special.ndtri(centred)).all()


def test_calls_for_no_run_through_the_kept_view_count_each_call_after_compaction():
    """A call for no run goes through one view per site, kept by the streams: every such call
    moves its site's counter on by one (two calls in a week, two moves), also once the block
    reads a subset of its runs (compaction), and later calls for some runs draw the numbers of
    streams that never took that path (calls by hand, one per week)."""
    ss = np.random.SeedSequence(4)
    kept, fresh = block_streams(ss, 1, 300), block_streams(ss, 1, 300)
    nobody = np.zeros(0, dtype=np.intp)
    for week in range(4):
        if week == 2:  # compaction: both read a subset from now on
            kept.subset = fresh.subset = np.arange(0, 300, 3)
        for _ in range(2):
            assert kept.rows(nobody).get("x").random(0).size == 0
            fresh.site("x").calls += 1  # the specification: a call for no run only counts
        rows = np.array([1, 5, 40]) if week < 2 else np.array([0, 7, 99])
        assert np.array_equal(kept.rows(rows).get("x").random(3), fresh.rows(rows).get("x").random(3))
    assert kept.sites["x"].calls == fresh.sites["x"].calls == 12
    assert kept.rows(nobody) is kept.rows(nobody.copy()) and kept.rows(nobody).get("x") is kept.rows(nobody).get("x")
