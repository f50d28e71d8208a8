"""Calibration: the record loader, ABC-SMC against exact posteriors, posterior files, resuming."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import yaml

from redline.calibrate import (
    CalibrationError,
    UniformPrior,
    abc_smc,
    calibrate,
    load_posterior,
    load_record,
    read_posterior,
    weighted_quantile,
)
from redline.errors import ExpressionError, ScenarioError
from redline.scenario import load_scenario
from tests.conftest import redline_cli, write_yaml

COIN = {
    "meta": {"id": "coin-record", "title": "One uncertain weekly event rate", "as_of": "2020-01-06", "step": "week",
             "horizon": 30},
    "actors": {"nature": {"name": "Nature", "kind": "other", "assumption": "by construction",
                          "policy": {"kind": "scripted", "probabilities": {"event": "event_rate"}}}},
    "state": {"events": {"type": "counter", "initial": 0, "assumption": "by construction"}},
    "actions": {"event": {"actor": "nature", "effects": [{"var": "events", "add": 1}], "assumption": "by construction"}},
    "outcomes": {"many_events": {"condition": "events >= 40", "assumption": "a threshold"}},
    "uncertainties": {
        "event_rate": {"default": 0.5, "low": 0.05, "high": 0.95, "assumption": "uniform prior"},
        "idle_knob": {"default": 0.5, "low": 0.0, "high": 1.0, "assumption": "affects nothing"},
    },
}
# Week 30 holds 2020-07-27 .. 2020-08-02 when week 1 starts on 2020-01-06.
WEEKS = 30
RECORD = """\
origin: 2020-08-03
observations:
  - id: events_by_week_30
    date: 2020-07-30
    statistic: {statistic}
    value: {value}
    assumption: synthetic, drawn from the scenario itself
