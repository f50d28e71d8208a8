"""The scenario linter and the interval analysis under it: quiet wrong answers are refused or
warned about, with a location; the bundled scenarios stay clean under --strict."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline import escalation
from redline import expr as ex
from redline.errors import ParameterError, ScenarioError
from redline.scenario import load_scenario, scenario_from_text
from redline.scenario.intervals import Interval, interval_of
from tests.conftest import write_yaml

R = {"p": Interval(0.05, 1.0), "pct": Interval(5, 100), "x": Interval(-2, 3), "n": Interval(0, math.inf)}


@pytest.mark.parametrize("text, lo, hi", [
    ("0.3", 0.3, 0.3),
    ("p * 0.5", 0.025, 0.5),
    ("if(week <= 3, 30, 5)", 5, 30),
    ("if(1 > 0, 0.2, 7)", 0.2, 0.2),
    ("x * x", -6, 9),
    ("x ** 2", 0, 9),
    ("min(1, pct)", 1, 1),
    ("clip(x, 0, 1)", 0, 1),
    ("1 / (1 + exp(-x))", 1 / (1 + math.exp(2)), 1 / (1 + math.exp(-3))),
    ("sum(p, last=4)", 0.05, 4.0),
    ("count(x > 0, last=8)", 0, 8),
    ("ever(x > 0) and p > 0.5", 0, 1),
    ("bernoulli(p) * 10", 0, 10),
    ("poisson(2)", 0, math.inf),
    ("1 - n", -math.inf, 1),
    ("abs(x)", 0, 3),
])
def test_interval_of_known_expressions(text, lo, hi):
    iv = interval_of(text, R)
    assert iv.lo == pytest.approx(lo) and iv.hi == pytest.approx(hi)


_NAMES = ["a", "b"]
_atoms = st.one_of(st.sampled_from(_NAMES), st.floats(-5, 5, allow_nan=False).map(lambda v: f"({v!r})"))


def _expr(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["min", "max"]), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"if({t[0]} > 0, {t[1]}, {t[2]})"),
        children.map(lambda c: f"abs({c})"),
        children.map(lambda c: f"clip({c}, 0, 1)"),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_atoms, _expr, max_leaves=8),
       st.floats(-3, 3), st.floats(0, 2), st.floats(-1, 1), st.floats(0, 1), st.floats(0, 1))
def test_interval_contains_every_value(text, a_lo, a_w, b_lo, ta, tb):
    """Soundness: for any point of the box, the expression's value lies in its interval."""
    ranges = {"a": Interval(a_lo, a_lo + a_w), "b": Interval(b_lo, b_lo + 1)}
    iv = interval_of(text, ranges)
    e = ex.parse(text, names=set(_NAMES), site="t")
    ctx = ex.ScalarContext({"a": a_lo + ta * a_w, "b": b_lo + tb}, rng_for=None)
    value = e.evaluate_scalar(ctx)
    if math.isfinite(value):
        assert iv.lo - 1e-9 * (1 + abs(value)) <= value <= iv.hi + 1e-9 * (1 + abs(value)), (text, iv, value)


def _load(tmp_path, doc, **kw):
    return load_scenario(write_yaml(tmp_path / "s.yaml", doc), **kw)


def test_probability_certainly_above_one_is_refused_at_its_place(tmp_path, example_doc):
    example_doc["strategies"]["deniable"]["policy"]["probabilities"]["proxy_attack"] = "if(week <= 3, 30, 5)"
    with pytest.raises(ScenarioError, match=r"always outside \[0, 1\].*\[5, 30\]") as err:
        _load(tmp_path, example_doc)
    assert err.value.location.line is not None and err.value.location.column is not None


def test_percent_uncertainty_used_as_a_probability_is_refused(tmp_path, example_doc):
    example_doc["uncertainties"]["attribution_probability"].update({"default": 30, "low": 5, "high": 100})
    with pytest.raises(ScenarioError, match="attribution_probability in \\[5, 100\\].*percentage"):
        _load(tmp_path, example_doc)


def test_probability_that_can_leave_the_unit_interval_is_a_warning_and_strict_error(tmp_path, example_doc):
    example_doc["uncertainties"]["attribution_probability"].update({"default": 0.3, "low": 0, "high": 2})
    loaded = _load(tmp_path, example_doc)
    assert any("can be outside [0, 1]" in w and "attribution_probability" in w for w in loaded.warnings)
    with pytest.raises(ScenarioError, match="strict"):
        _load(tmp_path, example_doc, strict=True)


def test_bernoulli_argument_is_checked_too(tmp_path, example_doc):
    example_doc["strategies"]["loud"]["policy"]["probabilities"]["overt_strike"] = "0.1 * bernoulli(tension)"
    loaded = _load(tmp_path, example_doc)
    assert any("bernoulli" in w and "tension in [0, 100]" in w for w in loaded.warnings)


def test_unbounded_variable_is_named_as_the_cause(tmp_path, example_doc):
    example_doc["strategies"]["loud"]["policy"]["probabilities"]["overt_strike"] = "0.01 * attacks"
    loaded = _load(tmp_path, example_doc)
    assert any("attacks in [0, ∞] (no bounds: give it min/max)" in w for w in loaded.warnings)


