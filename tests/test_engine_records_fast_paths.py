"""The engine's fast paths for its records (first weeks, counts, responses, red lines, the
block's results) give the numbers of the general path, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from redline import escalation
from redline import expr as ex
from redline.escalation import arrays, common, engine
from redline.scenario import load_scenario, scenario_from_dict
from tests.test_engine_fast_paths import _EDGES, _block, _results, example  # noqa: F401 (example: a fixture)


def test_no_week_yet_finds_the_nans_isnan_finds():
    """``_no_week_yet`` (a comparison of a record with itself) is ``np.isnan``, for every kind of
    NaN (quiet, negative, signalling, other payloads) and every other double (±0, ±inf, denormals,
    weeks)."""
    payloads = np.array([0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF4000000000000,
                         0xFFFFFFFFFFFFFFFF], dtype=np.uint64).view(np.float64)
    records = np.concatenate([_EDGES, payloads, np.arange(105.0), [np.finfo(float).max, np.finfo(float).tiny]])
    np.random.default_rng(2).shuffle(records)
    assert np.array_equal(arrays.no_week_yet(records), np.isnan(records))
    assert arrays.no_week_yet(records).dtype == bool


@pytest.mark.parametrize("share", [0.0, 0.003, 0.4, 1.0])
def test_mask_bytes_count_and_cast_as_the_mask_does(share):
    """A mask's int8 bytes (``_mask_bytes``) cast to doubles and added to int32 counts give what
    the bool mask gives, also for a mask that is a strided view."""
    rng = np.random.default_rng(4)
    whole = rng.random(20001) < share
    for mask in (whole[:10000], whole[1::2]):
        counts, want = rng.integers(0, 50, mask.size).astype(np.int32), None
        want = counts + mask
        counts += arrays.mask_bytes(mask)
        assert np.array_equal(counts, want) and counts.dtype == np.int32
        as_float = arrays.mask_bytes(mask).astype(np.float64)
        assert np.array_equal(as_float.view(np.int64), mask.astype(float).view(np.int64))


def _indicator(n, rows):
    value = np.zeros(n)
    value[rows] = 1.0
    return value


def test_a_response_s_array_is_used_again_only_when_nobody_holds_it(example):
    """``response_marked`` on an action no run chose (its value the shared zeros) gives 1.0 in
    the responding runs and +0.0 elsewhere, bit for bit; it takes back the array of the action's
    earlier responses only when nothing else holds it, and never one made before a compaction."""
    b = _block(example, 40)
    aid = next(iter(example.program.actions))
    weeks = [np.array([1, 5, 9]), np.array([0, 5, 39]), np.array([2]), np.array([3, 4])]
    b.values[aid] = b.zeros()
    b.values[aid] = b.response_marked(aid, weeks[0])
    assert np.array_equal(b.values[aid].view(np.int64), _indicator(b.n, weeks[0]).view(np.int64))
    first_id = id(b.values[aid])
    b.values[aid] = b.zeros()  # the next week: nobody chose it
    b.values[aid] = b.response_marked(aid, weeks[1])
    assert id(b.values[aid]) == first_id  # taken back: only the spare held it
    assert np.array_equal(b.values[aid].view(np.int64), _indicator(b.n, weeks[1]).view(np.int64))
    held = b.values[aid]  # a window or a chooser holding the week's array
    b.values[aid] = b.zeros()
    b.values[aid] = b.response_marked(aid, weeks[2])
    assert b.values[aid] is not held and np.array_equal(held, _indicator(b.n, weeks[1]))
    assert np.array_equal(b.values[aid].view(np.int64), _indicator(b.n, weeks[2]).view(np.int64))
    del held
    b.alive[:30] = False
    b.compact()  # positions change: the spare is not used again
    b.values[aid] = b.zeros()
    b.values[aid] = b.response_marked(aid, np.array([0, 7]))
    assert np.array_equal(b.values[aid], _indicator(10, [0, 7]))


def _response_marked_anew(self, aid, rows):
    return self.marked(aid, rows)  # a new array for every response


@pytest.mark.parametrize("scenario, strategies", [("proxy-deterrence", {"challenger": "loud"}),
                                                  ("iran-us-2020", {"iran": "slow_drip"}),
                                                  ("iran-us-2020", {"iran": "rapid_overt"})])
def test_responses_marked_in_arrays_used_again_give_the_numbers_of_new_ones(monkeypatch, scenario, strategies):
    """Responses marked in an array taken back from an earlier week give the results of a new
    array for every response, bit for bit (responses week after week, with compaction)."""
    sc = load_scenario(scenario)
    kw = dict(runs=2500, horizon=104, seed=11, strategies=strategies, trajectories=False)
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, "response_marked", _response_marked_anew)
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    assert (fast["red_line_enforced"].sum(axis=-1) > 50).any()  # some red line answered in many runs


def test_responses_read_by_a_regime_give_the_numbers_of_new_arrays(example_doc, monkeypatch):
    """A regime whose hazard reads the response actions' values after the red lines (graded
    responses, week after week): the values of arrays taken back are those of new ones, so the
    results are the same."""
    example_doc["regimes"]["standoff"] = {"initial": False, "enter": "0.5 * retaliate + 0.2 * warning_strike",
                                          "exit": 0.3, "assumption": "reads the week's responses"}
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=2500, horizon=80, seed=4, strategies={"challenger": "deniable"})
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, "response_marked", _response_marked_anew)
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    assert (fast["red_line_enforced"].sum() > 200)


@pytest.mark.parametrize("compacted", [False, True])
def test_runs_written_out_land_in_their_block_positions(example, compacted):
    """``write_out`` of every working run puts each run's records at its position in the block:
    through a slice while no run was dropped, through the positions once some were (the ended
    runs' records, written at the compaction, stay as they were)."""
    b = _block(example, 400, "loud")
    with np.errstate(all="ignore"):
        for week in range(1, 20):
            b.step(week)
    b.stopped_week[:] = np.arange(b.n)  # a record that tells the runs apart
    if compacted:
        b.alive[::3] = False
        b.compact()
    b.write_out(slice(None))
    result = b.result
    assert np.array_equal(result["stopped_week"][b.idx], b.stopped_week)
    assert np.array_equal(result["final_state"][:, b.idx], b.state_matrix(), equal_nan=True)
    assert np.array_equal(result["action_count"][:, b.idx], np.stack(list(b.action_count.values())))
    for name, records, ids in (("outcome_week", b.outcome_week, [o.id for o in example.program.outcomes]),
                               ("red_line_week", b.red_line_week, [r.id for r in example.program.red_lines]),
                               ("red_line_firings", b.red_line_firings, [r.id for r in example.program.red_lines]),
                               ("regime_weeks", b.regime_weeks, [g.id for g in example.program.regimes])):
        assert np.array_equal(result[name][:, b.idx], np.stack([records[i] for i in ids]), equal_nan=True), name
        assert (result[name][:, b.idx] > 0).any(), name  # the records hold something to tell apart
    assert np.array_equal(result["stopped_week"], np.arange(400.0))  # the dropped runs too


@pytest.mark.parametrize("credibility", [0.0, 0.6, 1.0])
def test_a_red_line_s_constant_credibility_gives_the_numbers_of_an_expression(example_doc, credibility):
    """A credibility that is a number (the compiler keeps it within [0, 1]) is compared with the
    fired runs' draws as it is: the results of an expression with the same value in every
    fired run, bounds included."""
    red_line = example_doc["red_lines"]["two_attributed_attacks"]
    found = {}
    for text in (credibility, f"{credibility} + 0 * tension"):
        red_line["credibility"] = text
        program = scenario_from_dict(example_doc).program
        assert (program.red_lines[0].credibility.constant is not None) == (text == credibility)
        setup = common.make_setup(program, seed=8, horizon=60, strategies={"challenger": "loud"}, params=None)
        with np.errstate(all="ignore"):
            found[text] = engine.simulate_block(program, setup, 1500, 0, False, compact=False)
    number, expression = found.values()
    for key in ("final_state", "outcome_week", "red_line_week", "red_line_enforced", "red_line_firings", "action_count"):
        assert np.array_equal(number[key], expression[key], equal_nan=True), key
    assert number["clipped"] == expression["clipped"]
    assert int(number["red_line_firings"].sum()) > 100
    assert number["red_line_enforced"].any() == (credibility > 0)


def _regimes_over_every_run(self, week):
    """The regimes as the engine ran them before its fast path: both hazards evaluated for every
    run, one select between them, the records written through masks over every run."""
    ctx = self.ctx
    all_alive = bool(self.alive.all())
    ended = None if all_alive or not self.p.regimes else self.ended()
    for g in self.p.regimes:
        enter = g.enter.evaluate(ctx)
        leave = g.exit.evaluate(ctx)
        draw = self.streams.get(f"regime:{g.id}").random(self.n)
        inside = self.values[g.id] != 0
        self.note_clipped(g.enter, enter, lambda: self.alive & ~inside)
        self.note_clipped(g.exit, leave, lambda: self.alive & inside)
        now = (draw < np.where(inside, leave, enter)) ^ inside
        now = self.kept_where_ended(now, inside, ended)
        self.values[g.id] = now.astype(float)
        first_week = self.regime_week[g.id]
        first_week[(now & arrays.no_week_yet(first_week)).nonzero()[0]] = float(week)
        self.regime_weeks[g.id] += now if all_alive else now & self.alive


@pytest.mark.parametrize("regime", [
    # most runs outside, hazards that leave [0, 1] (clipped, and counted) and read the state
    {"initial": False, "enter": "tension / 40 - 0.5", "exit": "if(tension < 30, 1.5, -0.1 + tension / 200)"},
    # most runs inside: the exit hazard is the one read for every run, the enter one in few runs
    {"initial": True, "enter": "0.9 - tension / 50", "exit": "tension / 100 - 0.2"},
    # hazards that draw and keep windows: evaluated for every run either way
    {"initial": True, "enter": "uniform(0, 1.2) * 0.5", "exit": "sum(tension, last=3) / 300 + bernoulli(0.1)"},
    # numbers
    {"initial": False, "enter": 0.2, "exit": 0.3},
])
def test_regimes_give_the_numbers_of_both_hazards_over_every_run(example_doc, monkeypatch, regime):
    """The regimes' fast path (the smaller side's hazard evaluated in its runs alone, no select,
    records written in the runs inside) gives the results and clipping counts of both hazards
    evaluated for every run, with runs ending and compaction, both ways round."""
    example_doc["regimes"]["standoff"] = {**regime, "assumption": "a test"}
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=3000, horizon=80, seed=6, strategies={"challenger": "loud"})
    fast = escalation.run(sc, **kw)
    monkeypatch.setattr(engine._Block, "run_regimes", _regimes_over_every_run)
    slow = escalation.run(sc, **kw)
    for name in fast.data_vars:
        assert np.array_equal(fast[name].values, slow[name].values, equal_nan=True), name
    assert fast.attrs["clipped_probabilities"] == slow.attrs["clipped_probabilities"]
    weeks = fast["regime_weeks"].sel(regime="standoff").values
    assert 0 < weeks.mean() < 79  # runs both inside and outside


