"""Provenance: source texts found through REDLINE_SOURCES, offsets checked, quotes, dated outcomes."""
from __future__ import annotations

import pytest

from redline.results import outcome_summary
from redline.experiments.compare import simulate
from redline.provenance import trace_scenario
from redline.scenario import load_scenario
from tests.conftest import SHARED

ARTICLE = SHARED / "seed" / "article.txt"


@pytest.mark.skipif(not ARTICLE.exists(), reason="needs ../shared/seed/article.txt")
def test_flagship_offsets_fit_the_article_and_quote_it(monkeypatch):
    monkeypatch.setenv("REDLINE_SOURCES", str(ARTICLE.parent))
    loaded = load_scenario("iran-us-2020")  # raises if any offset runs past the article's end
    assert loaded.missing_texts == [] and "article" in loaded.source_texts
    result = trace_scenario(loaded, claims_file=SHARED / "seed" / "claims.yaml")
    assert result["source_texts"] == {"article": "found"}
    assert result["uncovered"] == []
    quotes = [e["quote"] for e in result["elements"].values() if e.get("source", {}).get("id") == "article"]
    assert quotes and all(q and q in " ".join(ARTICLE.read_text().split()) for q in quotes)


def test_missing_source_text_is_reported_not_fatal(monkeypatch):
    monkeypatch.delenv("REDLINE_SOURCES", raising=False)
    loaded = load_scenario("iran-us-2020")
    assert loaded.missing_texts == ["article"]
    assert trace_scenario(loaded)["source_texts"] == {"article": "missing"}


def test_dated_outcome_reports_runs_that_ended_before_its_week():
    from redline.scenario import scenario_from_dict

    doc = {
        "meta": {"id": "ends-early", "title": "t", "as_of": "2020-01-06", "horizon": 20},
        "actors": {"a": {"name": "A", "kind": "state", "assumption": "t",
                         "policy": {"kind": "scripted", "probabilities": {"stop": 0.1}}}},
        "state": {"stopped": {"type": "counter", "initial": 0, "assumption": "t"}},
        "actions": {"stop": {"actor": "a", "effects": [{"var": "stopped", "add": 1}], "assumption": "t"}},
        "outcomes": {
            "world_ends": {"condition": "stopped >= 1", "absorbing": True, "assumption": "t"},
            "vote": {"condition": "stopped == 0", "on": "2020-03-02", "assumption": "t"},
        },
    }
    ds = simulate(scenario_from_dict(doc), runs=2000, seed=1)
    s = outcome_summary(ds)["vote"]
    assert s["week"] == 9 and s["runs_ended_before"] > 0
    reached = 2000 - s["runs_ended_before"]
    assert s["probability_if_reached"] == pytest.approx(s["count"] / reached)


def test_trace_kinds_are_words():
    from redline.provenance import element_table
    from redline.scenario import load_scenario

    kinds = {e["kind"] for e in element_table(load_scenario("proxy-deterrence")).values()}
    assert {"process", "strategy", "uncertainty", "red line", "decision party"} <= kinds
    assert not any(k.endswith(("processe", "strategie", "uncertaintie")) for k in kinds)