def test_track_probabilities_that_can_sum_past_one(tmp_path, example_doc):
    example_doc["strategies"]["loud"]["policy"]["probabilities"]["proxy_attack"] = 0.8
    loaded = _load(tmp_path, example_doc)
    [w] = [w for w in loaded.warnings if "can sum to" in w]
    assert "track 'military'" in w and "1.1" in w and "scaled down" in w


def _split_tempo(example_doc, lever: dict) -> None:
    """A strategy whose lever ``mode`` sends all its tempo to one option of the track or the other."""
    example_doc["levers"]["mode"] = {"default": 1, "low": 0, "high": 1, "assumption": "test", **lever}
    probabilities = example_doc["strategies"]["loud"]["policy"]["probabilities"]
    probabilities["overt_strike"] = "if(week < 10, 0.3, mode * 0.8)"
    probabilities["proxy_attack"] = "if(week < 10, 0, (1 - mode) * 0.8)"


def test_track_sum_is_analysed_at_each_setting_of_a_discrete_lever_and_between_week_thresholds(tmp_path, example_doc):
    _split_tempo(example_doc, {"values": [0, 1]})
    assert not [w for w in _load(tmp_path, example_doc).warnings if "can sum to" in w]


def test_track_sum_over_a_continuous_lever_is_still_a_warning(tmp_path, example_doc):
    _split_tempo(example_doc, {})  # mode = 0.5 would be allowed; interval arithmetic cannot see the sum is 0.8
    [w] = [w for w in _load(tmp_path, example_doc).warnings if "can sum to" in w]
    assert "can sum to 1.6" in w


def test_a_discrete_lever_refuses_other_settings(tmp_path, example_doc):
    _split_tempo(example_doc, {"default": 0.5, "values": [0, 1]})
    loaded = _load(tmp_path, example_doc)
    for value in (0, 0.5, 1):  # its values and its default
        escalation.run(loaded, runs=4, seed=1, horizon=3, strategies={"challenger": "loud"}, params={"mode": value})
    with pytest.raises(ParameterError, match=r"mode=0.7 is not one of its settings \[0, 0.5, 1\].*did you mean 0.5"):
        escalation.run(loaded, runs=4, seed=1, horizon=3, params={"mode": 0.7})
    with pytest.raises(ParameterError, match="run 2 has 0.3"):
        escalation.run(loaded, runs=4, seed=1, horizon=3, params={"mode": np.array([0, 1, 0.3, 1])})


@pytest.mark.parametrize("values, message", [([], "values is empty"), ([0, 2], "outside"), ([1, 1], "repeat")])
def test_lever_values_are_checked(tmp_path, example_doc, values, message):
    example_doc["levers"]["withdrawal_inclination"]["values"] = values
    with pytest.raises(ScenarioError, match=message):
        _load(tmp_path, example_doc)


def test_missing_initial_on_a_real_variable(tmp_path, example_doc):
    example_doc["state"]["public_support"].pop("initial")
    loaded = _load(tmp_path, example_doc)
    assert any("'public_support' has no `initial`" in w for w in loaded.warnings)
    example_doc["state"]["public_support"]["initial"] = 0  # said explicitly: no warning
    assert not any("initial" in w for w in _load(tmp_path, example_doc).warnings)


def test_unused_uncertainty_lever_and_state(tmp_path, example_doc):
    example_doc["uncertainties"]["forgotten_knob"] = {"default": 0.5, "low": 0, "high": 1, "assumption": "x"}
    example_doc["levers"]["idle_lever"] = {"default": 0.5, "low": 0, "high": 1, "assumption": "x"}
    example_doc["state"]["idle_state"] = {"type": "counter", "initial": 0, "assumption": "x"}
    warnings = "\n".join(_load(tmp_path, example_doc).warnings)
    assert "uncertainty 'forgotten_knob' is read by no expression" in warnings
    assert "lever 'idle_lever' is read by no expression" in warnings
    assert "'idle_state' is neither read nor changed" in warnings
    assert "'attacks'" not in warnings  # written by actions and reported: an output, not unused


def test_action_nothing_can_take(tmp_path, example_doc):
    example_doc["actions"]["idle_act"] = {"actor": "challenger", "track": "talk", "assumption": "x",
                                          "effects": [{"var": "tension", "add": -1}]}
    example_doc["strategies"]["chooser"]["actor"] = "challenger"
    example_doc["strategies"]["chooser"]["policy"] = {"kind": "scripted", "probabilities": {"proxy_attack": 0.1}}
    warnings = "\n".join(_load(tmp_path, example_doc).warnings)
    assert "action 'idle_act' of 'challenger' is in no policy" in warnings
    assert "'retaliate'" not in warnings  # a red line's response


@pytest.mark.parametrize("sid", ["proxy-deterrence", "iran-us-2020"])
def test_bundled_scenarios_are_clean_under_strict(sid):
    assert load_scenario(sid, strict=True).warnings == []


def test_text_without_a_file_is_linted_too(example_doc):
    import yaml

    example_doc["state"]["public_support"].pop("initial")
    loaded = scenario_from_text(yaml.safe_dump(example_doc))
    assert any("no `initial`" in w for w in loaded.warnings)