@pytest.mark.parametrize("strategy", ["deniable", "loud"])
def test_regimes_drawn_where_runs_can_switch_and_their_runs_found_once_give_the_numbers_of_every_run(
        example_doc, monkeypatch, strategy):
    """A regime drawn only in the runs that can switch (an enter hazard above 0, or inside; see
    ``switched``), and the runs inside a regime found once a week by ``run_regimes`` and read
    again by its next draw and by the processes that run in it (``when: war``, ``when:
    standoff``, one of whose values is computed for every run), give the results of drawing for
    every run and finding the runs inside afresh each time, bit for bit, with runs ending (an
    ended run drawn stays as it was) and compaction. Every way is taken: draws for some runs and
    for all of them, runs found once and found afresh (the first week, after a compaction)."""
    example_doc["regimes"]["standoff"] = {"initial": True, "enter": "0.9 - tension / 50",
                                          "exit": "tension / 100 - 0.2", "assumption": "a test: most runs inside"}
    example_doc["regimes"]["stranded"] = {"initial": False, "enter": "if(defender_presence <= 0, 0.6, 0)",
                                          "exit": 0.5, "assumption": "a test: entered in few runs, most of them ended"}
    example_doc["processes"]["standoff_strain"] = {"when": "standoff", "add": {"tension": "0.01 * tension"},
                                                   "set": {"host_stance": "host_stance + 0.5"},
                                                   "assumption": "a test: a value computed for every run"}
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=3000, horizon=80, seed=6, strategies={"challenger": strategy})
    draws, found = [], []
    draw, inside = engine._Block.draw, engine._Block.regime_inside

    def counted_draw(self, site, rows=None):
        if site.startswith("regime:"):
            draws.append(rows is None)
        return draw(self, site, rows)

    def counted_inside(self, gid):
        seen = self.regime_seen.get(gid)
        found.append(seen is not None and seen[0] is self.values[gid])
        return inside(self, gid)

    monkeypatch.setattr(engine._Block, "draw", counted_draw)
    monkeypatch.setattr(engine._Block, "regime_inside", counted_inside)
    fast = escalation.run(sc, **kw)
    monkeypatch.setattr(engine._Block, "run_regimes", _regimes_over_every_run)
    monkeypatch.setattr(ex.Expression, "variable", property(lambda self: None))  # processes read their conditions
    slow = escalation.run(sc, **kw)
    for name in fast.data_vars:
        assert np.array_equal(fast[name].values, slow[name].values, equal_nan=True), name
    assert fast.attrs["clipped_probabilities"] == slow.attrs["clipped_probabilities"]
    assert True in draws and False in draws
    assert True in found and False in found
    assert fast["stopped_week"].notnull().mean() > 0.1  # runs ended (and were compacted away)