"""


def exact_beta(k: int, n: int = WEEKS, lo: float = 0.05, hi: float = 0.95):
    """Mean, 5% and 95% quantiles of Beta(k+1, n-k+1) truncated to [lo, hi] (a fine grid)."""
    x = np.linspace(lo, hi, 200_001)
    logp = k * np.log(x) + (n - k) * np.log1p(-x)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    cdf = np.cumsum(p)
    return float(p @ x), float(x[np.searchsorted(cdf, 0.05)]), float(x[np.searchsorted(cdf, 0.95)])


@pytest.fixture
def coin(tmp_path):
    return write_yaml(tmp_path / "coin.yaml", COIN)


def _record(tmp_path, name="rec.yaml", statistic="events", value=31, **extra):
    text = RECORD.format(statistic=statistic, value=value)
    for key, val in extra.items():
        text = text.replace("origin: 2020-08-03", f"origin: 2020-08-03\n{key}: {val}") if key != "origin" else \
            text.replace("origin: 2020-08-03", f"origin: {val}")
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- the record ---------------------------------------------------------------------------------

def test_record_refuses_facts_after_the_origin_with_a_location(coin, tmp_path):
    path = _record(tmp_path, origin="2020-06-01")
    with pytest.raises(ScenarioError) as err:
        load_record(path, load_scenario(coin))
    assert str(err.value).startswith(f"{path}:4:")  # the observation's date line
    assert "after the record's origin 2020-06-01" in str(err.value)


def test_record_suggests_the_nearest_name_in_a_statistic(coin, tmp_path):
    with pytest.raises(ExpressionError, match="unknown name 'evnts'; did you mean 'events'") as err:
        load_record(_record(tmp_path, statistic="evnts"), load_scenario(coin))
    assert ":5:" in str(err.value)


def test_record_for_another_scenario_is_refused(coin, tmp_path):
    with pytest.raises(ScenarioError, match="this record is for scenario 'proxy-deterrence', not 'coin-record'"):
        load_record(_record(tmp_path, scenario="proxy-deterrence"), load_scenario(coin))


def test_record_unknown_keys_and_sources_are_located(coin, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(RECORD.format(statistic="events", value=3).replace("value: 3", "valeu: 3"))
    with pytest.raises(ScenarioError, match="unknown key 'valeu'; did you mean 'value'"):
        load_record(path, load_scenario(coin))
    path.write_text(RECORD.format(statistic="events", value=3).replace("assumption: synthetic, drawn from the scenario itself",
                                                                      "source: {id: nowhere}"))
    with pytest.raises(ScenarioError, match="unknown source 'nowhere'"):
        load_record(path, load_scenario(coin))


def test_statistic_that_is_not_finite_is_refused(coin, tmp_path):
    with pytest.raises(ScenarioError, match="statistic of 'events_by_week_30' is not finite") as err:
        calibrate(coin, _record(tmp_path, statistic="log(events - events)", value=1), particles=100, seed=1)
    assert str(err.value).startswith(str(tmp_path / "rec.yaml") + ":5:")


def test_continuous_statistic_needs_an_sd(coin, tmp_path):
    with pytest.raises(ScenarioError, match="give it an sd"):
        calibrate(coin, _record(tmp_path, statistic="events / 3", value=3), particles=100, seed=1)


# ---- the algorithm --------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [4, 19])
def test_posterior_matches_the_exact_conjugate_posterior(coin, tmp_path, k):
    """One exact count of a Bernoulli process: the posterior is a truncated Beta (known exactly)."""
    result = calibrate(coin, _record(tmp_path, value=k), particles=2000, seed=3)
    mean, q05, q95 = exact_beta(k)
    er = result.parameters["event_rate"]
    assert result.final
    assert abs(er["mean"] - mean) < 0.01  # posterior sd about 0.08: Monte Carlo error of the mean about 0.003
    assert abs(er["ci90"][0] - q05) < 0.025 and abs(er["ci90"][1] - q95) < 0.025
    # A parameter that affects nothing keeps its (uniform) prior.
    idle = result.theta[:, result.names.index("idle_knob")]
    w = result.weights
    assert abs(w @ idle - 0.5) < 0.04
    for q in (0.1, 0.5, 0.9):
        assert abs(weighted_quantile(idle, w, q)[0] - q) < 0.05
    assert result.checks["events_by_week_30"]["within"]


def test_noisy_observation_matches_the_gaussian_posterior():
    """A Gaussian observation of theta itself (the simulator is exact): the posterior is a truncated
    normal, N(y, sd^2) on the prior box, which the tempering must reach (temperature 1)."""
    prior = UniformPrior(("theta",), np.array([-5.0]), np.array([5.0]))

    def simulate(theta, ss):
        return theta[:, :1].copy()

    state = abc_smc(prior, simulate, np.array([1.0]), np.array([0.5]), particles=3000, seed=2)
    assert state.beta == 1.0 and state.epsilon == 0.0
    x, w = state.population.theta[:, 0], state.population.weights
    assert abs(w @ x - 1.0) < 0.03
    assert abs(math.sqrt(w @ np.square(x - w @ x)) - 0.5) < 0.03


def test_same_seed_same_posterior_file_and_processes_agree(coin, tmp_path):
    rec = _record(tmp_path, value=12)
    a = calibrate(coin, rec, particles=300, seed=5, out=tmp_path / "a.parquet")
    b = calibrate(coin, rec, particles=300, seed=5, out=tmp_path / "b.parquet", executor="processes", workers=2)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert np.array_equal(a.theta, b.theta)
    c = calibrate(coin, rec, particles=300, seed=6)
    assert not np.array_equal(a.theta, c.theta)


def test_interrupted_calibration_resumes_to_the_same_posterior(coin, tmp_path):
    rec = _record(tmp_path, value=6)
    whole = calibrate(coin, rec, particles=300, seed=9, out=tmp_path / "whole.parquet")

    def stop_at_3(g):
        if g.generation == 3:
            raise KeyboardInterrupt

    out = tmp_path / "cut.parquet"
    with pytest.raises(KeyboardInterrupt):
        calibrate(coin, rec, particles=300, seed=9, out=out, on_generation=stop_at_3)
    assert not out.exists() and (tmp_path / ".cut.parquet.checkpoint.npz").exists()
    resumed = calibrate(coin, rec, particles=300, seed=9, out=out)
    assert resumed.resumed_generations == 4
    assert out.read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert not (tmp_path / ".cut.parquet.checkpoint.npz").exists()
    assert np.array_equal(resumed.theta, whole.theta)


def test_nothing_accepted_is_an_error_with_advice(coin, tmp_path):
    """A record out of the model's reach (45 events in 30 weeks): exit with advice, no posterior."""
    with pytest.raises(CalibrationError, match="(stopped short of matching|no particle consistent with) the record.*sd"):
        calibrate(coin, _record(tmp_path, value=45), particles=50, seed=1, out=tmp_path / "p.parquet")
    assert not (tmp_path / "p.parquet").exists()
    approx = calibrate(coin, _record(tmp_path, value=45), particles=50, seed=1, approximate=True)
    assert not approx.final and approx.parameters["event_rate"]["mean"] > 0.85
    r = redline_cli("calibrate", str(coin), "--record", str(tmp_path / "rec.yaml"), "--out", str(tmp_path / "q"),
                    "--particles", "50")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "rec.yaml" in r.stderr


