"""Fuzzing (hypothesis) of the loaders and the expression language: whatever the input, the
result is a value or a RedlineError with a message, never another exception, a hang or a read
outside the scenario's folder. Bounded: each property runs a few dozen examples, fast."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline import expr as ex
from redline.errors import RedlineError
from tests.conftest import _EXAMPLE_DOC

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])

# YAML-ish leaf values an attacker or a tired analyst might type
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["1e400", "-inf", "nan", "../../etc/passwd", "/etc/passwd", "x\n", "$\\frac{", "poisson(1e9)",
                     "count(x, last=99999)", "ever(ever(ever(1)))", "(" * 60 + "1" + ")" * 60, "__import__('os')",
                     "2020-13-45", "", " ", "\x00", "🙂"]))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def _paths(node, prefix=()):
    """Every (path) into a nested dict/list document."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


_ALL_PATHS = [p for p in _paths(_EXAMPLE_DOC) if p]


def _set(doc, path, value):
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


@FAST
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), VALUES), min_size=1, max_size=3))
def test_scenario_loader_mutations_never_crash(mutations):
    from redline.scenario.load import scenario_from_text

    doc = copy.deepcopy(_EXAMPLE_DOC)
    for path, value in mutations:
        try:
            _set(doc, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        loaded = scenario_from_text(text, name="fuzz.yaml")
    except RedlineError as err:
        assert str(err).strip() and "\n" not in str(err).strip()
        return
    assert loaded.source_texts == {}  # an upload never reads local files


@FAST
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_scenario_loader_raw_bytes_never_crash(data):
    from redline.scenario.load import scenario_from_text

    try:
        scenario_from_text(data, name="fuzz.yaml")
    except RedlineError:
        pass


TOKENS = st.sampled_from(["x", "y", "week", "1", "0", "-1", "1e15", "0.5", "+", "-", "*", "/", "**", "%", "//", "(", ")",
                          ",", "<", ">=", "==", "and", "or", "not", "if(", "min(", "max(", "abs(", "exp(", "log(",
                          "sqrt(", "clip(", "poisson(", "bernoulli(", "normal(", "uniform(", "ever(", "count(",
                          "mean(", "last=4", "last=0", "weeks_since(", "breakout_days(", "[", "]", ".", "lambda",
                          "__class__", "'a'", "@", "x.y"])


@FAST
@given(st.lists(TOKENS, min_size=1, max_size=14).map(" ".join))
def test_expression_language_token_soup(text):
    try:
        e = ex.parse(text, names=frozenset({"x", "y"}), site="fuzz")
    except RedlineError:
        return
    ctx = ex.EvalContext({"x": np.array([0.0, 1.0, -2.0, 1e300]), "y": np.array([1.0, 0.0, np.nan, 3.0])}, 4,
                         lambda key: np.random.default_rng(0))
    with np.errstate(all="ignore"):
        try:
            value = np.asarray(e.evaluate(ctx), dtype=float)
        except RedlineError:
            return
    assert value.shape in ((), (4,))


QUESTION_KEYS = ["id", "question", "open_date", "close_date", "predicate", "outcome", "facts", "public_forecast",
                 "source", "assumption", "other"]


@FAST
@given(st.lists(st.dictionaries(st.sampled_from(QUESTION_KEYS), VALUES, max_size=8), max_size=4))
def test_question_loader_never_crashes(tmp_path_factory, items):
    from redline.forecast import load_questions

    path = tmp_path_factory.mktemp("q") / "q.yaml"
    try:
        path.write_text(yaml.safe_dump(items, allow_unicode=True))
    except yaml.YAMLError:
        return
    try:
        load_questions(path)
    except RedlineError as err:
        assert str(err).startswith(str(path))


RECORD_KEYS = ["origin", "events", "observations", "id", "date", "statistic", "value", "sd", "source", "assumption"]


@FAST
@given(st.dictionaries(st.sampled_from(RECORD_KEYS), VALUES | st.lists(
    st.dictionaries(st.sampled_from(RECORD_KEYS), VALUES, max_size=6), max_size=3), max_size=4))
def test_record_loader_never_crashes(tmp_path_factory, doc):
    from redline.calibrate import load_record
    from redline.scenario import load_scenario

    path = tmp_path_factory.mktemp("r") / "s.record.yaml"
    try:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    except yaml.YAMLError:
        return
    try:
        load_record(path, load_scenario("proxy-deterrence"))
    except RedlineError:
        pass
