"""The week's choice in the vectorised engine: its shortcuts against the general computation.

The engine decides once per block which options of a track can weigh anything (a scripted
probability that is missing or the number 0, an availability that is the constant ``false``:
those options are never chosen, so their weights are not computed) and skips passes that change
no choice (clipping a probability already inside [0, 1], multiplying by an availability that
holds everywhere, masking a lone option's weight, one exponential for a lone logit option);
utilities that are the same in every run are numbers, and the look-ahead evaluates only the
effects a red line's condition can see (and those that draw or keep windows). These tests
run scenarios whose probabilities leave [0, 1], are NaN or exactly 0, whose tracks sum past 1 and
whose runs end, once as the engine runs them and once with every option weighed by
:func:`rules.scripted_weights` and :func:`rules.logit_weights` as they are written, and ask for
the same numbers, bit for bit.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from redline import escalation
from redline.escalation import arrays, engine, plans, rules
from redline.scenario import scenario_from_dict
from redline.scenario.compile import option_id

A = "test assumption"


def _general_paths(monkeypatch) -> None:
    """Make every option of every track weigh and read every availability, choose every track
    by its masked weights (:meth:`_Block.pick`), computed by :func:`rules.scripted_weights` and
    the logit formula as written, from utilities that are arrays over the runs even where every
    run has the same value; let the look-ahead evaluate every effect of an option."""
    plan_init = plans.TrackPlan.__init__

    def every_option(self, program, policy, actor, track, action_ids):
        plan_init(self, program, policy, actor, track, action_ids)
        self.weighed = list(self.options)
        self.probabilities = [policy.probabilities.get(option_id(program.actions[aid], level))
                              for aid, level in self.options] if policy.kind == "scripted" else []
        self.read = list(self.action_ids)
        self.moving = []
        self.never_chosen = False
        self.level_arrays = [aid for aid in self.action_ids if program.actions[aid].levels]

    def written_weights(self, plan, avail, everyone):
        probabilities = []
        for (aid, _), e in zip(plan.weighed, plan.probabilities):
            raw = np.zeros(self.n) if e is None else e.evaluate(self.ctx)
            if e is not None:
                self.note_clipped(e, raw, avail[aid])
            probabilities.append(raw)
        return rules.scripted_weights(probabilities, [avail[aid] for aid, _ in plan.weighed]), None

    def pick_anyway(self, plan, policy, avail, everyone):
        if policy.kind == "scripted":
            return self.pick(plan, *self.track_weights(plan, avail, everyone))[0]
        return self.pick(plan, self.logit_weights(policy, plan.weighed, avail))[0]

    def every_effect(program, relevant):
        return {aid: tuple(range(len(action.effects))) for aid, action in program.actions.items()}

    monkeypatch.setattr(engine, "seen_effects", every_effect)
    monkeypatch.setattr(engine._Block, "value_of", lambda self, e: e.evaluate(self.ctx))
    monkeypatch.setattr(plans.TrackPlan, "__init__", every_option)
    monkeypatch.setattr(engine._Block, "lone_choice", pick_anyway)
    monkeypatch.setattr(engine._Block, "track_weights", written_weights)
    monkeypatch.setattr(rules, "logit_weights", _written_logit_weights)


def _written_logit_weights(rationality, utilities, available=None, *, nothing=True):
    """rules.logit_weights as the formula reads, for every number of options."""
    lam = rules.sanitise_utility(rationality)
    scores = [lam * rules.sanitise_utility(u) for u in utilities]
    if available is not None:
        scores = [np.where(ok, s, -np.inf) for s, ok in zip(scores, available)]
    if not scores:
        return []
    top = scores[0]
    for s in scores[1:]:
        top = np.maximum(top, s)
    if nothing:
        top = np.maximum(top, 0.0)
    exps = [np.exp(s - top) for s in scores]
    denom = (np.exp(-top) if nothing else 0.0) + rules.sum_in_order(exps)
    return [e / denom for e in exps]


def _edge_doc(example_doc: dict) -> dict:
    """The example with choices at the edges: a scripted challenger whose probabilities leave
    [0, 1], are NaN or 0 and sum past 1; a dead track whose availability keeps a window; an
    option that is never available beside a live one under the defender's logit policy; runs
    that end (absorbing) early and often."""
    doc = example_doc
    doc.pop("decisions", None)
    doc["actors"]["challenger"]["policy"] = {"kind": "scripted", "probabilities": {
        "proxy_attack": "(tension - 12) / 40",  # below 0, then above 1
        "overt_strike": "if(public_support < 0.4, 0.6, sqrt(0.53 - public_support) / 2)",  # NaN above 0.53
        "sabotage": 0,
        "propaganda": 0.4,
    }}
    doc["strategies"] = {}
    doc["actors"]["challenger"].pop("strategy")
    doc["actions"]["sabotage"] = {  # a track of its own that no run can take (probability 0)
        "actor": "challenger", "track": "covert", "escalation": 5, "assumption": A,
        "available": "count(proxy_attack, last=3) < 2",
        "effects": [{"var": "tension", "add": 50}]}
    doc["actions"]["propaganda"] = {  # a lone number: weighs only where available
        "actor": "challenger", "track": "media", "escalation": 1, "assumption": A,
        "available": "tension < 40",
        "effects": [{"var": "public_support", "add": -0.002}]}
    doc["actions"]["sanction"] = {  # never available, beside draw_down under a logit policy
        "actor": "defender", "track": "posture", "escalation": 3, "assumption": A,
        "available": "false",
        "effects": [{"var": "tension", "add": -5}]}
    doc["actions"]["draw_down"]["effects"] = [{"var": "defender_presence", "add": -150}]
    doc["actors"]["defender"]["policy"]["utilities"]["draw_down"] = "4 * (0.4 - public_support)"
    return doc


def _numbers(ds) -> dict:
    out = {name: ds[name].values for name in ds.data_vars}
    out["clipped"] = json.loads(ds.attrs["clipped_probabilities"])
    return out


def _assert_same(fast: dict, general: dict) -> None:
    assert fast["clipped"] == general["clipped"]
    for name, value in general.items():
        if name != "clipped":
            np.testing.assert_array_equal(fast[name], value, err_msg=name)


@pytest.mark.parametrize("runs", [1, 700])
def test_choices_are_those_of_the_general_computation_at_the_edges(example_doc, monkeypatch, runs):
    loaded = scenario_from_dict(_edge_doc(example_doc))
    kw = dict(runs=runs, horizon=104, seed=3)
    fast = _numbers(escalation.run(loaded, **kw))
    with monkeypatch.context() as m:
        _general_paths(m)
        general = _numbers(escalation.run(loaded, **kw))
    _assert_same(fast, general)
    if runs > 1:  # the edges were reached
        assert fast["clipped"], "no probability left [0, 1]"
        ended = np.isfinite(fast["stopped_week"])
        assert runs // 2 < np.count_nonzero(ended) < runs, "too few runs ended to drop them, or all did"
        counts = dict(zip(loaded.program.actions, fast["action_count"].sum(axis=1)))
        assert counts["sabotage"] == 0 and counts["sanction"] == 0
        assert counts["proxy_attack"] > 0 and counts["overt_strike"] > 0 and counts["propaganda"] > 0
        assert counts["draw_down"] > 0


@pytest.mark.parametrize("strategy", ["deniable", "loud", "chooser"])
def test_the_example_chooses_as_the_general_computation(example_doc, monkeypatch, strategy):
    """The example's own policies, graded responses and anticipation included."""
    loaded = scenario_from_dict(example_doc)
    kw = dict(runs=500, horizon=60, seed=8, strategies={"challenger": strategy})
    fast = _numbers(escalation.run(loaded, **kw))
    with monkeypatch.context() as m:
        _general_paths(m)
        general = _numbers(escalation.run(loaded, **kw))
    _assert_same(fast, general)


