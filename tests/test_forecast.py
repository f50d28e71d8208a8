"""Forecast questions, forecasts via engine probes, scores, baselines and the CLI contract."""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from redline.cli import app
from redline.errors import ExpressionError, ScenarioError
from redline.forecast import (
    LOG_FLOOR,
    Bootstrap,
    ForecastResult,
    QuestionForecast,
    backtest,
    brier_scores,
    calibration_table,
    close_week,
    forecast,
    leave_one_out_base_rate,
    load_questions,
    log_scores,
    murphy_decomposition,
    questions_from_scenario,
)
from redline.scenario import load_scenario, scenario_from_text

AS_OF = dt.date(2020, 1, 6)  # proxy-deterrence's as_of
RUNS = 2000


@pytest.fixture(scope="module")
def proxy():
    return load_scenario("proxy-deterrence")


def write(tmp_path: Path, text: str, name: str = "q.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def question(qid: str, predicate: str, close: str, outcome: str | None = None, extra: str = "") -> str:
    text = (f"- id: {qid}\n  question: {qid}?\n  open_date: 2020-01-06\n  close_date: {close}\n"
            f"  predicate: {predicate}\n")
    if outcome is not None:
        text += f"  outcome: {outcome}\n"
    return text + extra


# -- dates and weeks ---------------------------------------------------------------------------

def test_close_date_maps_to_the_week_that_holds_it():
    assert close_week(AS_OF, AS_OF) == 1
    assert close_week(AS_OF, AS_OF + dt.timedelta(days=6)) == 1
    assert close_week(AS_OF, AS_OF + dt.timedelta(days=7)) == 2
    assert close_week(AS_OF, dt.date(2020, 11, 30)) == 329 // 7 + 1 == 48
    assert close_week(AS_OF, dt.date(2025, 12, 31)) == (dt.date(2025, 12, 31) - AS_OF).days // 7 + 1


def test_predicate_is_evaluated_at_the_close_week_and_past_the_horizon(proxy, tmp_path):
    # proxy-deterrence's horizon is 104 weeks; 2025-01-06 is week 262, so the run is extended.
    far = dt.date(2025, 1, 6)
    week = close_week(AS_OF, far)
    assert week == 262 > proxy.spec.meta.horizon
    path = write(tmp_path, question("exact", f"week == {week}", "2025-01-06")
                 + question("before", f"week < {week}", "2025-01-06")
                 + question("window", "ever(week == 150)", "2025-01-06")
                 + question("not_yet", "ever(week == 150)", "2022-01-06"))
    result = forecast(proxy, load_questions(path), runs=200, seed=1)
    assert result.horizon == week
    p = {q.id: q.probability for q in result.questions}
    assert p == {"exact": 1.0, "before": 0.0, "window": 1.0, "not_yet": 0.0}
    assert {q.id: q.close_week for q in result.questions}["not_yet"] == close_week(AS_OF, dt.date(2022, 1, 6))


def test_outcome_flags_and_windows_mean_what_they_mean_in_the_engine(proxy, tmp_path):
    # An outcome flag stays 1 once it happened: P(defender_leaves by week w) equals the engine's
    # cumulative incidence of that outcome by week w, with the same seed.
    from redline import escalation

    path = write(tmp_path, question("leaves", "defender_leaves", "2021-01-04")
                 + question("leaves_ever", "ever(defender_leaves)", "2021-01-04"))
    result = forecast(proxy, load_questions(path), runs=RUNS, seed=3)
    week = close_week(AS_OF, dt.date(2021, 1, 4))
    ds = escalation.run(proxy, runs=RUNS, seed=3)
    weeks = ds["outcome_week"].sel(outcome="defender_leaves").values
    expected = float(np.mean(weeks <= week))
    p = {q.id: q.probability for q in result.questions}
    assert p["leaves"] == pytest.approx(expected)
    assert p["leaves_ever"] == pytest.approx(expected)


# -- forecasts -----------------------------------------------------------------------------------

def test_same_seed_same_probabilities_and_questions_do_not_disturb_each_other(proxy, tmp_path):
    one = write(tmp_path, question("retaliation", "ever(retaliate)", "2020-07-06"), "one.yaml")
    two = write(tmp_path, question("tension", "tension > 20", "2021-06-01")
                + question("retaliation", "ever(retaliate)", "2020-07-06"), "two.yaml")
    a = forecast(proxy, load_questions(one), runs=RUNS, seed=11)
    b = forecast(proxy, load_questions(one), runs=RUNS, seed=11)
    c = forecast(proxy, load_questions(two), runs=RUNS, seed=11)
    d = forecast(proxy, load_questions(one), runs=RUNS, seed=12)
    pa = a.questions[0].probability
    assert pa == b.questions[0].probability
    assert pa == {q.id: q.probability for q in c.questions}["retaliation"]
    assert pa != d.questions[0].probability
    q = a.questions[0]
    assert q.runs == RUNS and 0 < pa < 1 and q.ci95[0] < pa < q.ci95[1]
    assert q.hits == round(pa * RUNS)


def test_strategy_fixes_policy_and_logit_is_reported(proxy, tmp_path):
    path = write(tmp_path, question("retaliation", "ever(retaliate)", "2020-07-06"))
    free = forecast(proxy, load_questions(path), runs=200, seed=0)
    assert any(n.startswith("defender's choices are left to the model (logit") for n in free.notes)
    assert any(n.startswith("challenger follows its default strategy 'deniable'") and "loud" in n for n in free.notes)
    assert free.policies["challenger"] == {"policy": "deniable", "kind": "scripted", "fixed_by_strategy": False}
    loud = forecast(proxy, load_questions(path), runs=200, seed=0, strategies={"challenger": "loud"})
    assert loud.policies["challenger"]["policy"] == "loud" and loud.policies["challenger"]["fixed_by_strategy"]
    assert not any(n.startswith("challenger") for n in loud.notes)


SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "questions" / "sample.yaml"


@pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/data/questions/sample.yaml")
def test_flagship_answers_the_public_sample_and_says_when_iran_is_left_to_the_model():
    flagship = load_scenario("iran-us-2020")
    questions = load_questions(SAMPLE)
    free = forecast(flagship, questions, runs=300, seed=0)  # Iran's default policy is its own (logit) choice
    assert free.horizon >= close_week(flagship.spec.meta.as_of, dt.date(2025, 12, 31))
    assert any(n.startswith("iran's choices are left to the model (logit") for n in free.notes)
    res = backtest(free)
    assert res["n_scored"] == len(questions) and 0 <= res["brier"]["score"] <= 1


def test_unresolved_and_pre_as_of_questions_are_handled_explicitly(proxy, tmp_path):
    path = write(tmp_path, question("resolved", "ever(retaliate)", "2020-07-06", "true")
                 + question("open", "ever(retaliate)", "2020-07-06")
                 + "- id: stale\n  question: stale?\n  open_date: 2019-01-01\n  close_date: 2019-12-01\n"
                   "  predicate: ever(retaliate)\n  outcome: true\n")
    result = forecast(proxy, load_questions(path), runs=200, seed=0)
    status = {q.id: q.status for q in result.questions}
    assert status == {"resolved": "forecast", "open": "forecast", "stale": "closed_before_as_of"}
    stale = result.questions[2]
    assert stale.probability is None and stale.close_week is None and "as_of" in stale.notes[0]
    scores = backtest(result)
    assert scores["n_scored"] == 1
    assert {u["id"]: u["reason"].split(" ")[0] for u in scores["unscored"]} == {"open": "unresolved",
                                                                                 "stale": "closes"}


def test_questions_in_the_scenario_itself(tmp_path):
    text = load_scenario("proxy-deterrence").path.read_text()
    text += ("\nquestions:\n  - id: retaliation\n    question: retaliation?\n    open_date: 2020-01-06\n"
             "    close_date: 2020-07-06\n    predicate: ever(retaliate)\n    outcome: true\n")
    loaded = scenario_from_text(text, name="inline.yaml")
    qs = questions_from_scenario(loaded)
    assert [q.id for q in qs] == ["retaliation"]
    assert qs[0].predicate_location.line == text.count("\n", 0, text.index("predicate: ever(retaliate)")) + 1
    assert forecast(loaded, qs, runs=200, seed=0).questions[0].probability is not None


# -- honesty: unknown names and bad files ----------------------------------------------------------

def test_unknown_name_fails_with_did_you_mean_at_the_predicate(proxy, tmp_path):
    path = write(tmp_path, question("ok", "ever(retaliate)", "2020-07-06")
                 + question("typo", "ever(retaliat) and tension > 5", "2020-07-06"))
    with pytest.raises(ExpressionError) as err:
        forecast(proxy, load_questions(path), runs=100, seed=0)
    loc = err.value.location
    assert (loc.file, loc.line) == (str(path), 10)
    assert loc.column == len("  predicate: ever(") + 1  # points at the unknown name itself
    assert "unknown name 'retaliat'" in err.value.message and "did you mean 'retaliate'" in err.value.message


def test_unknown_name_in_a_quoted_predicate_is_located_past_the_quote(proxy, tmp_path):
    path = write(tmp_path, question("typo", "'tensoin > 5'", "2020-07-06"))
    with pytest.raises(ExpressionError) as err:
        forecast(proxy, load_questions(path), runs=100, seed=0)
    assert (err.value.location.line, err.value.location.column) == (5, len("  predicate: '") + 1)
    assert "did you mean 'tension'" in str(err.value)


@pytest.mark.parametrize("text, fragment, line", [
    (question("a", "tension > 1", "2020-07-06") + question("a", "tension > 2", "2020-08-06"),
     "duplicate question id 'a' (first at line 1)", 6),
    (question("a", "tension > 1", "2020-13-40"), "malformed date", 4),
    (question("a", "tension > 1", "next summer"), "close_date: expected a date written YYYY-MM-DD", 4),
    (question("a", "tension > 1", "2019-07-06"), "close_date 2019-07-06 is before open_date 2020-01-06", 1),
    ("- id: a\n  question: a?\n  open_date: 2020-01-06\n  close_date: 2020-07-06\n", "missing required key 'predicate'", 1),
    (question("a", "tension > 1", "2020-07-06", extra="  predicat: x\n"), "did you mean 'predicate'", 6),
    (question("a", "tension > 1", "2020-07-06", outcome="maybe"), "outcome", 6),
    (question("a", "tension > 1", "2020-07-06", extra="  public_forecast: 1.5\n"), "public_forecast", 6),
    ("questions: []\n", "holds no questions", 1),
    ("a: 1\n", "a list of questions", 1),
    ("- just a string\n", "each question must be a mapping", 1),
])
def test_bad_question_files_fail_with_a_location(tmp_path, text, fragment, line):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_questions(path)
    assert fragment in err.value.message
    assert err.value.location.file == str(path) and err.value.location.line == line


def test_close_date_beyond_the_engine_limit_is_refused(proxy, tmp_path):
    path = write(tmp_path, question("far", "tension > 1", "2045-01-01"))
    with pytest.raises(ScenarioError, match="at most 1040 weeks"):
        forecast(proxy, load_questions(path), runs=10, seed=0)


# -- scores against hand-computed values ------------------------------------------------------------

def test_brier_and_log_scores_by_hand():
    assert brier_scores([0.8, 0.3, 0.5], [1, 0, 1]) == pytest.approx([0.04, 0.09, 0.25])
    assert log_scores([0.8, 0.3, 0.5], [1, 0, 1]) == pytest.approx([-math.log(0.8), -math.log(0.7), math.log(2)])
    # The floor: a certain forecast that turns out wrong costs -ln(0.001), not infinity.
    assert LOG_FLOOR == 0.001
    assert log_scores([0.0, 1.0], [1, 0]) == pytest.approx([-math.log(0.001)] * 2)
    assert log_scores([1.0], [1]) == pytest.approx([-math.log(0.999)])
    assert brier_scores([0.0], [1]) == pytest.approx([1.0])  # the Brier score is not clipped


def test_leave_one_out_base_rate_never_sees_its_own_outcome():
    assert leave_one_out_base_rate([1, 0, 1, 1]) == pytest.approx([2 / 3, 1.0, 2 / 3, 2 / 3])
    assert leave_one_out_base_rate([1]) == pytest.approx([0.5])
    rng = np.random.default_rng(0)
    o = rng.integers(0, 2, 9)
    for i in range(o.size):
        flipped = o.copy()
        flipped[i] = 1 - o[i]
        assert leave_one_out_base_rate(flipped)[i] == leave_one_out_base_rate(o)[i]


def test_murphy_decomposition_by_hand():
    p, o = [0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1]
    d = murphy_decomposition(p, o)
    # bins: {0.2: observed 1/2}, {0.8: observed 1}; base rate 3/4
    assert d["reliability"] == pytest.approx((2 * 0.3 ** 2 + 2 * 0.2 ** 2) / 4)  # 0.065
    assert d["resolution"] == pytest.approx((2 * 0.25 ** 2 + 2 * 0.25 ** 2) / 4)  # 0.0625
    assert d["uncertainty"] == pytest.approx(0.75 * 0.25)
    assert d["brier"] == pytest.approx(0.19)
    assert d["within_bin"] == 0.0
    # Unequal forecasts in a bin: the remainder makes the parts add up exactly.
    d2 = murphy_decomposition([0.21, 0.29, 0.9], [0, 1, 1])
    assert d2["reliability"] - d2["resolution"] + d2["uncertainty"] + d2["within_bin"] == pytest.approx(d2["brier"])
    assert d2["within_bin"] != 0.0


def test_calibration_table_bins():
    table = calibration_table([0.05, 0.15, 0.12, 0.95, 1.0], [0, 1, 0, 1, 1])
    assert len(table) == 10
    assert [b["n"] for b in table] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[1]["mean_forecast"] == pytest.approx(0.135) and table[1]["observed"] == 0.5
    assert table[9]["observed"] == 1.0 and table[2]["observed"] is None


def test_bootstrap_is_seeded_and_brackets_the_mean():
    v = np.array([0.0, 0.1, 0.4, 0.9, 0.2])
    a, b = Bootstrap(5, seed=3).ci(v), Bootstrap(5, seed=3).ci(v)
    assert a == b and a[0] <= v.mean() <= a[1]
    assert Bootstrap(5, seed=3).ci(np.full(5, 0.25)) == [0.25, 0.25]


def _fake_result(rows) -> ForecastResult:
    qs = [QuestionForecast(id=qid, question=qid, open_date=AS_OF, close_date=AS_OF + dt.timedelta(days=70),
                           close_week=11, status="forecast", probability=p, ci95=[p, p], runs=100,
                           hits=round(100 * p), undefined_runs=0, outcome=o, public_forecast=pub, predicate="1")
          for qid, p, o, pub in rows]
    return ForecastResult("x", "0" * 64, AS_OF, 100, 0, 0, 20, {}, [], qs)


def test_backtest_scores_and_baselines_by_hand():
    res = backtest(_fake_result([("a", 0.9, True, 0.6), ("b", 0.2, False, None), ("c", 0.7, False, 0.5),
                                 ("d", 0.4, True, None)]))
    assert res["n_scored"] == 4
    assert res["brier"]["score"] == pytest.approx((0.01 + 0.04 + 0.49 + 0.36) / 4)  # 0.225
    assert res["overall"]["log_score"]["score"] == pytest.approx(
        -(math.log(0.9) + math.log(0.8) + math.log(0.3) + math.log(0.4)) / 4)
    half = res["baselines"]["always_0.5"]
    assert half["brier"]["score"] == 0.25 and half["log_score"]["score"] == pytest.approx(math.log(2))
    # outcomes 1, 0, 0, 1: leave-one-out rates 1/3, 2/3, 2/3, 1/3
    loo = res["baselines"]["base_rate_loo"]
    assert [r["baselines"]["base_rate_loo"]["probability"] for r in res["questions"]] == pytest.approx(
        [1 / 3, 2 / 3, 2 / 3, 1 / 3])
    assert loo["brier"]["score"] == pytest.approx(4 / 9)
    assert loo["model_minus_baseline"]["brier"]["score"] == pytest.approx(0.225 - 4 / 9)
    pub = res["baselines"]["public_forecast"]
    assert pub["questions"] == ["a", "c"]
    assert pub["brier"]["score"] == pytest.approx((0.16 + 0.25) / 2)
    assert pub["model_on_same_questions"]["brier"]["score"] == pytest.approx((0.01 + 0.49) / 2)
    assert res["decomposition"]["brier"] == pytest.approx(0.225)


# -- CLI contract ----------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_forecast_and_backtest_json(tmp_path):
    path = write(tmp_path, question("retaliation", "ever(retaliate)", "2020-07-06", "true", "  public_forecast: 0.4\n")
                 + question("leaves", "defender_leaves", "2022-01-06", "false")
                 + question("war", "open_war", "2025-01-06", "false"))
    r = runner.invoke(app, ["forecast", "proxy-deterrence", "--questions", str(path), "--runs", "500", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    first = out["questions"][0]
    assert first["runs"] == 500 and 0 <= first["ci95"][0] <= first["probability"] <= first["ci95"][1] <= 1
    plot = tmp_path / "cal.png"
    r = runner.invoke(app, ["backtest", str(path), "--scenario", "proxy-deterrence", "--runs", "500", "--json",
                            "--plot", str(plot)])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["brier"]["score"] == pytest.approx(np.mean([q["brier"]["score"] for q in res["questions"]]))
    assert res["overall"]["brier"] == res["brier"]
    assert set(res["baselines"]) == {"always_0.5", "base_rate_loo", "public_forecast"}
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_unknown_name_is_one_located_line_and_exit_2(tmp_path):
    path = write(tmp_path, question("typo", "ever(retaliat)", "2020-07-06", "true"))
    r = runner.invoke(app, ["backtest", str(path), "--scenario", "proxy-deterrence", "--runs", "10", "--json"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}:5:") and "did you mean 'retaliate'" in lines[0]
    # with --json the same error is JSON on stdout (issue 21)
    assert json.loads(r.stdout)["error"]["line"] == 5


def test_cli_scenario_without_questions_asks_for_a_file():
    r = runner.invoke(app, ["forecast", "proxy-deterrence", "--json"])
    assert r.exit_code == 2 and "--questions" in r.stderr


def test_forecast_and_backtest_say_how_many_runs_absorbing_outcomes_froze(proxy, tmp_path):
    from redline import escalation

    path = write(tmp_path, question("early", "ever(retaliation)", "2020-03-02", outcome="true")
                 + question("late", "open_war", "2021-06-07", outcome="false"))
    result = forecast(proxy, load_questions(path), runs=RUNS, seed=4)
    ds = escalation.run(proxy, runs=RUNS, seed=4)
    stopped = ds["stopped_week"].values
    by_id = {q.id: q for q in result.questions}
    for q in by_id.values():
        assert q.frozen_runs == int(np.count_nonzero(stopped < q.close_week))  # NaN: never frozen
    assert by_id["early"].frozen_runs < by_id["late"].frozen_runs  # the defender leaves (absorbing) over time
    assert result.frozen_runs >= by_id["late"].frozen_runs > 0
    assert any("frozen" in note for note in result.notes)
    assert any("frozen" in note for note in by_id["late"].notes)
    scored = backtest(result)
    assert scored["frozen_runs"] == result.frozen_runs
    assert {q["id"]: q["frozen_runs"] for q in scored["questions"]} == {k: q.frozen_runs for k, q in by_id.items()}
