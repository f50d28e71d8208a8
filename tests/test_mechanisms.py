"""Mechanism diagnostics beside every probability: how often each red line fired and was carried
out, how often each action was taken, and how often a probability had to be clipped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from redline import escalation
from redline.results.summary import action_summary, clipped_probabilities, red_line_summary, summarize
from redline.scenario import load_scenario, scenario_from_dict
from tests.conftest import redline_cli, write_yaml


@pytest.fixture(scope="module")
def example():
    return load_scenario("proxy-deterrence")


@pytest.mark.parametrize("engine", ["vectorised", "reference"])
def test_red_line_counts_agree_with_the_records(example, engine):
    runs = 400 if engine == "vectorised" else 60
    ds = escalation.run(example, runs=runs, horizon=40, seed=3, engine=engine)
    rl = red_line_summary(ds)["two_attributed_attacks"]
    fired = ~np.isnan(ds["red_line_week"].sel(red_line="two_attributed_attacks").values)
    firings = ds["red_line_firings"].sel(red_line="two_attributed_attacks").values
    assert rl["fired"] == pytest.approx(fired.mean())
    assert rl["enforced"] <= rl["fired"]
    assert rl["mean_firings"] == pytest.approx(firings.mean())
    assert ((firings > 0) == fired).all()  # a run fired iff it has at least one firing
    assert rl["mean_firings"] >= rl["fired"]  # once: false, so it can fire again
    # carried out responses are the red line's only route to its graded responses, `warning_strike`
    # and `retaliate` (both available: false)
    responses = ds["action_count"].sel(action=["warning_strike", "retaliate"]).sum("action").values
    enforced = ds["red_line_enforced"].sel(red_line="two_attributed_attacks").values
    assert ((responses > 0) == enforced).all()
    acts = action_summary(ds)
    retaliations = ds["action_count"].sel(action="retaliate").values
    assert acts["retaliate"]["mean_count"] == pytest.approx(retaliations.mean())
    assert acts["retaliate"]["share_taken"] == pytest.approx((retaliations > 0).mean())
    assert acts["retaliate"]["share_taken"] <= rl["enforced"]


def test_summary_has_red_lines_actions_and_clipped(example):
    ds = escalation.run(example, runs=300, horizon=20, seed=1)
    s = summarize(ds)
    assert set(s["red_lines"]) == {"two_attributed_attacks"}
    assert set(s["actions"]) == {"proxy_attack", "overt_strike", "warning_strike", "retaliate", "draw_down"}
    assert s["clipped_probabilities"] == {}


@pytest.mark.parametrize("engine", ["vectorised", "reference"])
def test_clipped_probabilities_are_counted_at_their_site(example_doc, engine):
    # a probability that is above 1 after week 2 (a warning at validate, clipped at run time)
    example_doc["strategies"]["loud"]["policy"]["probabilities"]["overt_strike"] = "if(week <= 2, 0.3, 1.5) * min(1, tension / 10)"
    example_doc["actors"]["challenger"]["strategy"] = "loud"
    loaded = scenario_from_dict(example_doc)
    assert any("can be outside [0, 1]" in w for w in loaded.warnings)
    ds = escalation.run(loaded, runs=200 if engine == "vectorised" else 30, horizon=6, seed=2, engine=engine)
    clipped = clipped_probabilities(ds)
    assert list(clipped) == ["strategies.loud.policy.probabilities.overt_strike"]
    assert clipped["strategies.loud.policy.probabilities.overt_strike"] > 0


def test_run_json_and_table_report_mechanisms_and_clipping(tmp_path, example_doc):
    example_doc["uncertainties"]["attribution_probability"].update({"default": 30, "low": 0, "high": 100})
    path = write_yaml(tmp_path / "pct.yaml", example_doc)
    r = redline_cli("run", str(path), "--runs", "300", "--horizon", "30", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["red_lines"]["two_attributed_attacks"]["fired"] > 0
    assert out["clipped_probabilities"]["actions.proxy_attack.attribution.probability"] > 0
    human = redline_cli("run", str(path), "--runs", "300", "--horizon", "30")
    assert "Red lines" in human.stdout and "Actions" in human.stdout
    [warning] = [line for line in human.stderr.splitlines() if "was outside [0, 1]" in line]  # one line each
    assert warning.startswith(f"warning: {path}:") and "actions.proxy_attack.attribution.probability" in warning


def test_compare_json_has_mechanisms_per_strategy():
    r = redline_cli("compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "deniable,loud",
                    "--runs", "500", "--horizon", "30", "--json")
    out = json.loads(r.stdout)
    assert set(out["red_lines"]) == set(out["actions"]) == {"deniable", "loud"}
    assert out["actions"]["loud"]["proxy_attack"]["mean_count"] == 0
    assert out["actions"]["deniable"]["proxy_attack"]["mean_count"] > 0


def test_report_shows_the_mechanisms(example):
    from redline.report.build import build_html
    from redline.report.inputs import from_datasets

    ds = escalation.run(example, runs=300, horizon=30, seed=4)
    html = build_html(from_datasets({"run": ds}, {"kind": "run", **summarize(ds)}, loaded=example))
    assert 'id="mechanisms"' in html and "two attributed attacks" in html and "retaliate" in html
