"""The flagship scenario iran-us-2020 (rebuilt: spring 2019 to the end of 2025, calibrated on the
2019 record): provenance, the record, the names forecasts rely on, common random numbers, the
factorial thesis design, regimes that end, the January 2020 path, elections and reversible
nuclear steps."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

from redline.escalation import run as simulate_runs
from redline.experiments.compare import compare
from redline.provenance import trace_scenario
from redline.scenario import load_scenario

SCENARIO = "iran-us-2020"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CLAIMS = SHARED / "seed" / "claims.yaml"
ORIGIN = dt.date(2020, 1, 6)


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(SCENARIO, strict=True)


@pytest.fixture(scope="module")
def record(loaded):
    return yaml.safe_load(loaded.path.with_name(f"{SCENARIO}.record.yaml").read_text())


def _week(loaded, date: str) -> int:
    from redline.scenario import week_of

    return week_of(loaded.spec.meta.as_of, dt.date.fromisoformat(date))


def test_validates_strictly_with_no_warning(loaded):
    assert loaded.warnings == []


@pytest.mark.skipif(not CLAIMS.exists(), reason="shared claims file not available")
def test_every_claim_is_covered_by_an_element_citing_it(loaded):
    result = trace_scenario(loaded, claims_file=CLAIMS)
    assert result["source"] == "article"
    assert len(result["claims"]) == 27
    assert result["uncovered"] == []
    assert result["unsourced"] == []


def test_article_is_cited_not_copied(loaded):
    text = Path(loaded.path).read_text(encoding="utf-8")
    article = SHARED / "seed" / "article.txt"
    if article.exists():
        body = article.read_text(encoding="utf-8")
        for start in range(0, len(body) - 60, 30):
            assert body[start:start + 60] not in text
    assert loaded.spec.sources["article"].publisher == "CNN"


def test_starts_in_2019_reaches_2025_and_nothing_ends_the_world(loaded):
    meta = loaded.spec.meta
    assert meta.as_of <= dt.date(2019, 9, 30)
    assert meta.as_of + dt.timedelta(weeks=meta.horizon) >= dt.date(2025, 12, 31)
    assert not any(o.absorbing for o in loaded.spec.outcomes.values())


def test_names_forecasts_rely_on(loaded):
    spec, names = loaded.spec, loaded.program.names
    # the public sample's predicates
    for name in ("president_reelected", "us_troops_iraq", "us_troops_syria", "us_killed", "iran_enrichment_level",
                 "breakout_days", "us_iran_war", "us_exits_iraq", "iran_nuclear_test"):
        assert name in names, name
    # the kinds of issue 16, item 5 (docs/flagship.md lists them)
    for name in ("rocket_attacks", "drone_attacks", "attacks_from_iran", "us_strikes_proxies", "us_strikes_on_iran",
                 "us_iran_lethal_clashes", "us_troops_afghanistan", "iraq_expulsion_ordered",
                 "iraq_parliament_resolutions", "leu_kg", "heu20_kg", "heu60_kg", "nuclear_site_attacks",
                 "iranian_officials_assassinated", "iran_israel_exchanges", "iran_strikes_on_israel",
                 "hezbollah_israel_clashes", "houthi_attacks_saudi", "houthi_shipping_attacks", "tanker_seizures",
                 "iran_cyber_attributed", "republican_wins_2024", "nuclear_deal_restored", "iaea_access"):
        assert name in names, name
    assert {"slow_drip", "rapid_overt", "factorial", "restraint"} <= set(loaded.program.strategies["iran"])
    assert "proxy_attribution_probability" in spec.uncertainties
    assert str(spec.outcomes["president_reelected"].on) == "2020-11-03"


def test_no_source_dated_after_the_origin(loaded):
    for sid, src in loaded.spec.sources.items():
        if src.date and len(str(src.date)) >= 7 and str(src.date)[:4].isdigit():
            assert str(src.date)[:10] <= "2020-01-06" or not src.fact, sid


def test_record_is_dated_sourced_and_speaks_the_scenarios_language(loaded, record):
    from redline import expr as ex

    assert dt.date.fromisoformat(str(record["origin"])) == ORIGIN
    obs = record["observations"]
    assert len(obs) >= 15
    for o in obs:
        assert dt.date.fromisoformat(str(o["date"])) <= ORIGIN, o["id"]
        assert loaded.spec.meta.as_of <= dt.date.fromisoformat(str(o["date"])), o["id"]
        assert o.get("source") or o.get("assumption"), o["id"]
        if o.get("source"):
            assert o["source"]["id"] in loaded.spec.sources, o["id"]
        ex.parse(str(o["statistic"]), names=loaded.program.names, site=o["id"])


def test_comparing_a_strategy_with_itself_is_exactly_zero(loaded):
    res = compare(loaded, actor="iran", strategies=["slow_drip", "slow_drip"], runs=800, horizon=60, seed=3)
    assert all(d["difference"] == 0 and d["ci95"] == [0.0, 0.0] for d in res.differences)


@pytest.mark.parametrize("strategy, factors", [
    ("slow_drip", {"iran_deniable": 1, "iran_fast": 0, "iran_lethal": 1}),
    ("rapid_overt", {"iran_deniable": 0, "iran_fast": 1, "iran_lethal": 1}),
])
def test_thesis_strategies_are_cells_of_the_factorial(loaded, strategy, factors):
    """slow_drip and rapid_overt differ only in the tested factors: each is exactly one cell of
    the factorial design (same seed, same runs, same numbers)."""
    params = {**factors, "iran_political_effort": 0.3, "iran_nuclear_loud": 0}
    a = simulate_runs(loaded, runs=600, horizon=100, seed=5, strategies={"iran": strategy})
    b = simulate_runs(loaded, runs=600, horizon=100, seed=5, strategies={"iran": "factorial"}, params=params)
    assert np.array_equal(a["final_state"].values, b["final_state"].values, equal_nan=True)


def test_regimes_end_and_the_world_goes_on(loaded):
    ds = simulate_runs(loaded, runs=1500, horizon=160, seed=2, probes={"at_war": ("war", 160)},
                       params={"war_entry_per_exchange": 0.5, "us_state_attack_credibility": 0.8})
    entered = ~np.isnan(ds["regime_week"].sel(regime="war").values)
    assert entered.any()
    left = entered & (ds["probe_value"].sel(probe="at_war").values == 0)
    assert left.any()  # some wars end in a ceasefire
    assert np.isnan(ds["stopped_week"].values).all()  # no run is frozen


def test_soleimani_is_a_known_event_and_a_concluded_overt_strike_is_reachable(loaded):
    """After the 3 Jan 2020 event Iran's own policy (logit, by grievance) makes an overt strike far
    likelier in the following weeks than before, and proxy attacks go on after it (a concluded
    strike followed by a drip)."""
    ds = simulate_runs(loaded, runs=2500, horizon=70, seed=4, trajectories=True)
    tr = ds["trajectory"]
    officials = tr.sel(variable="iranian_officials_assassinated").values
    w35 = _week(loaded, "2020-01-03")
    assert np.all(officials[w35 - 1] >= 1)  # forced in every run
    strikes = tr.sel(variable="attacks_from_iran").values
    before = (strikes[w35 - 2] > 0).mean()
    after = (strikes[w35 + 8] > strikes[w35 - 1]).mean()
    assert after > 5 * max(before, 0.005)
    struck = strikes[w35 + 8] > strikes[w35 - 1]
    proxies = tr.sel(variable="proxy_attacks").values
    assert (proxies[-1][struck] > proxies[w35 + 8][struck]).mean() > 0.3


def test_elections_resolve_on_their_dates_and_change_the_administration(loaded):
    ds = simulate_runs(loaded, runs=1500, horizon=92, seed=6, probes={"dem": ("dem_administration", 92)})
    w = ds["outcome_week"].sel(outcome="president_reelected").values
    assert set(np.unique(w[~np.isnan(w)])) <= {float(_week(loaded, "2020-11-03"))}
    reelected = ~np.isnan(w)
    assert 0.05 < reelected.mean() < 0.95
    dem = ds["probe_value"].sel(probe="dem").values
    assert np.array_equal(dem == 1, ~reelected)


def test_nuclear_steps_are_reversible_under_a_deal(loaded):
    probes = {"in_deal": ("deal", 250), "before": ("deal", 249), "level": ("iran_enrichment_level", 250),
              "was_high": ("sum(iran_enrichment_level >= 20, last=250) >= 1", 250)}
    ds = simulate_runs(loaded, runs=1500, horizon=250, seed=8, probes=probes,
                       params={"deal_rate_democratic": 0.05, "deal_rate_trump": 0.005, "deal_collapse_rate": 0.001})
    value = ds["probe_value"]
    # the deal's terms apply from the week after it is reached (regimes move after processes)
    in_deal = (value.sel(probe="in_deal").values == 1) & (value.sel(probe="before").values == 1)
    assert in_deal.any()
    assert np.all(value.sel(probe="level").values[in_deal] == 3.67)
    assert (value.sel(probe="was_high").values[in_deal] == 1).any()  # some had stepped up to 20% or more before


def test_demo_writes_the_calibrated_analysis(tmp_path):
    import json

    from redline.cli.demo import run_demo

    result = run_demo(out=tmp_path / "out", runs=300, seed=2)
    files = [Path(f) for f in result["files"]]
    assert all(f.exists() and f.stat().st_size > 0 for f in files)
    assert sum(f.suffix == ".png" for f in files) >= 4 and any(f.suffix == ".html" for f in files)
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {"slow_drip", "rapid_overt", "restraint"} <= set(data["mechanisms"])
    assert len(data["forecasts"]) >= 30 and all(0 <= q["probability"] <= 1 for q in data["forecasts"])
    split = data["thesis_split"]["us_killed_2020_21"]
    assert split["iran_deniable"]["effect"] + split["iran_fast"]["effect"] == pytest.approx(split["difference"]["effect"])
    report = Path(result["report"]).read_text(encoding="utf-8")
    assert "posterior" in report and "slow_drip" in report
    if (Path(SHARED).parent / "shared").exists() and data["posterior"]:
        assert data["posterior"]["sha256"] and data["record_checks"]