# ---- posterior files on the command line ---------------------------------------------------------

def test_cli_calibrate_then_run_from_the_posterior(coin, tmp_path):
    rec = _record(tmp_path, value=21)
    post = tmp_path / "coin.posterior.parquet"
    r = redline_cli("calibrate", str(coin), "--record", str(rec), "--out", str(post), "--particles", "400",
                    "--seed", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("parameters", "generations", "checks", "posterior", "elapsed_s"):
        assert key in out
    assert set(out["parameters"]["event_rate"]) >= {"mean", "median", "ci90", "prior"}
    assert set(out["generations"][-1]) >= {"epsilon", "acceptance_rate", "ess"}
    assert set(out["checks"]["events_by_week_30"]) >= {"observed", "predictive_mean", "ci90", "within"}
    posterior = read_posterior(post)
    assert posterior.metadata["scenario_sha256"] == load_scenario(coin).sha256
    # The report of a posterior shows prior vs posterior and the posterior predictive checks.
    report = redline_cli("report", str(post), "-o", str(tmp_path / "fit.html"))
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "fit.html").read_text()
    assert 'id="posterior"' in html and "Posterior predictive check" in html and "event_rate" in html
    # Beside the scenario, it is used by default and said so; --prior runs from the priors.
    run = redline_cli("run", str(coin), "--runs", "3000", "--seed", "1", "--json")
    assert run.returncode == 0, run.stderr
    assert "using the posterior shipped with coin-record" in run.stderr
    drawn = json.loads(run.stdout)
    assert drawn["posterior"] == {"path": str(post), "sha256": posterior.sha256, "particles": posterior.particles}
    assert abs(drawn["final_state"]["events"]["mean"] - WEEKS * out["parameters"]["event_rate"]["mean"]) < 1
    prior = json.loads(redline_cli("run", str(coin), "--runs", "3000", "--seed", "1", "--prior", "--json").stdout)
    assert "posterior" not in prior and abs(prior["final_state"]["events"]["mean"] - 15) < 1
    pinned = json.loads(redline_cli("run", str(coin), "--runs", "500", "--param", "event_rate=0.1", "--json").stdout)
    assert pinned["params"]["event_rate"] == 0.1 and abs(pinned["final_state"]["events"]["mean"] - 3) < 0.5


def test_posterior_of_another_scenario_is_refused(coin, tmp_path):
    result = calibrate(coin, _record(tmp_path, value=9), particles=100, seed=1, out=tmp_path / "p.parquet")
    assert result.posterior
    changed = yaml.safe_load(coin.read_text())
    changed["uncertainties"]["event_rate"]["default"] = 0.4
    other = write_yaml(tmp_path / "other.yaml", changed)
    with pytest.raises(ScenarioError, match="fitted to scenario 'coin-record'"):
        load_posterior(tmp_path / "p.parquet", load_scenario(other))
    r = redline_cli("run", str(other), "--posterior", str(tmp_path / "p.parquet"), "--runs", "10")
    assert r.returncode == 2 and "Traceback" not in r.stderr and str(tmp_path / "p.parquet") in r.stderr
    shutil.copy(coin, tmp_path / "junk.parquet")
    with pytest.raises(ScenarioError, match="not a posterior file"):
        read_posterior(tmp_path / "junk.parquet")