def test_a_lone_logit_option_weighs_as_the_written_formula_bit_for_bit():
    """One option against 'do nothing' takes one exponential instead of two: the same bits, at
    ±0, tiny and huge scores, where exp underflows, unavailable (-inf) and for Python floats."""
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(0, 1, 2000), rng.normal(0, 300, 2000), rng.normal(0, 1e-300, 100),
                             [0.0, -0.0, 5e-324, -5e-324, 1e12, -1e12, 745.2, -745.2, 709.9, -709.9]])
    available = rng.random(scores.size) < 0.7
    for lam in (1.0, 2.5, 0.0, -3.0, np.nan, np.inf, rng.normal(0, 2, scores.size)):
        for ok in (None, [available]):
            fast = rules.logit_weights(lam, [scores], ok)[0]
            assert fast.tobytes() == _written_logit_weights(lam, [scores], ok)[0].tobytes(), lam
    for x in (0.0, -0.0, 1.5, -1.5, 800.0, -800.0):
        fast = rules.logit_weights(2.0, [x])[0]
        written = _written_logit_weights(2.0, [x])[0]
        assert float(fast) == float(written) and np.signbit(fast) == np.signbit(written)


def test_the_flagship_chooses_as_the_general_computation(monkeypatch):
    """The flagship's logit choosers anticipate several red lines over tracks of many options."""
    from redline.scenario import load_scenario

    loaded = load_scenario("iran-us-2020")
    kw = dict(runs=200, horizon=60, seed=7)
    fast = _numbers(escalation.run(loaded, **kw))
    with monkeypatch.context() as m:
        _general_paths(m)
        general = _numbers(escalation.run(loaded, **kw))
    _assert_same(fast, general)


