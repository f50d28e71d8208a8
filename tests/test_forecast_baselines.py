"""The record-fitted reference forecaster (``record_poisson``) used beside the model in backtests."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml

from redline.errors import ScenarioError
from redline.forecast import backtest, forecast, load_questions
from redline.calibrate import load_record
from redline.forecast.baselines import fit_record, record_beside, record_poisson
from redline.scenario import load_scenario
from tests.conftest import write_yaml

SCENARIO = {
    "meta": {"id": "tiny-record", "title": "tiny", "as_of": "2020-01-06", "horizon": 30},
    "actors": {"a": {"name": "A", "kind": "state", "assumption": "test",
                     "policy": {"kind": "scripted", "probabilities": {"hit": 0.5}}}},
    "state": {
        "hits": {"type": "counter", "initial": 0, "assumption": "test"},
        "level": {"type": "real", "initial": 10, "assumption": "test"},
        "quiet": {"type": "counter", "initial": 0, "assumption": "test"},
        "unseen": {"type": "counter", "initial": 0, "assumption": "test"},
    },
    "actions": {"hit": {"actor": "a", "effects": [{"var": "hits", "add": 1}], "assumption": "test"}},
    "outcomes": {"level_doubled": {"condition": "level >= 20", "assumption": "test"}},
}
# 9 hits in the 10 weeks to 2020-03-15 (week 10): rate (9 + 1/2) / 10 per week.
RECORD = {
    "origin": "2020-03-15",
    "observations": [
        {"id": "hits_march", "date": "2020-03-15", "statistic": "hits", "value": 9, "assumption": "test"},
        {"id": "quiet_march", "date": "2020-03-15", "statistic": "quiet", "value": 0, "assumption": "test"},
        {"id": "level_feb", "date": "2020-02-09", "statistic": "level", "value": 15, "assumption": "test"},
        {"id": "level_march", "date": "2020-03-15", "statistic": "level", "value": 15, "assumption": "test"},
    ],
}


def _question(qid, predicate, close, outcome=True):
    return {"id": qid, "question": qid, "open_date": "2020-03-16", "close_date": close,
            "predicate": predicate, "outcome": outcome}


@pytest.fixture
def files(tmp_path):
    scenario = write_yaml(tmp_path / "tiny.yaml", SCENARIO)
    write_yaml(tmp_path / "tiny.record.yaml", RECORD)
    questions = write_yaml(tmp_path / "q.yaml", [
        _question("another_hit_next_week", "hits >= 10", "2020-03-22"),
        _question("no_quiet_event", "ever(quiet >= 1)", "2020-06-28", outcome=False),
        _question("unseen_var", "ever(unseen >= 1)", "2020-06-28"),
        _question("doubling", "level_doubled", "2020-06-28", outcome=False),
    ])
    return scenario, questions


def _fit(scenario):
    loaded = load_scenario(scenario)
    record = load_record(record_beside(loaded), loaded)
    return loaded, fit_record(loaded, record.origin, record.spec.observations)


def test_counter_rate_is_the_records_poisson_rate(files):
    scenario, questions = files
    loaded, fit = _fit(scenario)
    assert fit.rates["hits"] == pytest.approx(9.5 / 10)
    assert fit.status_quo["hits"] == 9 and fit.status_quo["level"] == 15
    p = record_poisson(loaded, load_questions(questions), fit, runs=20000)
    # one week at rate 0.95: P(at least one event) = 1 - exp(-0.95)
    assert p["another_hit_next_week"] == pytest.approx(1 - math.exp(-0.95), abs=0.015)
    # never moved in 10 weeks: Jeffreys rate 0.05 a week over 15 weeks
    assert p["no_quiet_event"] == pytest.approx(1 - math.exp(-0.05 * 15), abs=0.015)
    assert p["unseen_var"] == 0.5  # nothing in the record about it


def test_outcomes_are_followed_through_their_conditions_and_seed_reproducible(files):
    scenario, questions = files
    loaded, fit = _fit(scenario)
    qs = load_questions(questions)
    a = record_poisson(loaded, qs, fit, seed=3)
    assert a == record_poisson(loaded, qs, fit, seed=3)
    # level changed once in 10 weeks (10 -> 15, +50%): one more such jump reaches 20, the outcome's
    # condition; rate 1.5/10 a week over 15 weeks
    assert a["doubling"] == pytest.approx(1 - math.exp(-0.15 * 15), abs=0.02)


def test_forecasts_never_read_outcomes(files, tmp_path):
    scenario, questions = files
    loaded, fit = _fit(scenario)
    flipped = [dict(q, outcome=not q["outcome"]) for q in yaml.safe_load(questions.read_text())]
    other = write_yaml(tmp_path / "flipped.yaml", flipped)
    assert record_poisson(loaded, load_questions(questions), fit) == record_poisson(loaded, load_questions(other), fit)


def test_an_observation_after_the_origin_is_refused(files, tmp_path):
    scenario, _ = files
    bad = dict(RECORD, observations=RECORD["observations"] + [
        {"id": "late", "date": "2020-04-01", "statistic": "hits", "value": 12, "assumption": "test"}])
    with pytest.raises(ScenarioError, match="origin"):
        load_record(write_yaml(tmp_path / "bad.record.yaml", bad), load_scenario(scenario))


def test_backtest_reports_the_baseline_beside_the_others(files):
    scenario, questions = files
    loaded, fit = _fit(scenario)
    qs = load_questions(questions)
    base = {"record_poisson": record_poisson(loaded, qs, fit)}
    res = backtest(forecast(loaded, qs, runs=500, seed=1), baselines=base)
    assert set(res["baselines"]) >= {"always_0.5", "base_rate_loo", "record_poisson"}
    assert res["baselines"]["record_poisson"]["brier"]["n"] == res["n_scored"]
    row = res["questions"][0]["baselines"]["record_poisson"]
    assert row["probability"] == pytest.approx(base["record_poisson"][res["questions"][0]["id"]])
    assert dt.date.fromisoformat(res["as_of"]) == dt.date(2020, 1, 6)


def test_forecasts_condition_on_the_records_exact_observations(tmp_path):
    """A scenario that starts before its record's origin forecasts only from runs that reproduce
    the record's exact facts (no sd); facts with an sd are left to calibration."""
    doc = dict(SCENARIO, meta=dict(SCENARIO["meta"], horizon=40),
               actors={"a": dict(SCENARIO["actors"]["a"], policy={"kind": "scripted", "probabilities": {"hit": 0.1}})})
    scenario = write_yaml(tmp_path / "past.yaml", doc)
    record = write_yaml(tmp_path / "past.record.yaml", {
        "origin": "2020-03-15",
        "observations": [{"id": "no_hit_yet", "date": "2020-03-15", "statistic": "hits", "value": 0,
                          "assumption": "test"},
                         {"id": "soft", "date": "2020-03-15", "statistic": "level", "value": 99, "sd": 1,
                          "assumption": "test"}]})
    questions = write_yaml(tmp_path / "q.yaml", [_question("first_hit", "ever(hits >= 1)", "2020-03-22")])
    loaded = load_scenario(scenario)
    qs = load_questions(questions)
    free = forecast(loaded, qs, runs=4000, seed=1).questions[0]
    kept = forecast(loaded, qs, runs=4000, seed=1, facts=load_record(record, loaded))
    q = kept.questions[0]
    # unconditioned, a hit in the first ten weeks already makes ever() true: P = 1 - 0.9^11
    assert free.probability == pytest.approx(1 - 0.9 ** 11, abs=0.03)
    # conditioned on no hit up to the origin (week 10; 0.9^10 of the runs), only week 11 counts: P = 0.1
    assert q.runs == pytest.approx(4000 * 0.9 ** 10, rel=0.1)
    assert q.probability == pytest.approx(0.1, abs=0.035)
    assert any("exact observation" in n for n in kept.notes) and kept.failed_runs == 0
