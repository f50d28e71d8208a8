"""Engine realism: scheduled events, regimes, anticipation of red lines, graded responses with
cooldown, chosen intensity (levels) — each checked for its semantics and for agreement between the
vectorised engine and the reference interpreter (in distribution)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from redline import escalation
from redline.results.summary import frozen_runs, regime_summary, summarize
from redline.errors import RedlineError
from redline.scenario import load_scenario, scenario_from_dict
from tests.conftest import write_yaml

A = "Stylised, for the test."

BASE = {
    "meta": {"id": "realism-test", "title": "Challenger and defender", "as_of": "2020-01-06", "horizon": 1},
    "actors": {
        "challenger": {"name": "Challenger", "kind": "state", "assumption": A,
                       "goals": {"tension": -0.05, "damage": 0.02},
                       "policy": {"kind": "logit", "rationality": 3.0}},
        "defender": {"name": "Defender", "kind": "state", "assumption": A, "goals": {"tension": -0.01},
                     "policy": {"kind": "scripted", "probabilities": {}}},
    },
    "state": {
        "tension": {"type": "real", "initial": 0, "min": 0, "max": 1000, "assumption": A},
        "damage": {"type": "counter", "initial": 0, "assumption": A},
        "seen_week": {"type": "counter", "initial": 0, "flow": True, "assumption": A},
    },
    "actions": {
        "proxy_attack": {"actor": "challenger", "track": "military", "tags": ["covert"], "assumption": A,
                         "effects": [{"var": "damage", "add": 10}, {"var": "damage", "add": 0, "attributed": "seen_week"}],
                         "attribution": {"probability": "attribution_probability", "delay_weeks": 0}},
        "overt_strike": {"actor": "challenger", "track": "military", "tags": ["overt"], "assumption": A,
                         "effects": [{"var": "damage", "add": 10}, {"var": "seen_week", "add": 1}]},
        "retaliate": {"actor": "defender", "track": "military", "available": "false", "assumption": A,
                      "effects": [{"var": "tension", "add": 30}]},
        "retaliate_hard": {"actor": "defender", "track": "military", "available": "false", "assumption": A,
                           "effects": [{"var": "tension", "add": 60}]},
    },
    "red_lines": {
        "seen_attack": {"owner": "defender", "condition": "seen_week > 0", "credibility": "credibility",
                        "response": "retaliate", "once": False, "assumption": A},
    },
    "outcomes": {
        "struck_overtly": {"condition": "ever(overt_strike)", "assumption": A},
        "attacked_deniably": {"condition": "ever(proxy_attack)", "assumption": A},
        "retaliated": {"condition": "ever(retaliate)", "assumption": A},
        "retaliated_hard": {"condition": "ever(retaliate_hard)", "assumption": A},
    },
    "uncertainties": {
        "credibility": {"default": 1.0, "low": 0.0, "high": 1.0, "assumption": A},
        "attribution_probability": {"default": 0.0, "low": 0.0, "high": 1.0, "assumption": A},
    },
}
# the proxy attack's attributed record: one attack seen when attributed
BASE["actions"]["proxy_attack"]["effects"][1] = {"var": "damage", "add": 0}
BASE["actions"]["proxy_attack"]["effects"].append({"var": "seen_week", "add": 0})


def _doc(**changes) -> dict:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = doc
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return doc


def _covert_doc() -> dict:
    """The deniable attack adds to a hidden counter whose attributed record is ``seen_week``."""
    doc = _doc()
    doc["state"]["hidden"] = {"type": "counter", "initial": 0, "assumption": A}
    doc["actions"]["proxy_attack"]["effects"] = [
        {"var": "damage", "add": 10}, {"var": "hidden", "add": 1, "attributed": "seen_week"}]
    return doc


def _p(ds, outcome):
    return float(ds["outcome_occurred"].sel(outcome=outcome).mean())


def _agree(p, q, n, m, z=4.5):
    se = math.sqrt(p * (1 - p) / n + q * (1 - q) / m) + 1e-3
    return abs(p - q) < z * se


# -- anticipation -----------------------------------------------------------------------------

def test_anticipation_makes_a_red_line_deter_a_logit_chooser():
    loaded = scenario_from_dict(_covert_doc())
    share = {}
    for c in (0.0, 1.0):
        ds = escalation.run(loaded, runs=20000, seed=4, params={"credibility": c})
        share[c] = _p(ds, "struck_overtly")
    # U(overt) = 0.2 without the response; 0.2 - 0.05 * 30 * credibility with it (rationality 3)
    expected = {c: math.exp(3 * (0.2 - 1.5 * c)) / (1 + math.exp(0.6) + math.exp(3 * (0.2 - 1.5 * c)))
                for c in (0.0, 1.0)}
    for c in share:
        assert abs(share[c] - expected[c]) < 0.015, (c, share[c], expected[c])
    # with anticipation off, the red line is invisible to the chooser
    off = _covert_doc()
    off["actors"]["challenger"]["policy"]["anticipate"] = False
    blind = escalation.run(scenario_from_dict(off), runs=20000, seed=4, params={"credibility": 1.0})
    assert abs(_p(blind, "struck_overtly") - expected[0.0]) < 0.015


def test_a_covert_act_trips_a_red_line_only_through_what_would_be_attributed():
    loaded = scenario_from_dict(_covert_doc())
    lam, u = 3.0, 0.2
    for q in (0.0, 0.5, 1.0):
        ds = escalation.run(loaded, runs=20000, seed=9, params={"credibility": 1.0, "attribution_probability": q})
        u_proxy = u - 1.5 * q  # tension +30 weighed -0.05, times the chance it is seen this week
        u_overt = u - 1.5
        expected = math.exp(lam * u_proxy) / (1 + math.exp(lam * u_proxy) + math.exp(lam * u_overt))
        assert abs(_p(ds, "attacked_deniably") - expected) < 0.015, (q, _p(ds, "attacked_deniably"), expected)


def test_a_delayed_attribution_cannot_trip_this_weeks_red_line():
    doc = _covert_doc()
    doc["actions"]["proxy_attack"]["attribution"]["delay_weeks"] = 3
    ds = escalation.run(scenario_from_dict(doc), runs=20000, seed=9,
                        params={"credibility": 1.0, "attribution_probability": 1.0})
    expected = math.exp(0.6) / (1 + math.exp(0.6) + math.exp(3 * (0.2 - 1.5)))
    assert abs(_p(ds, "attacked_deniably") - expected) < 0.015


@pytest.mark.parametrize("q", [0.0, 0.5])
def test_anticipation_agrees_between_engines(q):
    doc = _covert_doc()
    doc["meta"]["horizon"] = 6
    doc["red_lines"]["seen_attack"]["condition"] = "sum(seen_week, last=3) >= 2"
    loaded = scenario_from_dict(doc)
    params = {"credibility": 0.8, "attribution_probability": q}
    vec = escalation.run(loaded, runs=6000, seed=1, params=params)
    ref = escalation.run(loaded, runs=600, seed=2, params=params, engine="reference")
    for outcome in ("struck_overtly", "attacked_deniably", "retaliated"):
        assert _agree(_p(vec, outcome), _p(ref, outcome), 6000, 600), (outcome, _p(vec, outcome), _p(ref, outcome))


# -- graded responses and cooldown ------------------------------------------------------------

def _graded_doc(owner_policy: dict) -> dict:
    doc = _covert_doc()
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted", "probabilities": {"overt_strike": 1.0}}
    doc["actors"]["defender"]["policy"] = owner_policy
    doc["red_lines"]["seen_attack"]["response"] = ["retaliate", "retaliate_hard"]
    return doc


@pytest.mark.parametrize("engine,runs", [("vectorised", 20000), ("reference", 1500)])
def test_graded_responses_are_chosen_by_the_owners_logit_policy(engine, runs):
    ds = escalation.run(scenario_from_dict(_graded_doc({"kind": "logit", "rationality": 2.0})), runs=runs, seed=5,
                        engine=engine)
    mild, hard = _p(ds, "retaliated"), _p(ds, "retaliated_hard")
    expected = math.exp(-0.6) / (math.exp(-0.6) + math.exp(-1.2))  # goals: tension -0.01, +30 vs +60
    assert abs(mild + hard - 1) < 1e-12  # exactly one response per firing
    se = math.sqrt(expected * (1 - expected) / runs)
    assert abs(mild - expected) < 4.5 * se, (mild, expected)


def test_graded_responses_of_a_scripted_owner_are_renormalised():
    doc = _graded_doc({"kind": "scripted", "probabilities": {"retaliate": 0.1, "retaliate_hard": 0.3}})
    ds = escalation.run(scenario_from_dict(doc), runs=20000, seed=6)
    assert abs(_p(ds, "retaliated") - 0.25) < 0.015 and abs(_p(ds, "retaliated_hard") - 0.75) < 0.015
    doc = _graded_doc({"kind": "scripted", "probabilities": {}})  # nothing said: equal shares
    ds = escalation.run(scenario_from_dict(doc), runs=20000, seed=6)
    assert abs(_p(ds, "retaliated") - 0.5) < 0.015
    ref = escalation.run(scenario_from_dict(doc), runs=1000, seed=6, engine="reference")
    assert _agree(_p(ds, "retaliated"), _p(ref, "retaliated"), 20000, 1000)


@pytest.mark.parametrize("engine", ["vectorised", "reference"])
def test_cooldown_rests_the_red_line(engine):
    doc = _graded_doc({"kind": "scripted", "probabilities": {}})
    doc["meta"]["horizon"] = 10
    doc["red_lines"]["seen_attack"]["response"] = "retaliate"
    doc["red_lines"]["seen_attack"]["cooldown_weeks"] = 3
    ds = escalation.run(scenario_from_dict(doc), runs=50, seed=1, engine=engine)
    # an overt strike every week; fires in weeks 1, 5, 9
    assert np.all(ds["action_count"].sel(action="retaliate").values == 3)
    doc["red_lines"]["seen_attack"]["cooldown_weeks"] = 0
    ds = escalation.run(scenario_from_dict(doc), runs=50, seed=1, engine=engine)
    assert np.all(ds["action_count"].sel(action="retaliate").values == 10)


def test_red_lines_answering_each_other_fire_at_most_once_a_week_in_written_order():
    doc = _graded_doc({"kind": "scripted", "probabilities": {}})
    doc["meta"]["horizon"] = 5
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted", "probabilities": {}}
    doc["state"]["provoked"] = {"type": "boolean", "initial": 0, "assumption": A}
    doc["actions"]["counter_strike"] = {"actor": "challenger", "track": "military", "available": "false",
                                        "assumption": A, "effects": [{"var": "provoked", "set": 1}]}
    doc["actions"]["retaliate"]["effects"].append({"var": "provoked", "set": 0})
    doc["red_lines"]["seen_attack"].update(condition="provoked", response="retaliate", credibility=1.0)
    doc["red_lines"]["answer"] = {"owner": "challenger", "condition": "retaliate", "response": "counter_strike",
                                  "once": False, "assumption": A}
    doc["events"] = [{"date": "2020-01-06", "set": {"provoked": 1}, "assumption": A}]
    for engine in ("vectorised", "reference"):
        ds = escalation.run(scenario_from_dict(doc), runs=20, seed=1, engine=engine)
        # week 1: the event trips seen_attack, whose response trips `answer` (written later) the
        # same week; the counter-strike trips seen_attack again in week 2, and so on: once a week.
        assert np.all(ds["action_count"].sel(action="retaliate").values == 5)
        assert np.all(ds["action_count"].sel(action="counter_strike").values == 5)


# -- scheduled events -------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["vectorised", "reference"])
def test_scheduled_events_change_state_and_force_actions_at_their_week(engine):
    doc = _covert_doc()
    doc["meta"]["horizon"] = 6
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted", "probabilities": {"proxy_attack": 1.0}}
    doc["events"] = [
        {"date": "2020-01-20", "action": "overt_strike", "source": {"id": "record"}},    # week 3
        {"date": "2020-01-28", "set": {"tension": 500}, "assumption": A},                 # week 4
        {"date": "2020-02-10", "add": {"tension": "-100 + damage * 0"}, "assumption": A},  # week 6
    ]
    doc["sources"] = {"record": {"title": "A dated record"}}
    doc["red_lines"]["seen_attack"]["credibility"] = 0.0
    ds = escalation.run(scenario_from_dict(doc), runs=30, seed=1, engine=engine, trajectories=True)
    tension = ds["trajectory"].sel(variable="tension").values
    assert np.all(tension[2] == 0) and np.all(tension[3] == 500) and np.all(tension[5] == 400)
    assert np.all(ds["action_count"].sel(action="overt_strike").values == 1)  # the scheduled week only
    assert np.all(ds["action_count"].sel(action="proxy_attack").values == 5)  # it took the track's place


def test_bad_events_are_refused_with_a_location_and_a_suggestion(tmp_path):
    doc = _covert_doc()
    doc["events"] = [{"date": "2020-01-20", "action": "overt_strik", "assumption": A}]
    with pytest.raises(RedlineError, match=r":\d+:\d+: unknown action 'overt_strik'; did you mean 'overt_strike'"):
        load_scenario(write_yaml(tmp_path / "a.yaml", doc))
    doc["events"] = [{"date": "2019-12-20", "set": {"tension": 1}, "assumption": A}]
    with pytest.raises(RedlineError, match="before the scenario's as_of"):
        load_scenario(write_yaml(tmp_path / "b.yaml", doc))
    doc["events"] = [{"date": "2020-01-20", "set": {"tensoin": 1}, "assumption": A}]
    with pytest.raises(RedlineError, match="did you mean 'tension'"):
        load_scenario(write_yaml(tmp_path / "c.yaml", doc))
    doc["events"] = [{"date": "2020-01-20", "actoin": "overt_strike", "assumption": A}]
    with pytest.raises(RedlineError, match="did you mean 'action'"):
        load_scenario(write_yaml(tmp_path / "d.yaml", doc))
    doc["events"] = [{"date": "2020-01-20", "action": "overt_strike", "assumption": A},
                     {"date": "2020-01-21", "action": "proxy_attack", "assumption": A}]
    with pytest.raises(RedlineError, match="at most one action per track"):
        load_scenario(write_yaml(tmp_path / "e.yaml", doc))


# -- regimes ----------------------------------------------------------------------------------

def _regime_doc() -> dict:
    doc = _covert_doc()
    doc["meta"]["horizon"] = 30
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted", "probabilities": {}}
    doc["regimes"] = {"war": {"initial": False, "enter": 0.1, "exit": "if(tension > 0, 0.5, 0.25)", "assumption": A},
                      "truce": {"initial": True, "enter": 0, "exit": 0.05, "assumption": A}}
    doc["processes"] = {"war_costs": {"when": "war", "add": {"damage": 1}, "assumption": A}}
    doc["outcomes"]["ever_war"] = {"condition": "ever(war)", "assumption": A}
    return doc


def test_regimes_follow_their_hazards_and_are_readable_in_expressions():
    ds = escalation.run(scenario_from_dict(_regime_doc()), runs=20000, seed=3)
    reg = regime_summary(ds)
    assert abs(reg["war"]["probability_entered"] - (1 - 0.9 ** 30)) < 0.01
    assert abs(_p(ds, "ever_war") - reg["war"]["probability_entered"]) < 1e-12
    # the two-state chain from "out", weekly P(war) = P(war) * (1 - 0.25) + (1 - P(war)) * 0.1
    p, shares = 0.0, []
    for _ in range(30):
        p = p * 0.75 + (1 - p) * 0.1
        shares.append(p)
    assert abs(reg["war"]["share_of_weeks"] - np.mean(shares)) < 0.005
    # damage grows by one for every week that starts at war (the regime read as a boolean by a
    # process, before this week's transition), so it trails the weeks at war by the last week
    gap = ds["regime_weeks"].sel(regime="war").values - ds["final_state"].sel(variable="damage").values
    assert set(np.unique(gap)) == {0.0, 1.0}
    assert reg["truce"]["probability_entered"] == 1.0 and reg["truce"]["median_first_week"] == 0.0
    assert abs(reg["truce"]["share_of_weeks"] - np.mean([0.95 ** w for w in range(1, 31)])) < 0.005
    payload = summarize(ds)
    assert payload["regimes"] == reg and payload["frozen_runs"] == 0


def test_regimes_agree_between_engines():
    loaded = scenario_from_dict(_regime_doc())
    vec = regime_summary(escalation.run(loaded, runs=6000, seed=1))
    ref = regime_summary(escalation.run(loaded, runs=600, seed=2, engine="reference"))
    for g in ("war", "truce"):
        assert _agree(vec[g]["probability_entered"], ref[g]["probability_entered"], 6000, 600)
        assert abs(vec[g]["share_of_weeks"] - ref[g]["share_of_weeks"]) < 0.03


def test_absorbing_outcomes_are_counted_as_frozen_runs():
    doc = _regime_doc()
    doc["outcomes"]["ever_war"]["absorbing"] = True
    ds = escalation.run(scenario_from_dict(doc), runs=2000, seed=3)
    frozen = frozen_runs(ds)
    ended_early = np.count_nonzero(ds["stopped_week"].values < 30)
    assert frozen == ended_early and 0.9 < frozen / 2000 < 0.97  # 1 - 0.9**29 end before week 30


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("response,message", [
    (["retaliate", "overt_strike"], "'overt_strike' is an action of 'challenger', not of 'defender'"),
    (["retaliate", "retaliate_hrad"], "unknown action of 'defender' 'retaliate_hrad'; did you mean 'retaliate_hard'"),
    ("retaliat", "did you mean 'retaliate'"),
])
def test_bad_response_lists_are_refused(tmp_path, response, message):
    doc = _covert_doc()
    doc["red_lines"]["seen_attack"]["response"] = response
    with pytest.raises(RedlineError, match=r"^\S+:\d+:\d+: ") as err:
        load_scenario(write_yaml(tmp_path / "s.yaml", doc))
    assert message in str(err.value)


def test_a_scenario_without_the_new_sections_gets_no_new_records():
    """No regimes, no levels: the result has no regime or option records."""
    ds = escalation.run(scenario_from_dict(_covert_doc()), runs=200, seed=1)
    assert "regime" not in ds.coords and "option" not in ds.coords


# -- chosen intensity (levels) -------------------------------------------------------------------

def _levels_doc() -> dict:
    doc = _covert_doc()
    doc["meta"]["horizon"] = 1
    doc["actions"]["overt_strike"]["levels"] = {"harass": {"lethality": 0.1}, "lethal": {"lethality": 0.6}}
    doc["actions"]["overt_strike"]["effects"] = [{"var": "damage", "add": "poisson(lethality * 10)"},
                                                 {"var": "seen_week", "add": 1}]
    doc["red_lines"]["seen_attack"]["condition"] = "damage >= 5"
    doc["outcomes"]["struck_lethally"] = {"condition": "damage >= 3 and overt_strike", "assumption": A}
    return doc


def _level_shares(c: float) -> list[float]:
    """Analytic logit shares of (proxy, harass, lethal) at credibility c (rationality 3)."""
    u = [0.2 - 1.5 * c, 0.02 * 1, 0.02 * 6 - 1.5 * c]  # damage 10 (proxy) or 6 (lethal, at its mean) trips it
    e = [math.exp(3 * x) for x in u]
    return [x / (1 + sum(e)) for x in e]


@pytest.mark.parametrize("c", [0.0, 1.0])
def test_each_level_is_an_option_and_the_lethal_one_is_deterred(c):
    loaded = scenario_from_dict(_levels_doc())
    ds = escalation.run(loaded, runs=20000, seed=2, params={"credibility": c})
    counts = ds["option_count"].mean("run")
    expected = _level_shares(c)
    assert abs(float(counts.sel(option="overt_strike.harass")) - expected[1]) < 0.015
    assert abs(float(counts.sel(option="overt_strike.lethal")) - expected[2]) < 0.015
    # `overt_strike` in expressions counts the action at every level
    assert abs(_p(ds, "struck_overtly") - expected[1] - expected[2]) < 0.015
    ref = escalation.run(loaded, runs=1500, seed=3, params={"credibility": c}, engine="reference")
    rc = ref["option_count"].mean("run")
    for option, p in (("overt_strike.harass", expected[1]), ("overt_strike.lethal", expected[2])):
        assert _agree(float(rc.sel(option=option)), p, 1500, 10**9), option


@pytest.mark.parametrize("engine", ["vectorised", "reference"])
def test_scripted_policies_name_levels_and_effects_read_the_chosen_level(engine):
    doc = _levels_doc()
    doc["red_lines"]["seen_attack"]["credibility"] = 0.0
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted",
                                             "probabilities": {"overt_strike.lethal": 0.5, "overt_strike": 0.5}}
    ds = escalation.run(scenario_from_dict(doc), runs=4000 if engine == "vectorised" else 800, seed=1, engine=engine)
    lethal = ds["option_count"].sel(option="overt_strike.lethal").values == 1
    damage = ds["final_state"].sel(variable="damage").values
    assert abs(lethal.mean() - 0.5) < 0.07  # bare `overt_strike` means its first level, harass
    assert abs(damage[lethal].mean() - 6.0) < 0.4 and abs(damage[~lethal].mean() - 1.0) < 0.2


@pytest.mark.parametrize("levels,message", [
    ([{"lethality": 0.1}], "levels must be named"),
    ({"low": {"lethality": 0.1}, "high": {"lethal": 0.6}}, "every level declares the same keys"),
    ({"low": {}}, "needs its values"),
    ({"low": {"lethality": "0.1"}}, "must be a finite number"),
    ({"low": {"tension": 0.1}}, "level key 'tension' is already a name"),
])
def test_bad_levels_are_refused(tmp_path, levels, message):
    doc = _levels_doc()
    doc["actions"]["overt_strike"]["levels"] = levels
    with pytest.raises(RedlineError, match=r"^\S+:\d+:\d+: ") as err:
        load_scenario(write_yaml(tmp_path / "s.yaml", doc))
    assert message in str(err.value)


def test_non_finite_level_values_are_refused(tmp_path):
    path = write_yaml(tmp_path / "s.yaml", _levels_doc())
    path.write_text(path.read_text().replace("lethality: 0.6", "lethality: .inf"))
    with pytest.raises(RedlineError, match=r"^\S+:\d+:\d+: .*(not finite|finite number)"):
        load_scenario(path)