# ---- forecasting from a record ---------------------------------------------------------------------

QUESTIONS = """\
- id: four_more_by_week_40
  question: At least four more events in weeks 31-40?
  open_date: 2020-08-03
  close_date: 2020-10-07
  predicate: events >= {threshold}
"""


def test_forecast_from_a_record_keeps_only_consistent_runs(coin, tmp_path):
    """Runs filtered on the record (21 events by week 30, rate uniform a priori) forecast the next ten
    weeks as the exact Beta-binomial predictive does."""
    from redline.calibrate import load_record
    from redline.forecast import forecast, load_questions

    loaded = load_scenario(coin)
    record = load_record(_record(tmp_path, value=21), loaded)
    qfile = tmp_path / "q.yaml"
    qfile.write_text(QUESTIONS.format(threshold=25))
    result = forecast(loaded, load_questions(qfile), runs=30_000, seed=4, record=record)
    q = result.questions[0]
    # Exact: rate | 21 of 30 ~ Beta(22, 10) on [0.05, 0.95]; P(Binomial(10, rate) >= 4).
    from scipy.stats import binom

    x = np.linspace(0.05, 0.95, 20001)
    post = np.exp(21 * np.log(x) + 9 * np.log1p(-x))
    post /= post.sum()
    exact = float(post @ binom.sf(3, 10, x))
    assert abs(q.probability - exact) < 0.05, (q.probability, exact)
    assert result.record["consistent_runs"] > 300 and result.to_dict()["record"]["origin"] == "2020-08-03"
    early = tmp_path / "early.yaml"
    early.write_text(QUESTIONS.format(threshold=25).replace("open_date: 2020-08-03", "open_date: 2020-07-01"))
    with pytest.raises(ScenarioError, match="opens 2020-07-01, before the record's origin 2020-08-03"):
        forecast(loaded, load_questions(early), runs=100, seed=4, record=record)


def test_record_events_are_forced_in_every_run(coin, tmp_path):
    from redline import escalation
    from redline.calibrate import scenario_with_record

    loaded = load_scenario(coin)
    path = _record(tmp_path, value=3)
    path.write_text(path.read_text().replace(
        "observations:", "events:\n  - {date: 2020-01-08, action: event, assumption: known}\n"
                         "  - {date: 2020-02-05, add: {events: 2}, assumption: known}\nobservations:"))
    record = load_record(path, loaded)
    ds = escalation.run(scenario_with_record(loaded, record), runs=50, seed=1, params={"event_rate": 0.05})
    weekly = escalation.run(loaded, runs=50, seed=1, params={"event_rate": 0.05})
    diff = ds["final_state"].sel(variable="events").values - weekly["final_state"].sel(variable="events").values
    assert np.all(diff >= 2) and diff.mean() > 2.5  # +2 always; the forced week-1 event where none was drawn
    bad = tmp_path / "bad_event.yaml"
    bad.write_text(path.read_text().replace("action: event,", "action: evnt,"))
    with pytest.raises(ScenarioError, match="unknown action 'evnt'; did you mean 'event'"):
        load_record(bad, loaded)


def test_sweep_draws_the_parameters_it_does_not_vary_from_the_posterior(coin, tmp_path):
    from redline.experiments import perform_experiments

    result = calibrate(coin, _record(tmp_path, value=24), particles=300, seed=2, out=tmp_path / "p.parquet")
    post = load_posterior(tmp_path / "p.parquet", load_scenario(coin))
    swept = perform_experiments(coin, "lhs", 3, runs=2000, uncertainties=["idle_knob"], posterior=post)
    plain = perform_experiments(coin, "lhs", 3, runs=2000, uncertainties=["idle_knob"])
    expected = WEEKS * result.parameters["event_rate"]["mean"]
    assert np.allclose(swept["state_mean"].sel(variable="events").values, expected, atol=0.8)
    assert np.allclose(plain["state_mean"].sel(variable="events").values, WEEKS * 0.5, atol=0.8)
    assert json.loads(swept.attrs["posterior"])["sha256"] == post.sha256