@pytest.mark.parametrize("strategy", ["loud", "deniable"])
def test_regime_records_written_through_masks_give_the_numbers_of_writing_them_in_their_runs(example_doc, monkeypatch,
                                                                                              strategy):
    """A regime's records (first weeks, weeks inside) written through masks over every run when
    many runs are inside (``MARKED_SHARE``) give the results of writing them in those runs
    alone, bit for bit, and so does the mix the default share gives (loud: half the runs at war
    at times; a regime entered in few runs), with runs ending and compaction."""
    example_doc["regimes"]["stranded"] = {"initial": False, "enter": "if(defender_presence <= 0, 0.6, 0)",
                                          "exit": 0.5, "assumption": "a test: entered in few runs"}
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=3000, horizon=80, seed=8, strategies={"challenger": strategy})
    results, shares = {}, (engine.MARKED_SHARE, 0, 10**9)  # the default, never through masks, whenever a run is in
    for share in shares:
        monkeypatch.setattr(engine, "MARKED_SHARE", share)
        results[share] = _results(sc, **kw)
    for name in results[0]:
        for share in shares:
            assert np.array_equal(results[share][name], results[0][name], equal_nan=True), name
    assert results[0]["regime_weeks"].sum() > 1000


@pytest.mark.parametrize("once, cooldown", [(True, 0), (False, 2), (True, 3)])
def test_a_red_line_s_rest_read_in_some_runs_is_its_rest_over_every_run(example_doc, once, cooldown):
    """``can_fire`` read in the runs where a red line's condition holds (the records cut to them)
    gives the truth values of ``can_fire`` over every run cut there, week after week, for a red
    line that is spent after firing, one that rests, and both."""
    red_line = example_doc["red_lines"]["two_attributed_attacks"]
    red_line["once"], red_line["cooldown_weeks"] = once, cooldown
    program = scenario_from_dict(example_doc).program
    setup = common.make_setup(program, seed=3, horizon=60, strategies={"challenger": "loud"}, params=None)
    b = engine._Block(program, setup, 2000, 0)
    b.initialise()
    rl = program.red_lines[0]
    rng = np.random.default_rng(1)
    resting = 0
    with np.errstate(all="ignore"):
        for week in range(1, 60):
            b.step(week)
            b.ctx.week = week + 1
            every = np.broadcast_to(b.can_fire(rl), (b.n,))
            rows = np.sort(rng.choice(b.n, size=b.n // 3, replace=False))
            assert np.array_equal(b.can_fire(rl, rows), every[rows])
            resting += int(b.n - np.count_nonzero(every))
    assert resting > 1000  # many runs spent or resting


def _growing_doc() -> dict:
    """A weekly count that some runs blow up to infinity (they fail and stop, in different weeks),
    a flow, and an absorbing outcome that ends other runs from week 21: the ways runs leave the
    working arrays."""
    return {
        "meta": {"id": "growing", "title": "growing", "as_of": "2020-01-06", "step": "week", "horizon": 40},
        "actors": {"nature": {"name": "Nature", "kind": "other", "assumption": "test",
                              "policy": {"kind": "scripted", "probabilities": {"event": 0.3}}}},
        "state": {
            "events": {"type": "real", "initial": "uniform(0, 2)", "assumption": "test"},
            "week_events": {"type": "counter", "initial": 0, "flow": True, "assumption": "test"},
            "grower": {"type": "real", "initial": "uniform(0, 1)", "assumption": "test"},
        },
        "actions": {"event": {"actor": "nature", "effects": [{"var": "events", "add": 1},
                                                              {"var": "week_events", "add": 1}],
                              "assumption": "test"}},
        "processes": {"growth": {"when": "grower > 0.7", "set": {"events": "events * events * 1000 + 2"},
                                 "assumption": "test"}},
        "outcomes": {"many": {"condition": "week > 20 and grower < 0.7 and events > 3", "absorbing": True,
                              "description": "test", "assumption": "test"}},
    }


def _physics_doc() -> dict:
    """:func:`_growing_doc` with a process without a condition, written first, whose value is
    outside its function's domain (a NaN assay) in the runs that failed (``events`` infinite):
    computed for every run it raises, and is computed again in the live runs alone."""
    doc = _growing_doc()
    doc["state"]["breakout"] = {"type": "real", "initial": 0, "assumption": "test"}
    doc["processes"] = {"physics": {"set": {"breakout": "breakout_days(1000, 10, 50 - 0 * events)"},
                                    "assumption": "test"},
                        **doc["processes"]}
    return doc


def _without_dense_plans(init):
    def made(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.process_plans = [(*plan[:3], False) for plan in self.process_plans]

    return made


@pytest.mark.parametrize("scenario, strategies", [("proxy-deterrence", {"challenger": "loud"}),
                                                  ("proxy-deterrence", {"challenger": "deniable"}),
                                                  ("physics", None)])
def test_processes_computed_for_every_run_without_the_live_runs_positions_give_the_numbers_of_finding_them(
        monkeypatch, scenario, strategies):
    """A process without a condition whose every value is computed for every run once most runs
    are live (no number written, no draw) reads the live runs' positions only when a value must
    be computed in those runs alone (outside a function's domain in a failed run): the results
    are those of finding them every week, bit for bit, with runs ending, failing and compacted."""
    sc = load_scenario(scenario) if scenario != "physics" else scenario_from_dict(_physics_doc())
    kw = dict(runs=3000, horizon=60, seed=12, strategies=strategies)
    read, evaluate_rows = [], engine._Block.evaluate_rows

    def counted(self, e, rows, **kwargs):
        read.append(e.text)
        return evaluate_rows(self, e, rows, **kwargs)

    monkeypatch.setattr(engine._Block, "evaluate_rows", counted)
    fast = _results(sc, **kw)
    fast_reads = list(read)
    read.clear()
    monkeypatch.setattr(engine._Block, "__init__", _without_dense_plans(engine._Block.__init__))
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    assert np.isfinite(fast["stopped_week"]).any()
    decay = "tension * 0.9" if scenario != "physics" else "breakout_days(1000, 10, 50 - 0 * events)"
    assert 0 < read.count(decay)  # the general path computed it for the live runs
    if scenario == "physics":
        assert fast["failed"].any() and 0 < fast_reads.count(decay) < read.count(decay)  # the fallback, sometimes
    else:
        assert decay not in fast_reads


@pytest.mark.parametrize("scenario", ["proxy-deterrence", "growing"])
def test_the_ended_runs_found_once_per_change_are_the_ended_runs_whenever_asked(monkeypatch, scenario):
    """``ended`` keeps the ended runs it found until ``alive`` changes (absorbing outcomes,
    failed runs, compaction): every time it is asked it gives what a fresh look at ``alive``
    gives, and the results are those of looking afresh every time."""
    from redline.scenario import scenario_from_dict

    sc = load_scenario(scenario) if scenario != "growing" else scenario_from_dict(_growing_doc())
    kw = dict(runs=3000, horizon=60, seed=12)
    cached = escalation.run(sc, **kw)
    asked = []

    def checked(self):
        fresh = (~self.alive).nonzero()[0]
        found = kept(self)
        asked.append(found.size)
        assert np.array_equal(found, fresh) and not found.flags.writeable
        return found

    kept = engine._Block.ended
    monkeypatch.setattr(engine._Block, "ended", checked)
    again = escalation.run(sc, **kw)
    assert any(asked)  # runs did end, and were asked for
    if scenario == "growing":
        assert cached["failed"].values.any() and (~cached["failed"].values & cached["outcome_occurred"].values[0]).any()
    for name in cached.data_vars:
        assert np.array_equal(cached[name].values, again[name].values, equal_nan=True), name


def _outcomes_doc() -> dict:
    """``_growing_doc`` (runs that fail in different weeks, an absorbing outcome) with outcomes
    reached in different weeks: two absorbing ones that can end a run in the same week, conditions
    over windows (``ever``) listed before and after them, one read at a single week, one whose
    value a process reads."""
    doc = _growing_doc()
    doc["outcomes"] = {
        "busy": {"condition": "ever(week_events > 0 and events > 3)", "assumption": "test"},
        "many": {"condition": "week > 20 and grower < 0.7 and events > 3", "absorbing": True, "assumption": "test"},
        "lots": {"condition": "week > 15 and events > 5", "absorbing": True, "assumption": "test"},
        "dated": {"condition": "events > 2", "on": "2020-03-16", "assumption": "test"},
        "twice": {"condition": "events > 4 and week_events > 0", "assumption": "test"},
        "ever_busy": {"condition": "ever(busy)", "assumption": "test"},
    }
    doc["processes"]["after"] = {"when": "twice", "add": {"grower": 0.01}, "assumption": "test"}
    return doc


def _block_results(sc, strategies, *, runs=3000, horizon=60, compact=True):
    setup = common.make_setup(sc.program, seed=9, horizon=horizon, strategies=strategies, params=None)
    return engine.simulate_block(sc.program, setup, runs, 0, False, compact=compact)


@pytest.mark.parametrize("scenario, strategy", [("proxy-deterrence", "deniable"), ("proxy-deterrence", "loud"),
                                                ("outcomes", None)])
@pytest.mark.parametrize("compact", [True, False])
def test_flows_set_aside_as_runs_end_give_the_results_of_flows_kept_in_place(monkeypatch, scenario, strategy, compact):
    """The flows of runs that end (absorbing outcomes in different weeks, failed runs), set aside
    as they end while the working arrays reset them like everyone's, give the final states (and
    every other result) of carrying the ended runs' flows over week after week, with or without
    compaction."""
    sc = load_scenario(scenario) if scenario != "outcomes" else scenario_from_dict(_outcomes_doc())
    strategies = {"challenger": strategy} if strategy else None
    set_aside = []
    real = engine._Block.set_flows_aside

    def noted(self):
        real(self)
        set_aside.append(self.ended_flows is not None)

    monkeypatch.setattr(engine._Block, "set_flows_aside", noted)
    fast = _block_results(sc, strategies, compact=compact)
    assert set_aside == [True]
    monkeypatch.setattr(engine._Block, "set_flows_aside", lambda self: None)
    slow = _block_results(sc, strategies, compact=compact)
    for name, value in slow.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(fast[name], value, equal_nan=True), name
    stopped = fast["stopped_week"]
    assert len(np.unique(stopped[~np.isnan(stopped)])) > 5  # runs ended in many weeks
    flows = [i for i, v in enumerate(sc.program.variables) if v in sc.program.flows]
    ended = ~np.isnan(stopped)
    assert (fast["final_state"][flows][:, ended] != 0).any()  # ended runs' flows held something
    if scenario == "outcomes":
        assert fast["failed"].any()


def test_flows_are_kept_in_place_when_they_start_infinite_somewhere(example_doc):
    """A flow that starts infinite in some runs (a process then sets it finite every week) stays
    in the working arrays of the runs that end: reset to its start, an ended run would fail."""
    example_doc["state"]["casualties_week"]["initial"] = "if(uniform(0, 1) > 0.8, 1e15 ** 30, 0)"
    example_doc["processes"] = {"cap": {"set": {"casualties_week": "min(casualties_week, 50)"}, "assumption": "test"},
                                **example_doc["processes"]}
    sc = scenario_from_dict(example_doc)
    setup = common.make_setup(sc.program, seed=9, horizon=40, strategies=None, params=None)
    b = engine._Block(sc.program, setup, 500, 0)
    with np.errstate(over="ignore"):  # 1e15 ** 30 overflows as it is evaluated: on purpose
        b.initialise()
    assert np.isinf(b.flow_start["casualties_week"]).any()
    b.set_flows_aside()
    assert b.ended_flows is None
    result = engine.simulate_block(sc.program, setup, 2000, 0, False)
    assert not result["failed"].any() and (~np.isnan(result["stopped_week"])).any()


def _huge_doc() -> dict:
    """``_growing_doc`` with a variable so large in every run that the sum of its values overflows
    (no run holds anything but finite numbers there): runs fail in different weeks, and the quick
    test of the other weeks overflows too."""
    doc = _growing_doc()
    doc["state"]["huge"] = {"type": "real", "initial": "(0.5 + uniform(0, 1)) * 1e15 ** 20 * 1e7", "assumption": "test"}
    doc["processes"]["shrink"] = {"set": {"huge": "huge * 0.999"}, "assumption": "test"}
    return doc


@pytest.mark.parametrize("scenario", ["proxy-deterrence", "growing", "huge"])
@pytest.mark.parametrize("runs", [40, 3000])
def test_changed_variables_summed_as_one_array_fail_the_runs_summed_one_by_one_fail(monkeypatch, scenario, runs):
    """``check_finite`` over few runs joins the changed variables and sums them once, and over
    many sums each with ``np.einsum``: the runs that fail (in different weeks, or none where a sum
    overflows over finite values) and every other result are those of summing each variable
    alone with ``np.add.reduce``, whichever way is taken at any size."""
    docs = {"growing": _growing_doc, "huge": _huge_doc}
    sc = load_scenario(scenario) if scenario not in docs else scenario_from_dict(docs[scenario]())
    kw = dict(runs=runs, horizon=60, seed=3)
    found = {}
    ways = {"one by one": (0, 10**12), "einsum": (0, 0), "as set": (engine.JOINED_CHECK, engine.SUMMED_BY_EINSUM),
            "joined": (10**12, 0)}
    for way, (joined, einsum) in ways.items():
        monkeypatch.setattr(engine, "JOINED_CHECK", joined)
        monkeypatch.setattr(engine, "SUMMED_BY_EINSUM", einsum)
        found[way] = _results(sc, **kw)
    for name, value in found["one by one"].items():
        for way in found:
            assert np.array_equal(found[way][name], value, equal_nan=True), (name, way)
    if scenario != "proxy-deterrence":
        failed = found["one by one"]["failed"]
        assert failed.any() and not failed.all()
        assert len(np.unique(found["one by one"]["stopped_week"][failed])) > 1 or runs < 100  # in different weeks
    if scenario == "huge":
        huge = found["one by one"]["final_state"][list(sc.program.variables).index("huge")]
        with np.errstate(over="ignore"):  # the sums overflow: on purpose
            assert np.isfinite(huge).all() and np.isinf(np.add.reduce(huge)) and np.isinf(np.einsum("i->", huge))


def _record_outcomes_over_every_run(self, week):
    """The general way: an outcome is first reached where its condition holds, the run is alive
    and its record of first weeks holds no week yet, all three read over every run every week."""
    ending = []
    for o in self.p.outcomes:
        if o.week is not None and o.week != week:
            self.pass_unread(o.condition)
            continue
        cond = o.condition.evaluate_truth(self.ctx)
        first_week = self.outcome_week[o.id]
        first = (cond & self.alive & np.isnan(first_week)).nonzero()[0]
        if first.size:
            first_week[first] = float(week)
            self.values[o.id] = self.marked(o.id, first)
            if o.absorbing:
                ending.append(first)
    if ending:
        rows = np.concatenate(ending)
        self.stopped_week[rows] = float(week)
        self.end(rows)


@pytest.mark.parametrize("scenario, strategy", [("proxy-deterrence", "deniable"), ("proxy-deterrence", "loud"),
                                                ("outcomes", None)])
@pytest.mark.parametrize("compact", [True, False])
def test_outcomes_first_reached_where_still_unreached_give_the_records_of_every_run(monkeypatch, scenario, strategy,
                                                                                    compact):
    """The outcomes first reached are found in the runs where each is still unreached (alive, no
    week for it yet), kept as runs reach it, end (absorbing outcomes, failed runs) or are
    dropped: the records are those of reading ``alive`` and the first weeks over every run."""
    sc = load_scenario(scenario) if scenario != "outcomes" else scenario_from_dict(_outcomes_doc())
    kw = dict(runs=3000, horizon=60, seed=8, strategies={"challenger": strategy} if strategy else None)
    if not compact:  # trajectories keep every run in the working arrays
        kw["trajectories"] = True
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, "record_outcomes", _record_outcomes_over_every_run)
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    reached_in = [len(np.unique(w[~np.isnan(w)])) for w, o in zip(fast["outcome_week"], sc.program.outcomes)
                  if o.week is None]
    assert min(reached_in) > 3  # first reached in many different weeks
    if scenario == "outcomes":
        assert fast["failed"].any() and (fast["outcome_occurred"][1] & fast["outcome_occurred"][2]).any()