def test_the_look_ahead_stays_in_expected_mode(monkeypatch):
    """A red line's logit owner weighed inside a chooser's look-ahead (response_value ->
    response_shares -> logit_utilities) leaves the chooser in expected mode: its later options are
    weighed on means, not random draws, and nothing is committed to windows."""
    from redline.scenario import load_scenario

    modes = []
    anticipated = engine._Block.anticipated

    def watched(self, aid, level, policy):
        modes.append((self.ctx.expected, self.ctx.commit))
        return anticipated(self, aid, level, policy)

    monkeypatch.setattr(engine._Block, "anticipated", watched)
    escalation.run(load_scenario("iran-us-2020"), runs=50, horizon=20, seed=7)
    assert modes and all(mode == (True, False) for mode in modes)


def test_a_lone_logit_option_available_in_few_runs_is_weighed_there_alone(example_doc, monkeypatch):
    """The defender's draw_down, available only where support has fallen below one half (few runs
    early, more later): weighed and drawn for the runs where it is available alone in the weeks
    where they are fewer than half, over every run in the others; the numbers of the general
    computation, bit for bit, with a rationality that is one number or one per run."""
    calls = []
    choice_at = engine._Block.choice_at

    def counted(self, plan, rows, weight):
        calls.append(rows.size < self.n)
        return choice_at(self, plan, rows, weight)

    for rationality in (2.0, "1.5 + tension / 50"):
        example_doc["actors"]["defender"]["policy"]["rationality"] = rationality
        loaded = scenario_from_dict(example_doc)
        kw = dict(runs=600, horizon=80, seed=9, strategies={"challenger": "deniable"})
        with monkeypatch.context() as m:
            m.setattr(engine._Block, "choice_at", counted)
            fast = _numbers(escalation.run(loaded, **kw))
        assert calls and all(calls), "never weighed in few runs"
        few = len(calls)
        with monkeypatch.context() as m:
            _general_paths(m)
            general = _numbers(escalation.run(loaded, **kw))
        _assert_same(fast, general)
        assert few < 80, "weighed in few runs every week: the dense weeks were not seen"
        calls.clear()


@pytest.mark.parametrize("strategy", ["slow_drip", "rapid_overt"])
def test_a_track_that_never_chooses_leaves_its_stream_and_changes_no_number(monkeypatch, strategy):
    """The flagship's tracks whose options can never weigh anything (availability ``false``)
    read their uniforms in no week: their streams do not move, and every number is the one of
    moving them on every week as a track that chooses does."""
    from redline.scenario import load_scenario

    loaded = load_scenario("iran-us-2020")
    kw = dict(runs=300, horizon=60, seed=5, strategies={"iran": strategy})
    fast = _numbers(escalation.run(loaded, **kw))
    pass_unchosen = engine._Block.pass_unchosen
    moved = []

    def moving_anyway(self, plan, scheduled, taken, levels):
        if plan.never_chosen:
            moved.append(plan.site)
            self.draw(plan.site, arrays.NO_ROWS)
        pass_unchosen(self, plan, scheduled, taken, levels)

    monkeypatch.setattr(engine._Block, "pass_unchosen", moving_anyway)
    general = _numbers(escalation.run(loaded, **kw))
    assert moved  # the flagship has such tracks
    _assert_same(fast, general)
