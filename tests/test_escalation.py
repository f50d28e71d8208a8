"""The escalation engines: reproducibility, semantics, agreement of vectorised and reference."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from redline import escalation
from redline.results import outcome_summary, paired_difference
from redline.experiments.compare import compare
from redline.errors import ParameterError
from redline.scenario import load_scenario, scenario_from_dict

ENGINES = ["vectorised", "reference"]


@pytest.fixture(scope="module")
def example():
    return load_scenario("proxy-deterrence")


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_contract(example, engine):
    """Every engine: same entry point, same Dataset layout, provenance in attrs."""
    ds = escalation.run(example, runs=50, horizon=20, seed=1, engine=engine)
    assert set(ds["final_state"].dims) == {"variable", "run"}
    assert ds.sizes["run"] == 50
    assert "trajectory" not in ds  # memory grows with runs x variables, not weeks, by default
    for key in ("scenario", "scenario_sha256", "version", "seed", "spawn_key", "strategies", "params", "wall_time_s"):
        assert key in ds.attrs
    assert ds.attrs["seed"] == 1 and json.loads(ds.attrs["spawn_key"]) == []
    again = escalation.run(example, runs=50, horizon=20, seed=1, engine=engine)
    assert ds.equals(again)



def _edge_strategy(doc: dict, policy: dict):
    doc["strategies"]["edge"] = {"actor": "challenger", "description": "edge case", "policy": policy,
                                 "assumption": "test"}
    return scenario_from_dict(doc)


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_contract_non_finite_week_rules(example_doc, engine):
    """Both interpreters apply escalation.rules: a NaN scripted probability counts as 0 (the other
    options keep theirs); an infinite utility is bounded, not zeroed, so the action stays the most
    attractive (before, the reference interpreter chose nothing after a NaN and treated +inf as 0)."""
    nan_p = _edge_strategy(copy.deepcopy(example_doc), {
        "kind": "scripted", "probabilities": {"proxy_attack": "exp(1000) - exp(1000)", "overt_strike": 0.5}})
    ds = escalation.run(nan_p, runs=400, horizon=4, seed=1, engine=engine, strategies={"challenger": "edge"})
    counts = ds["action_count"]
    assert float(counts.sel(action="proxy_attack").max()) == 0
    assert 1.7 < float(counts.sel(action="overt_strike").mean()) < 2.3  # 0.5 a week for 4 weeks
    inf_u = _edge_strategy(copy.deepcopy(example_doc), {
        "kind": "logit", "rationality": 3.0, "utilities": {"overt_strike": "exp(1000)"}})
    ds = escalation.run(inf_u, runs=400, horizon=4, seed=1, engine=engine, strategies={"challenger": "edge"})
    counts = ds["action_count"]
    assert float(counts.sel(action="proxy_attack").max()) == 0
    assert float(counts.sel(action="overt_strike").mean()) > 3.0  # chosen every week while the run lasts
    assert not ds["failed"].any()


def test_week_rules_edge_values():
    from redline.escalation import rules

    w = rules.scripted_weights([np.nan, 0.5, np.inf, -np.inf, 0.0], [True] * 5)
    assert [float(x) for x in w] == [0.0, 0.5 / 1.5, 1.0 / 1.5, 0.0, 0.0]  # over-full track renormalised
    assert [float(x) for x in rules.scripted_weights([0.4, 0.9], [False, True])] == [0.0, 0.9]
    assert list(rules.sanitise_utility(np.array([np.nan, np.inf, -np.inf, 2.0]))) == [0.0, 1e6, -1e6, 2.0]
    # quantal response against 'do nothing' at 0: equal utilities 0 -> a third each
    assert np.allclose(rules.logit_weights(1.0, [0.0, 0.0], [True, True]), [1 / 3, 1 / 3])
    # huge scores neither overflow nor saturate: the better of two large options still wins clearly
    w = rules.logit_weights(1.0, [800.0, 801.0], [True, True])
    assert np.isclose(w[1] / w[0], np.e) and np.isclose(sum(w), 1.0)
    assert np.allclose(rules.logit_weights(np.nan, [5.0], [True]), [0.5])  # NaN rationality: indifference

def test_same_seed_identical_different_seed_different(example):
    a = escalation.run(example, runs=3000, horizon=52, seed=7)
    b = escalation.run(example, runs=3000, horizon=52, seed=7)
    c = escalation.run(example, runs=3000, horizon=52, seed=8)
    assert np.array_equal(a["final_state"].values, b["final_state"].values)
    assert not np.array_equal(a["final_state"].values, c["final_state"].values)


def test_rng_is_the_design_name_of_the_seed(example):
    """DESIGN.md writes the engine entry point as run(scenario, *, runs, horizon, rng): the same
    argument, the same numbers; giving both or neither is refused."""
    a = escalation.run(example, runs=500, horizon=20, seed=7)
    b = escalation.run(example, runs=500, horizon=20, rng=np.random.SeedSequence(7))
    assert np.array_equal(a["final_state"].values, b["final_state"].values)
    with pytest.raises(ParameterError, match="give the seed once"):
        escalation.run(example, runs=5, horizon=2, seed=1, rng=1)
    with pytest.raises(ParameterError, match="give the seed once"):
        escalation.run(example, runs=5, horizon=2)


def test_blocks_make_results_independent_of_distribution(example):
    """Block b of a big run equals block b run on its own (so workers can split blocks)."""
    runs = escalation.BLOCK_RUNS + 100
    whole = escalation.run(example, runs=runs, horizon=10, seed=3)
    second = escalation.run(example, runs=runs, horizon=10, seed=3, blocks=[1])
    assert np.array_equal(whole["final_state"].values[:, escalation.BLOCK_RUNS:], second["final_state"].values)


def test_seed_sequence_spawn_key_recorded(example):
    child = np.random.SeedSequence(5).spawn(3)[2]
    ds = escalation.run(example, runs=10, horizon=5, seed=child)
    assert json.loads(ds.attrs["spawn_key"]) == [2]


@pytest.mark.parametrize("strategy", ["deniable", "loud", "chooser"])
def test_vectorised_and_reference_agree_in_distribution(example, strategy):
    n_ref, n_vec = 600, 6000
    ref = outcome_summary(escalation.run(example, runs=n_ref, seed=11, engine="reference",
                                         strategies={"challenger": strategy}))
    vec = outcome_summary(escalation.run(example, runs=n_vec, seed=12, strategies={"challenger": strategy}))
    for outcome in vec:
        p, q = vec[outcome]["probability"], ref[outcome]["probability"]
        se = np.sqrt(p * (1 - p) / n_vec + q * (1 - q) / n_ref) + 1e-3
        assert abs(p - q) < 4.5 * se, (strategy, outcome, p, q)


def test_absorbing_outcome_freezes_the_run(example):
    ds = escalation.run(example, runs=400, seed=2, strategies={"challenger": "loud"}, trajectories=True)
    war = ds["outcome_week"].sel(outcome="open_war").values
    stopped = ds["stopped_week"].values
    ended = ~np.isnan(stopped)
    assert ended.mean() > 0.9
    traj = ds["trajectory"].values  # week, variable, run
    for run in np.nonzero(ended)[0][:50]:
        w = int(stopped[run])
        assert np.array_equal(traj[w - 1, :, run], traj[-1, :, run])  # nothing moves after the end
    assert np.all(np.isnan(war) | (war >= 1))


def test_attributed_record_never_exceeds_truth_and_red_lines_see_attribution(example):
    never = escalation.run(example, runs=2000, seed=4, strategies={"challenger": "deniable"},
                           params={"attribution_probability": 0.05})
    always = escalation.run(example, runs=2000, seed=4, strategies={"challenger": "deniable"},
                            params={"attribution_probability": 1.0})
    for ds in (never, always):
        fs = ds["final_state"]
        assert np.all(fs.sel(variable="attributed_casualties") <= fs.sel(variable="defender_casualties") + 1e-9)
    retaliated = lambda ds: ds["outcome_occurred"].sel(outcome="retaliation").mean().item()
    assert retaliated(always) > retaliated(never) + 0.3


def test_credibility_zero_means_never_enforced(example):
    ds = escalation.run(example, runs=1000, seed=5, strategies={"challenger": "loud"},
                        params={"defender_credibility": 0.3})
    enforced = ds["red_line_enforced"].sel(red_line="two_attributed_attacks").values
    triggered = ~np.isnan(ds["red_line_week"].sel(red_line="two_attributed_attacks").values)
    assert np.all(enforced <= triggered)
    assert 0 < enforced.mean() < triggered.mean()


def test_scheduled_scripted_policy_and_flows(example_doc):
    """A schedule is a scripted probability of 1 at chosen weeks; flows reset weekly."""
    example_doc["strategies"]["deniable"]["policy"]["probabilities"] = {"proxy_attack": "if(week == 3 or week == 7, 1, 0)"}
    loaded = scenario_from_dict(example_doc)
    ds = escalation.run(loaded, runs=200, horizon=10, seed=1, trajectories=True)
    attacks = ds["trajectory"].sel(variable="attacks").values
    assert np.all(attacks[1] == 0) and np.all(attacks[2] == 1) and np.all(attacks[-1] == 2)
    weekly = ds["trajectory"].sel(variable="casualties_week").values
    assert np.all(weekly[[0, 1, 3, 4, 5]] == 0)  # only attack weeks have deaths this week


def test_bad_options_are_parameter_errors(example):
    with pytest.raises(ParameterError, match="did you mean 'attribution_probability'"):
        escalation.run(example, runs=10, seed=1, params={"atribution_probability": 0.5})
    with pytest.raises(ParameterError, match=r"outside its range \[0.05, 1\]"):
        escalation.run(example, runs=10, seed=1, params={"attribution_probability": 2})
    with pytest.raises(ParameterError, match="did you mean 'deniable'"):
        escalation.run(example, runs=10, seed=1, strategies={"challenger": "deniabel"})
    with pytest.raises(ParameterError, match="unknown actor"):
        escalation.run(example, runs=10, seed=1, strategies={"chalenger": "loud"})
    with pytest.raises(ParameterError, match="runs"):
        escalation.run(example, runs=0, seed=1)


def test_compare_uses_common_random_numbers(example):
    same = compare(example, actor="challenger", strategies=["deniable", "deniable"], runs=2000, horizon=52, seed=3)
    assert all(d["difference"] == 0 and d["ci95"] == [0, 0] for d in same.differences)
    res = compare(example, actor="challenger", strategies=["deniable", "loud"], runs=4000, seed=3)
    d = {x["outcome"]: x for x in res.differences}
    assert d["defender_leaves"]["ci95"][0] > 0 and d["open_war"]["ci95"][1] < 0


def test_common_random_numbers_reduce_variance(example):
    """Pairing runs of two parameter values (same seed) gives a tighter interval than independent seeds."""
    lo = escalation.run(example, runs=4000, seed=9, params={"casualty_sensitivity": 0.004})
    hi = escalation.run(example, runs=4000, seed=9, params={"casualty_sensitivity": 0.005})
    indep = escalation.run(example, runs=4000, seed=10, params={"casualty_sensitivity": 0.005})
    pick = lambda ds: ds["final_state"].sel(variable="public_support").values
    _, paired = paired_difference(pick(hi), pick(lo))
    _, unpaired = paired_difference(pick(indep), pick(lo))
    assert paired[1] - paired[0] < 0.5 * (unpaired[1] - unpaired[0])


def test_probes_see_every_week_and_extend_the_horizon(example):
    ds = escalation.run(example, runs=500, seed=3, horizon=10,
                        probes={"early": ("ever(attacks >= 2)", 8), "late": ("defender_leaves", 150)})
    assert ds.attrs["horizon"] == 150
    assert ds["probe_value"].sel(probe="late").mean() > 0.5
    early = ds["probe_value"].sel(probe="early").values
    assert set(np.unique(early)) <= {0.0, 1.0}


@pytest.mark.parametrize("strategy", ["deniable", "loud", "chooser"])
def test_dropping_ended_runs_changes_no_number(example, strategy):
    """Compaction (ended runs leave the working arrays) is exact: each run keeps its random numbers."""
    from redline.escalation import common, engine

    setup = common.make_setup(example.program, seed=5, horizon=104, strategies={"challenger": strategy}, params=None)
    a = engine.simulate_block(example.program, setup, 3000, 0, False, compact=True)
    b = engine.simulate_block(example.program, setup, 3000, 0, False, compact=False)
    for key in ("final_state", "outcome_week", "red_line_week", "red_line_enforced", "action_count", "stopped_week"):
        assert np.array_equal(a[key], b[key], equal_nan=True), key


def test_collective_decisions_run_every_n_weeks_with_the_bargaining_model(example_doc):
    from redline import bargaining

    del example_doc["red_lines"]  # nothing moves tension after the decision within a week
    example_doc["outcomes"].pop("retaliation")
    ds = escalation.run(scenario_from_dict(example_doc), runs=300, horizon=12, seed=2, trajectories=True)
    stance = ds["trajectory"].sel(variable="host_stance").values  # week, run
    tension = ds["trajectory"].sel(variable="tension").values
    assert np.array_equal(stance[1], stance[2]) and np.array_equal(stance[4], stance[6])  # weeks 2-3, 5-7 hold
    # week 4's stance is the Nash bargaining solution over that week's positions
    gov = np.clip(20 + 1.5 * tension[3], 0, 100)
    positions = np.stack([gov, np.full(300, 95.0), np.full(300, 10.0)], axis=1)
    actors = bargaining.Actors.from_arrays(positions, [0.6, 0.9, 0.4], [45, 25, 30])
    expected = bargaining.predict(actors, model="nash").prediction
    assert np.allclose(stance[3], expected)


def test_decision_options_reach_the_model_and_typos_are_refused(example_doc):
    from redline.errors import ScenarioError

    example_doc["decisions"]["host_parliament"]["options"] = {"utility": "quadratic"}
    quadratic = escalation.run(scenario_from_dict(example_doc), runs=200, horizon=8, seed=1)
    example_doc["decisions"]["host_parliament"]["options"] = {}
    linear = escalation.run(scenario_from_dict(example_doc), runs=200, horizon=8, seed=1)
    stance = lambda ds: ds["final_state"].sel(variable="host_stance").values
    assert not np.allclose(stance(quadratic), stance(linear))
    example_doc["decisions"]["host_parliament"]["options"] = {"utilty": "quadratic"}
    with pytest.raises(ScenarioError, match="did you mean 'utility'"):
        scenario_from_dict(example_doc)


def _coin_doc() -> dict:
    """One weekly Bernoulli event with an uncertain rate; its count starts at a parameter."""
    return {
        "meta": {"id": "coin", "title": "coin", "as_of": "2020-01-06", "step": "week", "horizon": 50},
        "actors": {"nature": {"name": "Nature", "kind": "other", "assumption": "test",
                              "policy": {"kind": "scripted", "probabilities": {"event": "event_rate"}}}},
        "state": {"events": {"type": "real", "initial": "start_at", "assumption": "test"}},
        "actions": {"event": {"actor": "nature", "effects": [{"var": "events", "add": 1}], "assumption": "test"}},
        "uncertainties": {
            "event_rate": {"default": 0.5, "low": 0.0, "high": 1.0, "assumption": "test"},
            "start_at": {"default": 0.0, "low": 0.0, "high": 1000.0, "assumption": "test"},
        },
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_per_run_parameters_reach_their_own_run(engine, monkeypatch):
    """A parameter given one value per run is seen by that run only, across blocks too."""
    import redline.escalation.common as common

    monkeypatch.setattr(common, "BLOCK_RUNS", 7)
    monkeypatch.setattr(escalation, "BLOCK_RUNS", 7)
    loaded = scenario_from_dict(_coin_doc())
    runs = 40
    start = np.arange(runs, dtype=float) * 10
    rate = np.where(np.arange(runs) % 2 == 0, 0.0, 1.0)
    ds = escalation.run(loaded, runs=runs, seed=2, params={"start_at": start, "event_rate": rate}, engine=engine)
    events = ds["final_state"].sel(variable="events").values
    assert np.array_equal(events, start + 50 * rate)  # rate 0: never; rate 1: every week
    assert np.array_equal(ds["parameter_value"].sel(parameter="start_at").values, start)
    assert json.loads(ds.attrs["params"])["start_at"]["per_run"] is True


def test_per_run_parameters_equal_to_a_scalar_change_no_number(example):
    """Arrays holding the default everywhere give bit-identical results to the scalar default."""
    runs = 3000
    fixed = escalation.run(example, runs=runs, horizon=52, seed=4)
    arrays = {k: np.full(runs, v) for k, v in example.program.parameters.items()}
    per_run = escalation.run(example, runs=runs, horizon=52, seed=4, params=arrays)
    for var in ("final_state", "outcome_week", "action_count", "red_line_week"):
        assert np.array_equal(fixed[var].values, per_run[var].values, equal_nan=True)


def test_per_run_parameters_agree_in_distribution_across_engines():
    loaded = scenario_from_dict(_coin_doc())
    runs = 2000
    rate = np.linspace(0.1, 0.9, runs)
    counts = {}
    for engine in ENGINES:
        ds = escalation.run(loaded, runs=runs, seed=5, params={"event_rate": rate}, engine=engine)
        counts[engine] = ds["final_state"].sel(variable="events").values
    # The mean count is 50 x mean rate = 25; each engine's sd of the mean is about 0.3.
    for engine in ENGINES:
        assert abs(counts[engine].mean() - 25.0) < 1.2
    # Runs with a high rate see more events than runs with a low one, in both engines.
    for c in counts.values():
        assert c[rate > 0.7].mean() - c[rate < 0.3].mean() > 20


def test_per_run_parameters_are_checked():
    loaded = scenario_from_dict(_coin_doc())
    with pytest.raises(ParameterError, match="length runs"):
        escalation.run(loaded, runs=10, seed=1, params={"event_rate": np.full(9, 0.5)})
    with pytest.raises(ParameterError, match="run 3 has 1.5"):
        escalation.run(loaded, runs=5, seed=1, params={"event_rate": [0.1, 0.2, 0.3, 1.5, 0.2]})
    with pytest.raises(ParameterError, match="outside its range"):
        escalation.run(loaded, runs=2, seed=1, params={"event_rate": [np.nan, 0.2]})


def test_graded_responses_are_renormalised_with_equal_shares_when_all_zero():
    from redline.escalation import rules

    assert np.allclose(rules.scripted_weights([0.2, 0.6], renormalise=True), [0.25, 0.75])
    assert [float(x) for x in rules.scripted_weights([0.0, np.nan], renormalise=True)] == [0.5, 0.5]
    assert np.isclose(sum(rules.logit_weights(2.0, [1.0, -1.0], nothing=False)), 1.0)


def test_uniforms_read_for_a_few_runs_are_the_block_draws_and_keep_streams_aligned():
    """Reading a site's uniforms for a few runs (jumping the stream over the others) gives the
    numbers a full-block draw gives them, and leaves the stream where the full draw leaves it,
    also after ended runs were dropped (``subset``)."""
    from redline.escalation.common import block_streams

    ss = np.random.SeedSequence(11)
    full, few = block_streams(ss, 0, 6000), block_streams(ss, 0, 6000)
    rows = np.array([3, 17, 5999])
    week1 = full.get("s").random(6000)
    assert np.array_equal(few.rows(rows).get("s").random(3), week1[rows])
    week2 = full.get("s").random(6000)
    assert few.rows(np.zeros(0, dtype=np.intp)).get("s").random(0).size == 0  # nothing read, stream moved on
    live = np.arange(0, 6000, 2)  # half the runs ended and were dropped
    full.subset = few.subset = live
    week3 = full.get("s").random(live.size)
    assert np.array_equal(few.rows(np.array([1, 2])).get("s").random(2), week3[[1, 2]])
    assert np.array_equal(full.get("s").random(live.size), few.get("s").random(live.size))  # still in step
    assert not np.array_equal(week1, week2)


@pytest.mark.parametrize("strategy", ["deniable", "loud"])
def test_records_written_on_their_rows_match_the_records_recomputed(example, strategy):
    """Outcome and red-line values are written only in the runs that reach them, and an action's
    value only where a response takes it: each week they equal what recomputing them from the
    records gives (1.0 from the week of first reaching, 0.0 before), also after compaction."""
    from redline.escalation import common, engine

    setup = common.make_setup(example.program, seed=3, horizon=60, strategies={"challenger": strategy}, params=None)
    p = example.program
    b = engine._Block(p, setup, 2000, 0)
    responders = {aid for rl in p.red_lines for aid, _ in rl.responses}
    seen = {"outcome": 0, "red_line": 0, "compacted": 0}
    with np.errstate(all="ignore"):
        b.initialise()
        for week in range(1, 61):
            before = {aid: b.action_count[aid].copy() for aid in responders}
            b.step(week)
            for o in p.outcomes:
                want = (~np.isnan(b.outcome_week[o.id])).astype(float)
                assert np.array_equal(b.values[o.id], want), (week, o.id)
                seen["outcome"] += int(np.any(b.outcome_week[o.id] == week))
            for rl in p.red_lines:
                want = (~np.isnan(b.red_line_week[rl.id])).astype(float)
                assert np.array_equal(b.values[rl.id], want), (week, rl.id)
                seen["red_line"] += int(np.any(b.red_line_week[rl.id] == week))
            for aid in responders:
                value = np.broadcast_to(b.values[aid], (b.n,))
                assert set(np.unique(value)) <= {0.0, 1.0}
                assert np.all(value[b.action_count[aid] > before[aid]] == 1.0), (week, aid)
            assert np.all(b.stopped_week[~b.alive & ~b.failed] <= week)
            if b.n >= 64 and np.count_nonzero(b.alive) < engine.COMPACT_BELOW * b.n:
                b.compact()
                seen["compacted"] += 1
    assert seen["outcome"] and seen["red_line"] and seen["compacted"]  # the paths were exercised


def test_idle_actions_move_their_streams_on_as_an_evaluation_would(example_doc, monkeypatch):
    """An action no run took moves its random sites on without being evaluated
    (``Expression.skip_draws``): the numbers are those of evaluating it for no run, for every
    random function, single and per-run rates, rates that switch to the normal approximation,
    windows and rates that draw (these two are still evaluated)."""
    from redline import expr

    example_doc["actions"]["overt_strike"]["effects"] = [
        {"var": "tension", "add": "poisson(2e6 * (week % 2)) / 1e6 + normal(0, 1) * uniform(0, 1) + bernoulli(0.5)"},
        {"var": "challenger_losses", "add": "poisson(tension * 1e5) + poisson(casualty_sensitivity * 500)"},
        {"var": "attacks", "add": "sum(poisson(0.5), last=2) + poisson(uniform(0, 2))"},
    ]
    example_doc["strategies"]["deniable"]["policy"]["probabilities"]["overt_strike"] = "if(week % 3 == 0, 0.5, 0)"
    scenario = scenario_from_dict(example_doc)

    def results(**params):
        ds = escalation.run(scenario, runs=300, horizon=12, seed=2, params=params)
        return {name: ds[name].values.copy() for name in ds.data_vars}

    per_run = {"casualty_sensitivity": np.linspace(0.001, 0.01, 300)}
    skipped, skipped_per_run = results(), results(**per_run)
    monkeypatch.setattr(expr.Expression, "skip_draws", lambda self, ctx: False)  # evaluate every time
    for fast, slow in ((skipped, results()), (skipped_per_run, results(**per_run))):
        assert fast.keys() == slow.keys()
        for name in fast:
            assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    monkeypatch.setattr(expr.Expression, "skip_draws", lambda self, ctx: True)  # streams left behind
    assert not np.array_equal(results()["final_state"], skipped["final_state"], equal_nan=True)


def test_parties_sharing_a_rule_share_its_values_but_not_its_draws(example_doc, monkeypatch):
    """A decision's parties that share a rule (the same text) share one evaluation of it, unless
    it draws or keeps windows: each party then keeps its own random site and window."""
    from redline.escalation import engine

    parties = example_doc["decisions"]["host_parliament"]["actors"]
    parties["government"]["position"] = parties["opposition"]["salience"] = "clip(20 + 1.5 * tension, 0, 100) / 100"
    parties["opposition"]["position"] = "clip(20 + 1.5 * tension, 0, 100) / 100"
    parties["militia_bloc"]["position"] = parties["militia_bloc"]["capability"] = "uniform(0, 100)"
    parties["government"]["capability"] = "uniform(0, 100)"
    parties["bloc_2"] = {"position": "uniform(0, 100)", "salience": "sum(tension, last=3) / 300", "capability": 20}
    parties["bloc_3"] = {"position": "uniform(0, 100)", "salience": "sum(tension, last=3) / 300", "capability": 20}
    scenario = scenario_from_dict(example_doc)

    def results():
        ds = escalation.run(scenario, runs=200, horizon=12, seed=4, trajectories=True)
        return ds["trajectory"].sel(variable="host_stance").values.copy()

    shared = results()

    def each_on_its_own(self, d):
        return [[e.evaluate(self.ctx) for e in group] for group in (d.positions, d.saliences, d.capabilities)]

    monkeypatch.setattr(engine._Block, "decision_inputs", each_on_its_own)
    assert np.array_equal(shared, results(), equal_nan=True)
    assert len(np.unique(shared[-1])) > 100  # the draws reach the stance


@pytest.mark.parametrize("scenario, strategies", [("proxy-deterrence", {"challenger": "deniable"}),
                                                  ("iran-us-2020", {"iran": "slow_drip"})])
def test_blocks_simulated_together_give_the_numbers_of_each_block_alone(monkeypatch, scenario, strategies):
    """Consecutive blocks simulated as one working set (``block_spans``) give every run the
    numbers it has when each block runs alone: per-run parameters, attributions in flight,
    compaction after absorbing outcomes, bargaining. Spans are split evenly and stay within
    the working-memory limit."""
    import redline.escalation.common as common

    monkeypatch.setattr(common, "BLOCK_RUNS", 300)
    monkeypatch.setattr(escalation, "BLOCK_RUNS", 300)
    loaded = load_scenario(scenario)
    runs = 1000  # blocks of 300, 300, 300 and 100
    name = next(iter(loaded.program.parameters))
    params = {name: np.linspace(*loaded.program.parameter_ranges[name], runs)}  # each run its own value
    kw = dict(runs=runs, horizon=60, seed=8, strategies=strategies, params=params)
    setup = common.make_setup(loaded.program, seed=8, horizon=60, strategies=strategies, params=params, runs=runs)
    one_block = common.memory_parts(loaded.program, setup, runs, False, span=1)
    per_block = one_block["windows"] + one_block["attribution"] + one_block["working state"]
    monkeypatch.setattr(common, "SPAN_BYTES", 2.5 * per_block)
    assert common.block_spans(loaded.program, setup, runs, False, 1 << 40) == [(0, 2), (2, 2)]
    assert common.block_spans(loaded.program, setup, runs, False, 1) == [(0, 1), (1, 1), (2, 1), (3, 1)]
    together = escalation.run(loaded, **kw)
    alone = escalation.run(loaded, blocks=[0, 1, 2, 3], **kw)
    for var in together.data_vars:
        assert np.array_equal(together[var].values, alone[var].values, equal_nan=True), var
