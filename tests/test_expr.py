"""The expression language: allow-list, errors, vectorised vs scalar agreement, windows."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline import expr as ex
from redline.errors import ExpressionError, Location

NAMES = {"x", "y", "z", "us_casualties"}


def vec(text, values, runs=4, week=1, names=NAMES):
    e = ex.parse(text, names=names, site="t")
    ctx = ex.EvalContext({k: np.asarray(v, dtype=float) for k, v in values.items()}, runs, lambda s: np.random.default_rng(0))
    ctx.week = week
    return e.evaluate(ctx)


@pytest.mark.parametrize("text,expected", [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("2 ** 3", 8.0), ("7 % 4", 3.0), ("-x", -2.0),
    ("x > 1 and y < 1", 1.0), ("x > 1 or y > 1", 1.0), ("not x", 0.0), ("1 < x < 3", 1.0),
    ("if(x > 1, 10, 20)", 10.0), ("min(x, y, 0.5)", 0.0), ("max(x, 5)", 5.0), ("clip(x, 0, 1)", 1.0),
    ("abs(-3)", 3.0), ("exp(0)", 1.0), ("log(1)", 0.0), ("sqrt(9)", 3.0), ("week", 1.0), ("true", 1.0),
])
def test_operators(text, expected):
    out = vec(text, {"x": [2.0] * 4, "y": [0.0] * 4})
    assert out.shape == (4,)
    assert np.allclose(out, expected)


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os').system('touch /tmp/x')", "only calls of built-in functions"),
    ("__import__('os')", "name '__import__' is not allowed"),
    ("x.__class__", "attribute access"),
    ("(lambda: 1)()", "only calls of built-in functions"),
    ("[a for a in x]", "comprehension"),
    ("x[0]", "subscripting"),
    ("'text'", "not a number"),
    ("open('f')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("x if y else z", "use if(c, a, b)"),
    ("(y := 3)", "assignment"),
    ("us_casualty + 1", "did you mean 'us_casualties'"),
    ("sum(x)", "last=N"),
    ("sum(x, last=0)", "outside 1..520"),
    ("sum(x, last=y)", "whole number"),
    ("bernoulli(1.5)", "outside [0, 1]"),
    ("poisson(-1)", "negative"),
    ("min(x)", "takes 2 to 8 arguments"),
    ("1e400", "out of range"),
    ("(" * 100 + "1" + ")" * 100, "nests deeper"),
    ("-" * 60 + "1", "nests deeper"),
    ("x" + " + x" * 3000, "characters long"),
    ("", "empty"),
    ("1 +", "syntax error"),
])
def test_refused(text, fragment):
    with pytest.raises(ExpressionError) as err:
        ex.parse(text, names=NAMES, site="t", location=Location("s.yaml", 3, 10))
    assert fragment in str(err.value)
    assert str(err.value).startswith("s.yaml:3:")


def test_error_column_points_into_expression():
    with pytest.raises(ExpressionError) as err:
        ex.parse("x + nope", names=NAMES, site="t", location=Location("s.yaml", 5, 12))
    assert str(err.value).startswith("s.yaml:5:16:")


def _run_weeks(text, series, names=NAMES):
    """Evaluate week by week, vectorised and scalar, for one run."""
    e = ex.parse(text, names=names, site="w")
    vctx = ex.EvalContext({}, 1, None)
    sctx = ex.ScalarContext({}, None)
    out_v, out_s = [], []
    for week, x in enumerate(series, start=1):
        vctx.values["x"] = np.array([x])
        sctx.values["x"] = x
        vctx.week = sctx.week = week
        out_v.append(float(e.evaluate(vctx)[0]))
        out_s.append(e.evaluate_scalar(sctx))
    return out_v, out_s


def test_windows():
    series = [0, 1, 0, 3, 0, 0, 2]
    v, s = _run_weeks("sum(x, last=3)", series)
    assert v == s == [0, 1, 1, 4, 3, 3, 2]
    v, s = _run_weeks("count(x > 0, last=2)", series)
    assert v == s == [0, 1, 1, 1, 1, 0, 1]
    v, s = _run_weeks("mean(x, last=2)", series)
    assert v == s == [0, 0.5, 0.5, 1.5, 1.5, 0, 1]
    v, s = _run_weeks("ever(x >= 3)", series)
    assert v == s == [0, 0, 0, 1, 1, 1, 1]
    v, s = _run_weeks("weeks_since(x > 0)", series)
    assert v[1:] == s[1:] == [0, 1, 0, 1, 2, 0]
    assert math.isinf(v[0]) and math.isinf(s[0])


def test_lookahead_does_not_advance_windows():
    e = ex.parse("sum(x, last=2)", names=NAMES, site="w")
    ctx = ex.EvalContext({"x": np.array([1.0])}, 1, None)
    ctx.commit = False
    assert e.evaluate(ctx)[0] == 1.0
    assert e.evaluate(ctx)[0] == 1.0  # not 2: nothing was stored
    ctx.commit = True
    e.evaluate(ctx)
    assert e.evaluate(ctx)[0] == 2.0


def test_random_draws_use_site_streams_and_expectation():
    e = ex.parse("bernoulli(0.25) + poisson(2) + normal(1, 0) + uniform(0, 0)", names=set(), site="r")
    streams = {}

    def rng_for(site):
        return streams.setdefault(site, np.random.default_rng(len(streams)))

    ctx = ex.EvalContext({}, 200_000, rng_for)
    draws = e.evaluate(ctx)
    assert abs(draws.mean() - (0.25 + 2 + 1)) < 0.02
    assert len(streams) == 4  # one stream per call site
    ctx.expected = True
    assert np.allclose(e.evaluate(ctx), 3.25)


def test_poisson_inversion_matches_distribution():
    rng = np.random.default_rng(1)
    for lam in (0.05, 0.7, 4.0, 25.0, 60.0):
        k = ex._poisson_inverse(rng, np.full(200_000, lam), 200_000)
        assert abs(k.mean() - lam) < 5 * math.sqrt(lam / 200_000) + 1e-3
        assert abs(k.var() - lam) < 0.05 * lam + 0.01


def test_poisson_inversion_is_monotone_in_rate():
    """Common random numbers: the same uniform gives a draw that grows with the rate."""
    lo = ex._poisson_inverse(np.random.default_rng(7), np.full(1000, 0.5), 1000)
    hi = ex._poisson_inverse(np.random.default_rng(7), np.full(1000, 1.5), 1000)
    assert np.all(hi >= lo)


def _poisson_inverse_reference(rng, lam, runs):
    """_poisson_inverse as it was written before its shortcuts (every uniform looked up; the
    walk adding one per step), for the test below."""
    u = rng.random(runs)
    lam = np.asarray(lam, dtype=float)
    if lam.ndim == 0:
        cdf = ex._poisson_cdf(float(lam))
        return np.minimum(np.searchsorted(cdf, u, side="left"), cdf.size - 1).astype(float)
    lam = np.broadcast_to(lam, (runs,))
    p = np.exp(-lam)
    k = np.zeros(runs)
    active = np.nonzero(u > p)[0]
    p, cdf, lam_a, u_a = p[active], p[active].copy(), lam[active], u[active]
    j = 0
    while active.size and j < 200:
        j += 1
        k[active] += 1.0
        p = p * lam_a / j
        cdf += p
        still = u_a > cdf
        active, p, cdf, lam_a, u_a = active[still], p[still], cdf[still], lam_a[still], u_a[still]
    return k


@pytest.mark.parametrize("lam", [0.0, 1e-9, 0.05, 0.3, 0.69, 0.7, 2.0, 12.0, 30.0])
@pytest.mark.parametrize("runs", [0, 1, 5000])
def test_poisson_inverse_shortcuts_draw_the_same_numbers(lam, runs):
    spread = np.random.default_rng(3).uniform(0.0, lam, runs)
    for rate in (lam, np.full(runs, lam), spread):
        ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
        got = ex._poisson_inverse(ours, rate, runs)
        want = _poisson_inverse_reference(theirs, rate, runs)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert ours.random() == theirs.random()  # the stream moved on by the same amount


# ---- property test: the vectorised compiler agrees with scalar evaluation ---------------------

_leaf = st.one_of(
    st.sampled_from(["x", "y", "z", "week"]),
    st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda f: repr(round(f, 3))),
)


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"]),
                       children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "abs", "exp", "floor"]), children).map(
        lambda t: f"({t[0]}({t[1]}))")  # parenthesised: `x + not (x)` is not Python syntax
    calls = st.one_of(
        st.tuples(children, children, children).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(children, children).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(children, children).map(lambda t: f"max({t[0]}, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})"),
    )
    return st.one_of(binary, unary, calls)


expressions = st.recursive(_leaf, _combine, max_leaves=12)
values = st.lists(st.floats(min_value=-20, max_value=20, allow_nan=False), min_size=3, max_size=3)


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=300, deadline=None)
@given(expressions, st.lists(values, min_size=1, max_size=5))
def test_vectorised_agrees_with_scalar(text, rows):
    e = ex.parse(text, names={"x", "y", "z"}, site="p")
    runs = len(rows)
    arr = np.array(rows)
    ctx = ex.EvalContext({"x": arr[:, 0], "y": arr[:, 1], "z": arr[:, 2]}, runs, None)
    ctx.week = 3
    with np.errstate(all="ignore"):
        out = e.evaluate(ctx)
    for i, (x, y, z) in enumerate(rows):
        sctx = ex.ScalarContext({"x": x, "y": y, "z": z}, None)
        sctx.week = 3
        assert _same(float(out[i]), e.evaluate_scalar(sctx)), (text, rows[i], out[i])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), min_size=1, max_size=30),
       st.integers(min_value=1, max_value=10), st.sampled_from(["sum", "mean", "count"]))
def test_windows_agree_with_scalar(series, n, fn):
    v, s = _run_weeks(f"{fn}(x, last={n})", series)
    assert all(_same(a, b) for a, b in zip(v, s))
    for t in range(len(series)):
        window = series[max(0, t - n + 1): t + 1]
        if fn == "count":
            window = [float(w != 0) for w in window]
        expected = sum(window) / len(window) if fn == "mean" else sum(window)
        assert math.isclose(s[t], expected, abs_tol=1e-9)


# ---- constant folding and shortcut closures give the general path's bits -------------------

def _both_ways(text, names, monkeypatch):
    """``text`` compiled with the shortcuts (folding, direct operands) and the general way."""
    fast = ex.parse(text, names=names, site="f")
    with monkeypatch.context() as m:
        m.setattr(ex, "_SHORTCUTS", False)
        general = ex.parse(text, names=names, site="f")
    return fast, general


def _bits(a):
    return np.ascontiguousarray(np.asarray(a, dtype=float)).view(np.int64)


_fold_leaf = st.one_of(
    st.sampled_from(["x", "y", "z", "week", "true", "false", "0", "2", "-3", "0.1"]),
    st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda f: repr(round(f, 3))),
)


def _fold_combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "==", "!=",
                                                  "and", "or"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    chained = st.tuples(children, children, children).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "abs", "exp", "log", "sqrt", "floor", "round"]), children).map(
        lambda t: f"({t[0]}({t[1]}))")
    calls = st.one_of(
        st.tuples(children, children, children).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(children, children).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"max({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})"),
    )
    return st.one_of(binary, chained, unary, calls)


@settings(max_examples=300, deadline=None)
@given(st.recursive(_fold_leaf, _fold_combine, max_leaves=10),
       st.lists(st.sampled_from([0.0, -0.0, 1.0, -2.5, 3.0, 1e-3, 40.0, np.nan, np.inf]), min_size=9, max_size=9))
def test_shortcuts_give_the_general_path_bit_for_bit(text, numbers):
    # Hypothesis and monkeypatch do not mix as a fixture: patch by hand.
    fast = ex.parse(text, names={"x", "y", "z"}, site="f")
    ex._SHORTCUTS = False
    try:
        general = ex.parse(text, names={"x", "y", "z"}, site="f")
    finally:
        ex._SHORTCUTS = True
    arr = np.array(numbers).reshape(3, 3)
    values = {"x": arr[:, 0], "y": arr[:, 1], "z": arr[:, 2]}
    with np.errstate(all="ignore"):
        for e in (fast, general):
            ctx = ex.EvalContext(values, 3, None)
            ctx.week = 2
            e.out, e.truth = e.evaluate(ctx).copy(), e.evaluate_truth(ctx).copy()
    assert np.array_equal(_bits(fast.out), _bits(general.out)), text
    assert fast.truth.dtype == general.truth.dtype == bool and np.array_equal(fast.truth, general.truth), text
    # results written into the arrays of nodes below never reach the variables they read
    assert np.array_equal(_bits(np.stack([values[k] for k in "xyz"], axis=1)), _bits(arr)), text


def test_constant_parts_are_folded_once_and_only_when_exact(monkeypatch):
    import redline.functions  # noqa: F401  registers swu_per_kg

    ctx = ex.EvalContext({"x": np.array([1.0, 2.0])}, 2, None)
    for text in ("false", "swu_per_kg(4.5, 0.711, 0.3)", "-5200 / 7", "min(1, 2) < 3 and not false"):
        fast, general = _both_ways(text, {"x"}, monkeypatch)
        assert fast._fixed is not None and general._fixed is None, text
        assert fast.constant is None  # `constant` still means: a number was written here
        assert np.array_equal(_bits(fast.evaluate(ctx)), _bits(general.evaluate(ctx))), text
        assert np.array_equal(fast.evaluate_truth(ctx), general.evaluate_truth(ctx)), text
    # a part that warns or raises is left to run time, where it warns or raises as before
    for text in ("1 / 0 + x", "log(0)", "breakout_days(6200, 372.3, 120)"):
        assert ex.parse(text, names={"x"}, site="f")._fixed is None, text
    with pytest.warns(RuntimeWarning):
        ex.parse("log(0)", names=set(), site="f").evaluate(ctx)
    with pytest.raises(ExpressionError, match="outside"):
        ex.parse("breakout_days(6200, 372.3, 120)", names=set(), site="f").evaluate(ctx)


def test_random_draws_windows_and_week_are_never_folded():
    streams = {}
    ctx = ex.EvalContext({}, 50, lambda site: streams.setdefault(site, np.random.default_rng(0)))
    e = ex.parse("uniform(0, 1) + 0 * sum(1, last=3) + week", names=set(), site="r")
    assert e._fixed is None
    first, second = e.evaluate(ctx).copy(), e.evaluate(ctx).copy()
    assert not np.array_equal(first, second)  # the stream moved on
    window = ex.parse("sum(1, last=3)", names=set(), site="w")
    assert [float(window.evaluate(ctx)[0]) for _ in range(4)] == [1.0, 2.0, 3.0, 3.0]


def test_poisson_odd_rates_still_leave_the_quick_test():
    # NaN and infinite rates give NaN and infinite draws, huge ones the rounded normal, a
    # negative one 0, each run on its own, while the ordinary runs keep their inverse draws.
    lam = np.array([0.3, np.nan, np.inf, 3e6, -1.0, -np.inf, 2.0])
    out = ex._poisson_vector(np.random.default_rng(4), lam, 7)
    assert np.isnan(out[1]) and out[2] == np.inf and abs(out[3] - 3e6) < 10 * math.sqrt(3e6)
    assert out[4] == out[5] == 0.0
    plain = ex._poisson_inverse(np.random.default_rng(4), np.where(np.isfinite(lam) & (lam < 1e6), np.maximum(lam, 0), 0), 7)
    assert out[[0, 6]].tolist() == plain[[0, 6]].tolist()
    assert np.isnan(ex._poisson_vector(np.random.default_rng(4), np.float64(np.nan), 3)).all()


@pytest.mark.parametrize("n", [1, 2, 3, 8])
def test_ring_buffer_push_takes_the_peeked_sum_bit_for_bit(n):
    """A push after a peek takes the peeked sum as the new running sum: the same bits as the
    push computing it, over odd values too; the shared sum is read-only."""
    rng = np.random.default_rng(n)
    odd = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e308, -1e308, 5e-324])
    given, computed = ex.RingBuffer(n, 12), ex.RingBuffer(n, 12)
    with np.errstate(all="ignore"):
        _push_weeks(rng, odd, given, computed, 4 * n + 3)


def _push_weeks(rng, odd, given, computed, weeks):
    for week in range(weeks):
        x = rng.normal(size=12) * 10.0 ** rng.integers(-3, 4, size=12)
        if week % 3 == 1:
            x[:odd.size] = rng.permutation(odd)
        total, count = given.peek(x)
        assert not total.flags.writeable
        want, want_count = computed.peek(x)
        given.push(x, total)
        computed.push(x)
        assert count == want_count
        assert np.array_equal(total.view(np.int64), want.view(np.int64))
        assert np.array_equal(given.total.view(np.int64), computed.total.view(np.int64)), week


@pytest.mark.parametrize("text", ["ever(x > 1 or y > 1)", "ever(x)", "ever(true)", "count(x > 0, last=3) >= 2",
                                  "count(x, last=2)", "weeks_since(x > 1)", "ever(x > 1) and not ever(y > 2)"])
def test_window_conditions_read_as_truth_values_agree_with_their_numbers(text):
    """``ever``, ``count`` and ``weeks_since`` read a condition's bools directly and ``ever`` gives
    its own as a truth value: week by week the same as the numbers (windows advanced once a week)."""
    e = ex.parse(text, names={"x", "y"}, site="w")
    rng = np.random.default_rng(5)
    by_truth = ex.EvalContext({}, 50, None)
    by_value = ex.EvalContext({}, 50, None)
    for week in range(1, 12):
        values = {"x": rng.integers(0, 3, 50).astype(float), "y": rng.integers(0, 4, 50).astype(float)}
        values["x"][:3] = [np.nan, -0.0, np.inf]
        for ctx in (by_truth, by_value):
            ctx.values, ctx.week = values, week
        truth = e.evaluate_truth(by_truth)
        number = e.evaluate(by_value)
        assert truth.dtype == bool and np.array_equal(truth, number != 0), week


@pytest.mark.parametrize("text,values", [
    ("bernoulli(x)", {"x": np.zeros(0)}),
    ("uniform(x, 2) + normal(1, y)", {"x": np.zeros(0), "y": 3.0}),
    ("poisson(2)", {}),
    ("poisson(45)", {}),  # above the tabulated rates
    ("poisson(3e6)", {}),  # the normal approximation: normals drawn too
    ("poisson(x)", {"x": np.zeros(0)}),  # a per-run rate: empty for no run, no normals
    ("poisson(y * 1e7)", {"y": 1.0}),  # a single huge rate read from a parameter
    ("poisson(y)", {"y": np.nan}),  # NaN and infinite single rates draw normals too
    ("poisson(y)", {"y": np.inf}),
    ("poisson(-y)", {"y": 5.0}),
    ("poisson(y * week)", {"y": 4e5}),  # ordinary in week 1, normal above 1e6 from week 3
    ("if(bernoulli(0.5), poisson(2), normal(x, 1)) + max(uniform(0, 1), poisson(y))", {"x": np.zeros(0), "y": 2e6}),
    ("breakout_days(poisson(8) * 100 + 6200, 372.3, 4.5) + (normal(0, 1) > 1 and bernoulli(y))", {"y": 0.5}),
])
@pytest.mark.parametrize("week", [1, 3])
def test_skip_draws_leaves_every_stream_where_an_evaluation_for_no_run_does(text, values, week):
    """Moving an expression's streams on without evaluating it (an action no run took) must leave
    every site's call counter exactly where evaluating it for no run does, with the engine's
    counter-based block streams (a call for no run moves the counter on, drawing nothing)."""
    from redline.escalation.common import block_streams

    e = ex.parse(text, names={"x", "y"}, site="s")
    nobody = np.zeros(0, dtype=np.intp)
    states = []
    for how in ("evaluate", "skip_draws"):
        streams = block_streams(np.random.SeedSequence(5), 0, 700)
        ctx = ex.EvalContext(dict(values), 0, streams.rows(nobody).get)
        ctx.week = week
        if how == "evaluate":
            assert e.evaluate(ctx).shape == (0,)
        else:
            assert e.skip_draws(ctx)
        states.append({site: s.calls for site, s in streams.sites.items()})
    assert states[0] and states[0] == states[1]
    assert all(calls > 0 for calls in states[0].values())


def test_skip_draws_declines_windows_rates_that_draw_and_draws_nothing_in_expected_mode():
    streams = {}
    ctx = ex.EvalContext({}, 0, lambda site: streams.setdefault(site, np.random.default_rng(0)))
    assert not ex.parse("sum(poisson(1), last=2)", names=set(), site="w").skip_draws(ctx)
    assert not ex.parse("poisson(uniform(0, 2))", names=set(), site="r").skip_draws(ctx)
    assert not streams  # declined before any draw
    ctx.expected = True
    assert ex.parse("poisson(2) + normal(0, 1)", names=set(), site="e").skip_draws(ctx) and not streams
    with pytest.raises(ValueError):
        ex.parse("poisson(2)", names=set(), site="e").skip_draws(ex.EvalContext({}, 3, streams.get))


@pytest.mark.parametrize("text", ["(x * 2) > 0.5", "(x + y) < z", "x * 2 + y * 3 - z / 2", "1 - (x * 2) ** 2",
                                  "if(x > 0, x * 2, y * 3) * 2", "clip(x * 2, 0, 1) + y", "min(x * 2, y) - 1",
                                  "(x * 2) == (y * 2)", "not (x - y)", "(x * 2 > 1) + (y - z)", "week * 2 + x",
                                  "2 * x - sum(x, last=2) > 0", "(x + 1) * (y + 1) % 3", "-(x * 2) + y",
                                  "exp(x - y) * 2", "abs(x) + abs(y)", "floor(x) - round(y)", "max(x, y, z) * 2",
                                  "if(x > y, x, y) + 1", "if(x > y, 1, 0) * 2", "abs(x > y) + 1",
                                  "(x > y) * 3 + (y > z)", "weeks_since(x > 1) * 2", "ever(y > 1) + 1"])
def test_arithmetic_into_a_node_s_own_array_gives_the_general_bits(text, monkeypatch):
    """An arithmetic node writes its result into the new array of the arithmetic node below it:
    the same bits as new arrays, truth values stay bools, and the variables read are untouched."""
    fast, general = _both_ways(text, {"x", "y", "z"}, monkeypatch)
    arr = np.array([[0.0, -0.0, 1.0], [-2.5, 3.0, np.nan], [np.inf, 1e-3, 40.0], [-0.0, 0.0, -0.0]])
    for e in (fast, general):
        values = {"x": arr[:, 0].copy(), "y": arr[:, 1].copy(), "z": arr[:, 2].copy()}
        with np.errstate(all="ignore"):
            for week in (1, 2, 3):  # windows: three weeks of the same values
                ctx = ex.EvalContext(values, 4, None)
                ctx.week, ctx.windows = week, getattr(e, "windows_kept", {})
                e.out, e.truth = e.evaluate(ctx), e.evaluate_truth(ctx)
                e.windows_kept = ctx.windows
        assert np.array_equal(_bits(np.stack([values[k] for k in "xyz"], axis=1)), _bits(arr)), text
    assert np.array_equal(_bits(fast.out), _bits(general.out)), text
    assert fast.truth.dtype == general.truth.dtype == bool and np.array_equal(fast.truth, general.truth), text


# ---- random call sites: constant parameters read once, draws scaled in place ---------------

def _draw_vector_as_it_was(name, rng, params, runs):
    """_draw_vector and _poisson_vector as they were written before the in-place and
    compile-time shortcuts (new arrays; every rate compared; the table looked up per call)."""
    if name == "bernoulli":
        return (rng.random(runs) < params[0]).astype(float)
    if name == "normal":
        return params[0] + np.abs(params[1]) * rng.standard_normal(runs)
    if name == "uniform":
        return params[0] + (params[1] - params[0]) * rng.random(runs)
    lam = np.maximum(np.asarray(params[0], dtype=float), 0.0)
    ordinary = lam <= ex.POISSON_NORMAL_ABOVE
    if ordinary if lam.ndim == 0 else ordinary.all():
        return _poisson_inverse_as_it_was(rng, lam, runs)
    odd = ~np.isfinite(lam) | (lam > ex.POISSON_NORMAL_ABOVE)
    lam_b, odd_b = np.broadcast_to(lam, (runs,)), np.broadcast_to(odd, (runs,))
    draws = _poisson_inverse_as_it_was(rng, np.where(odd_b, 0.0, lam_b), runs)
    z = rng.standard_normal(runs)
    with np.errstate(invalid="ignore"):
        big = np.maximum(np.rint(lam_b + np.sqrt(lam_b) * z), 0.0)
    return np.where(odd_b, np.where(np.isfinite(lam_b), big, lam_b), draws)


def _poisson_inverse_as_it_was(rng, lam, runs):
    u = rng.random(runs)
    lam = np.asarray(lam, dtype=float)
    if lam.ndim == 0 and lam <= ex._POISSON_INVERSE_MAX:
        cdf = ex._poisson_cdf(float(lam))
        return np.minimum(np.searchsorted(cdf, u, side="left"), cdf.size - 1).astype(float)
    lam = np.broadcast_to(lam, (runs,))
    if lam.max(initial=0.0) > ex._POISSON_INVERSE_MAX:
        return rng.poisson(lam).astype(float)
    p = np.exp(-lam)
    k = np.zeros(runs)
    walking = (u > p).nonzero()[0]
    p, lam_a, u_a = p[walking], lam[walking], u[walking]
    cdf, steps, j = p.copy(), np.zeros(walking.size), 0
    above = walking.size > 0
    while above and j < 199:
        j += 1
        p = p * lam_a / j
        cdf += p
        still = u_a > cdf
        steps += still
        above = still.any()
    k[walking] = steps + 1.0
    return k


_ODD = [0.0, -0.0, np.nan, np.inf, -np.inf, 0.3, -1.5, 31.0, 2e6, 1e-300]


@pytest.mark.parametrize("name", ["bernoulli", "normal", "uniform", "poisson"])
@pytest.mark.parametrize("runs", [0, 1, 9, 2000])
@pytest.mark.parametrize("shape", ["scalar", "array"])
def test_draws_in_place_give_the_numbers_of_new_arrays(name, runs, shape):
    """Normal and uniform draws shifted and scaled in the generator's array, Poisson rates
    tested by their maximum and the walk written in place: the same bits as before, the
    generator moved on alike, for odd parameters (NaN, ±0, ±inf, reversed bounds, huge rates)."""
    pick = np.random.default_rng(runs + len(name))
    for trial in range(12):
        if shape == "scalar":
            params = [np.asarray(pick.choice(_ODD)), np.asarray(pick.choice(_ODD))]
        else:
            params = [pick.choice(_ODD, size=runs) if trial % 2 else pick.uniform(-1, 4, runs),
                      pick.choice(_ODD, size=runs)]
            if name == "poisson" and trial % 4 in (0, 2):
                params[0] = pick.uniform(0, 3, runs)  # ordinary per-run rates: the walk alone
                if trial % 4 == 2 and runs:
                    params[0][pick.integers(runs)] = np.nan  # ... but for one NaN rate
        ours, theirs = np.random.default_rng(trial), np.random.default_rng(trial)
        with np.errstate(all="ignore"):
            got = ex._draw_vector(name, ours, params, runs)
            want = _draw_vector_as_it_was(name, theirs, params, runs)
        assert got.dtype == want.dtype and np.array_equal(_bits(got), _bits(want)), (name, params)
        assert ours.random() == theirs.random()


@pytest.mark.parametrize("text", ["bernoulli(0)", "bernoulli(1)", "bernoulli(0.03)", "normal(0, 0.03)",
                                  "normal(-0.0, -2)", "normal(3, 0)", "uniform(3, 1)", "uniform(-0.0, 0)",
                                  "poisson(0)", "poisson(0.7)", "poisson(4)", "poisson(30)", "poisson(31)",
                                  "poisson(2e6)", "poisson(-0.5 + 0.5)", "poisson(2) + normal(1, 2) * bernoulli(0.5)",
                                  "if(bernoulli(0.5), poisson(3), uniform(1, 2))"])
@pytest.mark.parametrize("runs", [0, 1, 700])
def test_random_sites_with_constant_parameters_draw_the_general_numbers(text, runs, monkeypatch):
    """A site whose parameters are all constants does its fixed work at compile time: the same
    bits as the general path, week after week, in expected mode too, and its streams left where
    the general path leaves them."""
    fast, general = _both_ways(text, set(), monkeypatch)
    out = {}
    for e in (fast, general):
        streams = {}
        ctx = ex.EvalContext({}, runs, lambda s: streams.setdefault(s, np.random.default_rng(len(s) * 7)))
        weeks = []
        for week in range(3):
            ctx.week = week
            weeks.append(e.evaluate(ctx).copy())
        ctx.expected = True
        weeks.append(e.evaluate(ctx).copy())
        out[e is fast] = weeks, {s: r.random() for s, r in streams.items()}
    assert all(np.array_equal(_bits(a), _bits(b)) for a, b in zip(out[True][0], out[False][0])), text
    assert out[True][1] == out[False][1]


def test_poisson_table_draws_for_its_rate_what_the_lookup_did():
    """The cached table of a rate gives each uniform its place in the CDF (the rare-event
    branch looking up only the uniforms above P(0)), including uniforms at P(0) exactly and 0."""
    for lam in (0.0, 1e-9, 0.69, 0.7, 4.0, 30.0):
        table, cdf = ex._poisson_table(lam), ex._poisson_cdf(lam)
        u = np.concatenate([np.random.default_rng(1).random(3000), [0.0, cdf[0], np.nextafter(cdf[0], 1), cdf[-1]]])
        want = np.minimum(np.searchsorted(cdf, u, side="left"), cdf.size - 1).astype(float)
        assert table.rare == (cdf[0] >= 0.5) and np.array_equal(table.draws_for(u), want)
        assert table.draws_for(np.zeros(0)).shape == (0,)


def test_a_number_read_from_the_values_gives_one_read_only_array_while_it_is_the_same_number():
    """An expression whose value is a Python float read from the values (a parameter) gives
    the float over the runs, read-only, the same array while the same number is read; a new
    number, another number of runs, NaN and -0.0 give their own arrays with their own bits."""
    e = ex.parse("rate", names={"rate"}, site="r")
    ctx = ex.EvalContext({"rate": 0.25}, 5, None)
    first = e.evaluate(ctx)
    assert first.tolist() == [0.25] * 5 and not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 1.0
    assert e.evaluate(ctx) is first
    for value, runs in ((0.5, 5), (0.5, 3), (-0.0, 3), (np.nan, 3), (float("inf"), 0), (0.25, 5)):
        ctx.values["rate"], ctx.runs = value, runs
        got = e.evaluate(ctx)
        assert np.array_equal(_bits(got), _bits(np.full(runs, value))) and got.shape == (runs,)
        assert e.evaluate(ctx) is got and not got.flags.writeable
    assert np.array_equal(_bits(e.evaluate(ctx)), _bits(first))
    # an arithmetic node's number and an array are not cached: new values every call
    ctx.values["rate"] = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert e.evaluate(ctx) is ctx.values["rate"]
    twice = ex.parse("rate * 2", names={"rate"}, site="r")
    ctx.values["rate"] = 0.5
    assert twice.evaluate(ctx).tolist() == [1.0] * 5


def test_fresh_expressions_give_new_arrays_that_nothing_else_holds():
    # ``fresh`` lets a caller write into the value (the engine clips a process's ``set`` in it):
    # it must hold only where the array is new every time, never a variable's own array, a
    # window's kept sum, a constant's shared broadcast or a cached parameter array.
    import redline.functions  # noqa: F401  (registers breakout_days)

    runs = 100
    values = {"x": np.linspace(-2.0, 3.0, runs), "y": np.linspace(5.0, 1.0, runs), "p": 0.25,
              "kg": np.linspace(0.0, 900.0, runs)}
    ctx = ex.EvalContext(values, runs, None)
    fresh = ["x * 2", "x + y", "-x", "abs(x)", "if(x > 0, x, y)", "max(x, 0)", "min(x, y, 1)", "x > y",
             "not x", "2 * x - sum(x, last=2)", "weeks_since(x > 2)", "breakout_days(4000, kg, 4.5)",
             "breakout_days(y, kg, 4.5, x + 9, 20) * 1", "p * 2", "ever(x > 0)"]
    others = ["x", "p", "3", "false", "sum(x, last=2)", "mean(y, last=3)", "week", "bernoulli(0.5)"]  # or not known to be
    for text in fresh + others:
        e = ex.parse(text, names=set(values), site=text)
        assert e.fresh == (text in fresh), text
        if not e.fresh:
            continue
        firsts = [e.evaluate(ctx) for _ in range(2)]
        for a in firsts:
            if a.flags.writeable:  # what the caller may write into: new, unshared
                assert not any(np.shares_memory(a, v) for v in values.values() if isinstance(v, np.ndarray)), text
                assert not any(np.shares_memory(a, w.total if isinstance(w, ex.RingBuffer) else w)
                               for w in ctx.windows.values()), text
        assert not np.shares_memory(firsts[0], firsts[1]), text


class _CopiedRingBuffer:
    """The ring buffer as it was: every week copied into a row of one table, summed again with
    ``values.sum(axis=0)``."""

    def __init__(self, n, runs):
        self.values, self.n, self.pos, self.count, self.total, self.pushes = np.zeros((n, runs)), n, 0, 0, np.zeros(runs), 0

    def push(self, x):
        self.total = self.total - self.values[self.pos] + x if self.count == self.n else self.total + x
        self.count = min(self.count + 1, self.n)
        self.values[self.pos] = x
        self.pos = (self.pos + 1) % self.n
        self.pushes += 1
        if self.pushes % self.n == 0:
            self.total = self.values.sum(axis=0) if self.count == self.n else self.values[: self.count].sum(axis=0)


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 52])
@pytest.mark.parametrize("runs", [1, 2, 3, 12, 300, 8193])
@pytest.mark.parametrize("held", [False, True])
def test_ring_buffer_keeping_the_weeks_given_sums_as_a_table_of_copies(n, runs, held):
    """The ring buffer, keeping each week's array (``held``) or a copy of it, gives the running
    sums of a table of copies summed again with ``values.sum(axis=0)``, bit for bit (odd values,
    -0.0 included, whose sums again start from +0.0), week after week; its table is the copies'."""
    rng = np.random.default_rng(n * 1000 + runs)
    odd = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e308, -1e308, 5e-324])
    ring, table = ex.RingBuffer(n, runs), _CopiedRingBuffer(n, runs)
    with np.errstate(all="ignore"):
        for week in range(3 * n + 5):
            x = rng.normal(size=runs) * 10.0 ** rng.integers(-3, 4, size=runs)
            if week % 3 == 1:
                x[: min(runs, odd.size)] = rng.permutation(odd)[: min(runs, odd.size)]
            if week % 4 == 2:
                x[:] = -0.0
            if week % 5 == 3:  # a number read for every run: a read-only view
                x = np.broadcast_to(rng.normal(), (runs,))
            total, _ = ring.peek(x)
            ring.push(x, total, held=held)
            table.push(x)
            assert np.array_equal(ring.total.view(np.int64), table.total.view(np.int64)), week
            assert np.array_equal(ring.values.view(np.int64)[: ring.count], table.values.view(np.int64)[: table.count])


def test_a_ring_buffer_holds_the_arrays_given_only_when_told():
    """Without ``held`` each week is copied (a caller may change its array in place afterwards);
    with it the array itself is kept."""
    x, y = np.arange(4.0), np.arange(4.0)
    copied, held = ex.RingBuffer(2, 4), ex.RingBuffer(2, 4)
    copied.push(x)
    held.push(y, held=True)
    assert copied.rows[0] is not x and held.rows[0] is y
    x += 10.0
    assert np.array_equal(copied.rows[0], np.arange(4.0))
