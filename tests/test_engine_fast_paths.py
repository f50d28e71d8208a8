"""The vectorised engine's fast paths give the numbers of the general path, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from redline import escalation
from redline.escalation import arrays, common, engine
from redline.escalation.pending import PendingRing
from redline.scenario import load_scenario, scenario_from_dict
from redline.scenario.compile import expressions_in


@pytest.fixture(scope="module")
def example():
    return load_scenario("proxy-deterrence")


def _block(example, runs=500, strategy="deniable"):
    setup = common.make_setup(example.program, seed=5, horizon=30, strategies={"challenger": strategy}, params=None)
    b = engine._Block(example.program, setup, runs, 0)
    b.initialise()
    return b


def _results(scenario, **kw):
    ds = escalation.run(scenario, **kw)
    return {name: ds[name].values.copy() for name in ds.data_vars}


def test_an_array_held_elsewhere_is_copied_and_one_held_by_nobody_changed_in_place(example):
    """``copy_of`` hands back the variable's own array only when nothing but the values hold it
    (or :meth:`check_finite`'s record, which it then drops); a read-only array, a view and an
    array anyone else holds are copied, and keep their values after the write."""
    b = _block(example)
    rows = np.array([0, 7])
    b.values["tension"] = np.arange(b.n, dtype=float)
    held = b.values["tension"]
    b.write_rows("tension", "set", rows, np.array([50.0, 60.0]))
    assert b.values["tension"] is not held and held[7] == 7.0 and b.values["tension"][7] == 60.0
    del held
    own = b.values["tension"]
    own_id = id(own)
    del own
    b.write_rows("tension", "add", rows, 1.0)
    assert id(b.values["tension"]) == own_id and b.values["tension"][7] == 61.0  # in place
    # check_finite's record alone does not keep the array from changing; the change is checked
    b.check_finite(1)
    assert b.checked["tension"] is b.values["tension"]
    b.write_rows("tension", "set", rows[1:], np.array([np.nan]))
    assert id(b.values["tension"]) == own_id and "tension" not in b.checked
    b.check_finite(1)
    assert b.failed[7] and not b.failed[0] and not b.alive[7]
    # read-only (shared zeros) and views are copied; their bases keep their values
    b.values["attacks"] = b.zeros()
    b.write_rows("attacks", "add", rows, 1.0)
    assert not b.zeros().any() and b.values["attacks"][7] == 1.0
    base = np.zeros(2 * b.n)
    b.values["attacks"] = base[: b.n]
    del base
    b.write_rows("attacks", "add", rows, 1.0)
    assert b.values["attacks"].base is None and b.values["attacks"][0] == 1.0


def test_the_look_ahead_and_a_chooser_see_the_state_they_were_given(example):
    """Every array held anywhere when a week starts keeps its values through the week."""
    b = _block(example, 2000)
    with np.errstate(all="ignore"):
        for week in range(1, 25):
            held = dict(b.values)
            want = {k: np.array(v, copy=True) for k, v in held.items()}
            b.step(week)
            for k, v in held.items():
                assert np.array_equal(v, want[k], equal_nan=True), (week, k)


@pytest.mark.parametrize("strategy", ["deniable", "loud"])
@pytest.mark.parametrize("trajectories", [False, True])
def test_in_place_changes_give_the_numbers_of_copies(example, monkeypatch, strategy, trajectories):
    """Changing unshared arrays in place gives the same results, bit for bit, as copying every
    array before a change (the general path), with compaction and with trajectories."""
    kw = dict(runs=3000, horizon=60, seed=9, strategies={"challenger": strategy}, trajectories=trajectories)
    fast = _results(example, **kw)
    monkeypatch.setattr(engine, "_COUNTED", False)  # every change on a copy
    slow = _results(example, **kw)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name



@pytest.mark.parametrize("ended", [[], [0, 3, 5], list(range(8))])
def test_ended_runs_keep_their_values_as_a_select_over_every_run_gives(example, ended):
    """``kept_where_ended`` gives the bits of ``np.where(alive, new, old)`` (NaN, ±0, ±inf; an
    ``old`` that is one number for every run), for no, some and every run ended."""
    b = _block(example, 8)
    b.alive[ended] = False
    new = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1.5, -2.0, 7.0])
    old = np.array([0.0, 0.0, -0.0, np.nan, 3.0, -np.inf, np.inf, -0.0])
    for previous in (old, np.broadcast_to(-0.0, (8,))):
        want = np.where(b.alive, new, previous)
        got = b.kept_where_ended(new.copy(), previous, b.ended() if ended else None)
        assert np.array_equal(got.view(np.int64), want.view(np.int64))


def test_ended_runs_keep_their_state_through_a_week(example):
    """Processes, attributions falling due and regimes leave an ended run's state as it was."""
    b = _block(example, 3000, "loud")
    seen = 0
    with np.errstate(all="ignore"):
        for week in range(1, 30):
            ended = ~b.alive.copy()
            before = {v: np.array(b.values[v], copy=True) for v in (*example.program.variables,
                                                                     *(g.id for g in example.program.regimes))}
            b.step(week)
            for v, value in before.items():
                assert np.array_equal(np.broadcast_to(b.values[v], (b.n,))[ended], value[ended], equal_nan=True), (week, v)
            seen += int(ended.sum())
    assert seen  # some runs had ended


_EDGES = np.array([np.nan, -np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324, -1.0, 0.25, 1.0, 1.5, 100.0, 101.0])


@pytest.mark.parametrize("bounds", [(0.0, None), (None, 1.0), (0.0, 1.0), (0.0, 100.0), (-0.0, None), (None, -0.0),
                                    (-0.0, 0.0), (1.0, 1.0), (None, None)])
def test_bounds_clipper_gives_the_bits_of_numpy_s_clip(bounds):
    """A bound compared as a contiguous array, and a clip skipped when nothing lies outside, give
    the bits of ``np.maximum``/``np.minimum`` with the number and of ``np.clip``: NaN, ±0, ±inf
    and denormals, short and long arrays, arrays owned (changed in place) or read-only."""
    from types import SimpleNamespace

    lo, hi = bounds
    clip = common.bounds_clipper(SimpleNamespace(bounds={"x": bounds}, kinds={"x": "real"}), "x")

    def reference(values):
        if lo is not None and hi is not None:
            return np.clip(values, lo, hi)
        if lo is not None:
            return np.maximum(values, lo)
        return np.minimum(values, hi) if hi is not None else values

    rng = np.random.default_rng(3)
    for n in (1, 7, 63, 64, 65, 200, 1001):
        for draw in range(6):
            values = rng.choice(_EDGES, n) if draw < 4 else rng.uniform(-0.0, 1.0, n)  # some all in range
            if draw == 5:
                values[::3] = -0.0
            want = np.asarray(reference(values.copy()))
            own = values.copy()
            got = clip(own)
            assert np.array_equal(np.asarray(got).view(np.int64), want.view(np.int64)), (bounds, n, values)
            assert lo is None and hi is None or got is own  # clipped in place
            shared = values.copy()
            shared.setflags(write=False)
            got = clip(shared)
            assert np.array_equal(np.asarray(got).view(np.int64), want.view(np.int64))
            assert np.array_equal(shared, values, equal_nan=True)  # a read-only array is left as it was
            spread = np.broadcast_to(values[:1], (n,))  # one number for every run
            assert np.array_equal(np.asarray(clip(spread)).view(np.int64),
                                  np.asarray(reference(spread)).view(np.int64))
    for number in (-0.0, 0.5, np.nan, 7.0):
        assert np.array_equal(np.asarray(clip(number)).view(np.int64), np.asarray(reference(number)).view(np.int64))


@pytest.mark.parametrize("bounds", [(0.0, None), (None, 1.0), (0.0, 1.0)])
def test_bounds_clipper_clips_other_float_arrays_into_new_ones(bounds):
    """Only numpy's own float64 arrays that are writable and 1-D are clipped in place; a
    big-endian float64 array, a float32 one, a 2-D one and a subclass are clipped into a new
    array with the values of ``np.clip``/``np.maximum``/``np.minimum``, and keep their own."""
    from types import SimpleNamespace

    lo, hi = bounds
    clip = common.bounds_clipper(SimpleNamespace(bounds={"x": bounds}, kinds={"x": "real"}), "x")
    values = np.array([-1.0, -0.0, 0.5, 2.0, np.nan] * 20)
    want = np.clip(values, lo, hi) if lo is not None and hi is not None else \
        np.maximum(values, lo) if lo is not None else np.minimum(values, hi)
    for n in (5, 100):
        for other in (values[:n].astype(">f8"), values[:n].astype(np.float32), values[:n].reshape(1, n).copy(),
                      values[:n].copy().view(np.memmap)):
            kept = other.copy()
            got = clip(other)
            assert got is not other and np.array_equal(other, kept, equal_nan=True)
            assert np.array_equal(np.asarray(got, dtype=float).reshape(-1), want[:n].astype(other.dtype).astype(float),
                                  equal_nan=True)
        own = values[:n].copy()
        assert clip(own) is own


def _general_row_context(self, rows):
    return self.new_row_context(rows)  # a new context for every evaluation, none shared


def _general_updated_own(self, var, op, own, amount):
    return self.updated(var, op, own.copy(), amount)  # a new array for the sum


@pytest.mark.parametrize("general", [("row_context", _general_row_context), ("updated_own", _general_updated_own)])
@pytest.mark.parametrize("scenario, strategies", [("proxy-deterrence", {"challenger": "deniable"}),
                                                  ("proxy-deterrence", {"challenger": "loud"}),
                                                  ("iran-us-2020", {"iran": "slow_drip"})])
def test_an_action_s_shared_evaluations_give_the_numbers_of_separate_ones(monkeypatch, general, scenario, strategies):
    """An action's amounts and attribution probability read one row context (each variable cut to
    the action's runs once) and its sums are made in the cut values: the results of a new
    context per evaluation and a new array per sum, bit for bit (random amounts, covert acts,
    compaction after absorbing outcomes)."""
    sc = load_scenario(scenario)
    kw = dict(runs=2500, horizon=80, seed=11, strategies=strategies)
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, *general)
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name


def _expressions_by_recursion(node, seen):
    """The walk ``expressions_in`` replaced (recursive generators, ``dataclasses.fields``
    per part): the specification of which expressions it finds and in which order."""
    import dataclasses

    from redline.expr import Expression

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Expression):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _expressions_by_recursion(value, seen)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _expressions_by_recursion(value, seen)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _expressions_by_recursion(getattr(node, f.name), seen)


def test_expressions_walk_finds_what_the_recursive_walk_found_in_its_order(example):
    """The memory budget's walk over a program yields every expression once, in the recursive
    walk's order, through dicts, lists, tuples, dataclasses (not dataclass classes), shared
    parts and subclasses of dict and tuple."""
    import collections
    import dataclasses

    from redline.expr import parse

    program = example.program
    want = [id(e) for e in _expressions_by_recursion(program, set())]
    got = [id(e) for e in expressions_in(program)]
    assert got == want and len(got) > 20
    assert [id(e) for e in program.expressions()] == want and program.expressions() is program.expressions()

    a, b, c = (parse(t, names={"x"}, site=t) for t in ("x + 1", "sum(x, last=3)", "x > 0"))

    @dataclasses.dataclass
    class Part:
        first: object
        second: object = None

    Pair = collections.namedtuple("Pair", "left right")
    shared = [b, a]
    node = {"k": Part(Pair(c, shared), {"z": shared}), "cls": Part, "m": collections.OrderedDict(q=[a, "s", 1.0]),
            "arr": np.zeros(3), "t": (None, Part(b, c))}
    assert [id(e) for e in expressions_in(node)] == [id(e) for e in _expressions_by_recursion(node, set())]
    assert [e.text for e in expressions_in(node)] == ["x > 0", "sum(x, last=3)", "x + 1"]


def _every_run(self, e):
    if e.stateful:
        e.evaluate(self.ctx)  # the general path: evaluated for every run, the values unread


@pytest.mark.parametrize("strategy", ["deniable", "loud"])
def test_expressions_read_by_no_run_give_the_numbers_of_an_evaluation_for_every_run(example_doc, monkeypatch,
                                                                                     strategy):
    """A dated outcome's condition off its week, a red line's credibility in a week it fires
    nowhere (else only where it fires) and a decision's inputs in a week it does not run: one that
    draws moves its random call sites on without drawing, one with windows is evaluated for every
    run. The numbers of evaluating each for every run every week, bit for bit (absorbing
    outcomes end runs; the block compacts)."""
    example_doc["red_lines"]["two_attributed_attacks"]["credibility"] = "min(1, defender_credibility + uniform(-0.2, 0.1))"
    parties = example_doc["decisions"]["host_parliament"]["actors"]
    parties["government"]["salience"] = "0.4 + uniform(0, 0.4)"
    parties["militia_bloc"]["position"] = "clip(normal(90, 8), 0, 100)"
    example_doc["outcomes"]["tension_poll"] = {"condition": "tension + normal(0, 8) > 12", "on": "2020-06-01"}
    example_doc["outcomes"]["tension_spell"] = {"condition": "sum(tension, last=3) + uniform(0, 9) > 30",
                                               "on": "2020-09-07"}
    example_doc["outcomes"]["late_poll"] = {"condition": "normal(tension, 4) > 15", "on": "2021-06-07"}
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=2000, horizon=104, seed=3, strategies={"challenger": strategy})
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, "pass_unread", _every_run)
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    reached = escalation.run(sc, **kw)["outcome_week"].sel(outcome=["tension_poll", "tension_spell", "late_poll"])
    assert 0 < np.isfinite(reached.values).mean() < 1  # the draws decide: some runs reach them, some do not


def test_expressions_read_by_no_run_move_their_random_call_sites_on_every_week(example_doc):
    """Each random call site of an expression evaluated every week (a dated outcome's condition,
    a red line's credibility, a decision's inputs) counts one call a week, whether its value is
    read by every run, by some (where the red line fires) or by none (off the outcome's week, in
    weeks the red line fires nowhere or the decision does not run): a run's numbers depend on
    the site, the call and the run alone."""
    example_doc["red_lines"]["two_attributed_attacks"]["credibility"] = "min(1, defender_credibility + uniform(-0.2, 0.1))"
    parties = example_doc["decisions"]["host_parliament"]["actors"]
    parties["government"]["salience"] = "0.4 + uniform(0, 0.4)"
    parties["militia_bloc"]["position"] = "clip(normal(90, 8), 0, 100)"
    example_doc["outcomes"]["tension_poll"] = {"condition": "tension + normal(0, 8) > 12", "on": "2020-06-01"}
    program = scenario_from_dict(example_doc).program
    setup = common.make_setup(program, seed=5, horizon=40, strategies={"challenger": "deniable"}, params=None)
    b = engine._Block(program, setup, 60, 0)
    b.initialise()
    watched = [program.red_lines[0].credibility, program.outcomes[-1].condition,
               *program.decisions[0].saliences, *program.decisions[0].positions]
    quiet = loud = 0  # weeks the red line fires nowhere / somewhere
    with np.errstate(all="ignore"):
        for week in range(1, 41):
            before = int(b.red_line_firings["two_attributed_attacks"].sum())
            b.step(week)
            fired = int(b.red_line_firings["two_attributed_attacks"].sum()) > before
            quiet, loud = quiet + (not fired), loud + fired
            calls = {name: site.calls for name, site in b.streams.sites.items()
                     if any(name.startswith(e.site + "#") for e in watched if e.random)}
            assert len(calls) == 4 and set(calls.values()) == {week}, (week, calls)
    assert quiet and loud  # both kinds of week were seen


def _slots_read(filled: bool):
    """PendingRing.due reading every slot every week (``filled``: the general path) or none (no
    attribution is ever delivered)."""
    def due(self, week):
        return self.buf[week % self.size] if filled else None
    return due


@pytest.mark.parametrize("scenario, strategies", [("proxy-deterrence", {"challenger": "deniable"}),
                                                  ("iran-us-2020", {"iran": "slow_drip"})])
def test_attributions_skipped_in_empty_slots_give_the_numbers_of_reading_every_slot(monkeypatch, scenario,
                                                                                    strategies):
    """A week's attributions are read only from the slots that something was queued in since
    they were last delivered: the results of reading every slot every week, bit for bit
    (covert acts of the week's choices and of red-line responses, delays of several weeks,
    compaction after absorbing outcomes). Delivering none changes them: attributions wait."""
    sc = load_scenario(scenario)
    kw = dict(runs=2500, horizon=80, seed=11, strategies=strategies)
    fast = _results(sc, **kw)
    monkeypatch.setattr(PendingRing, "due", _slots_read(True))
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
    monkeypatch.setattr(PendingRing, "due", _slots_read(False))
    undelivered = _results(sc, **kw)
    assert not np.array_equal(fast["final_state"], undelivered["final_state"], equal_nan=True)


def _attribute_as_written(self, plan, amounts, rows, week, changes):
    """:meth:`_Block.attribute` as it was written before the runs attributed this week were split
    off only when there are some (every mask computed every call): the specification, from the
    same draws."""
    drawn = self.attribution_drawn(plan, amounts, rows, changes)
    if drawn is None:
        return
    attributed, landing, amounts, delay = drawn
    action = plan.action
    now = delay == 0
    far = None
    if np.count_nonzero(delay >= common.MAX_DELAY):
        later = (delay > 0) & (delay < common.MAX_DELAY)
        far = (delay >= common.MAX_DELAY) & (week + delay <= self.setup.horizon)
    else:
        later = delay > 0
    landing_now = landing[now]
    for (var, _), amt in zip(attributed, amounts):
        changes.append((var, "add", landing_now, arrays.amount_at(amt, now)))
    if np.count_nonzero(later):
        ring = self.pending[action.id]
        ring.grow(week, common.MAX_DELAY)  # the ring as it was: a slot for every week up to MAX_DELAY
        buf = ring.buf
        slots = (week + delay[later].astype(int)) % common.MAX_DELAY
        ring.filled[slots] = True
        runs = landing[later]
        for k, amt in enumerate(amounts):
            np.add.at(buf, (slots, k, runs), arrays.amount_at(amt, later))
    if far is not None and np.count_nonzero(far):
        runs = landing[far]
        due = (week + delay[far]).astype(int)
        for (var, _), amt in zip(attributed, amounts):
            self.far_pending.append((due, self.idx[runs].copy(), var,
                                     np.array(np.broadcast_to(amt, landing.shape)[far])))


@pytest.mark.parametrize("strategy", ["deniable", "chooser"])
def test_attributions_split_only_when_some_land_now_give_the_numbers_of_every_mask(example_doc, monkeypatch,
                                                                                   strategy):
    """A covert act's attributions are split into this week's, the ring buffer's and the far
    list's only where some runs fall in each: the numbers of computing every mask every call,
    bit for bit, over delays that are all 0 (a second covert act), mixed 0 and later, beyond
    the ring buffer and beyond the horizon, with compaction after absorbing outcomes."""
    actions = example_doc["actions"]
    actions["proxy_attack"]["attribution"]["delay_weeks"] = \
        "if(uniform(0, 1) < 0.15, 0, if(uniform(0, 1) < 0.1, 60 + poisson(20), poisson(3)))"
    actions["sabotage"] = {
        "actor": "challenger", "track": "covert", "escalation": 5, "tags": ["covert"], "assumption": "test",
        "effects": [{"var": "tension", "add": "uniform(0, 2)", "attributed": "attacks_attributed_week"}],
        "attribution": {"probability": 0.5, "delay_weeks": 0}}
    for s in example_doc["strategies"].values():
        if s["policy"]["kind"] == "scripted":
            s["policy"]["probabilities"]["sabotage"] = 0.2
    example_doc.pop("decisions", None)
    sc = scenario_from_dict(example_doc)
    kw = dict(runs=1500, horizon=90, seed=4, strategies={"challenger": strategy})
    seen = {"some now": 0, "all now": 0, "far": 0}
    attribute = engine._Block.attribute

    def watched(self, plan, amounts, rows, week, changes):
        before = len(changes), len(self.far_pending)
        attribute(self, plan, amounts, rows, week, changes)
        landed = [c[2].size for c in changes[before[0]:] if c[2] is not rows]
        seen["all now"] += plan.action.id == "sabotage" and bool(landed) and landed[0] > 0
        seen["some now"] += plan.action.id == "proxy_attack" and bool(landed) and landed[0] > 0
        seen["far"] += len(self.far_pending) > before[1]

    monkeypatch.setattr(engine._Block, "attribute", watched)
    fast = _results(sc, **kw)
    assert all(seen.values()), seen
    monkeypatch.setattr(engine._Block, "attribute", _attribute_as_written)
    written = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], written[name], equal_nan=True), name


A = "test assumption"


def _bounds_doc(example_doc: dict) -> dict:
    """The example with additions at every kind of bound: a variable without bounds, one with an
    upper bound alone that its additions reach, a counter given negative and -0.0 amounts, the
    example's own tension (0..100, reached in many runs) and counters."""
    doc = example_doc
    doc.pop("decisions", None)
    state = doc["state"]
    state["drift"] = {"type": "real", "initial": 0, "assumption": A}
    state["ceiling"] = {"type": "real", "initial": 0, "max": 5, "assumption": A}
    state["tally"] = {"type": "counter", "initial": 0, "assumption": A}
    attack = doc["actions"]["proxy_attack"]["effects"]
    attack += [{"var": "drift", "add": "uniform(-1, 1)"}, {"var": "ceiling", "add": 0.25},
               {"var": "tally", "add": "(0 - uniform(0, 1)) * 0"}]
    doc["actions"]["overt_strike"]["effects"] += [{"var": "ceiling", "add": -0.5},
                                                   {"var": "tally", "add": "uniform(-0.5, 2)"},
                                                   {"var": "drift", "add": 3}]
    doc["actions"]["draw_down"]["effects"].append({"var": "tally", "add": "poisson(1)"})
    return doc



@pytest.mark.parametrize("strategy", ["deniable", "loud", "chooser"])
def test_additions_made_in_place_give_the_numbers_of_clipping_them(example_doc, monkeypatch, strategy):
    """An action's addition is made in one pass (np.add.at) only where clipping the sums would
    change none of them: the numbers of cutting, adding, clipping and writing back every time,
    bit for bit, at lower, upper and two bounds, none, amounts per run that are negative or
    -0.0, and a bound reached (after which the variable is clipped as written)."""
    sc = scenario_from_dict(_bounds_doc(example_doc))
    kw = dict(runs=800, horizon=104, seed=12, strategies={"challenger": strategy})
    seen = set()
    added_in_place = engine._Block.added_in_place

    def watched(self, new, var, rows, amount):
        done = added_in_place(self, new, var, rows, amount)
        seen.add((var, isinstance(amount, np.ndarray) and amount.ndim == 1, done))
        return done

    monkeypatch.setattr(engine._Block, "added_in_place", watched)
    fast = _results(sc, **kw)
    monkeypatch.setattr(engine._Block, "added_in_place", lambda self, new, var, rows, amount: False)
    written = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], written[name], equal_nan=True), name
    if strategy == "deniable":
        assert {("attacks", False, True), ("tension", False, True), ("tension", False, False), ("tally", True, True),
                ("ceiling", False, True), ("ceiling", False, False), ("drift", True, True),
                ("tally", True, False), ("defender_presence", False, False)} <= seen, seen
    if strategy == "loud":
        assert {("ceiling", False, True), ("drift", False, True), ("tally", True, False)} <= seen, seen


def test_compaction_cuts_only_filled_attribution_slots_and_gives_the_numbers_of_cutting_all(monkeypatch):
    """A compaction cuts only the attribution slots that hold something (the others are zeros):
    the buffer equals ``take`` over every slot, and whole simulations (delays of several weeks,
    absorbing outcomes, several compactions) give the numbers of cutting the whole buffer."""
    rng = np.random.default_rng(3)
    ring = PendingRing(2, 50, slots=common.MAX_DELAY)
    ring.filled[[0, 5, common.MAX_DELAY - 1]] = True
    ring.buf[ring.filled] = rng.normal(size=(3, 2, 50))
    whole = ring.buf.take(kept := np.array([0, 3, 4, 17, 49]), axis=2)
    ring.take(kept)
    assert np.array_equal(ring.buf, whole)
    sc = load_scenario("proxy-deterrence")
    kw = dict(runs=3000, horizon=104, seed=4, strategies={"challenger": "deniable"})
    fast = _results(sc, **kw)

    def take_all(self, kept):
        self.buf = self.buf.take(kept, axis=2)

    monkeypatch.setattr(PendingRing, "take", take_all)
    whole = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], whole[name], equal_nan=True), name


def test_a_grown_ring_delivers_each_week_what_a_full_one_delivers():
    """Amounts queued with delays of 1 to MAX_DELAY - 1 weeks, in weeks that wrap around the ring
    several times, are delivered in their weeks with the bits of a ring of MAX_DELAY slots,
    whether the ring starts with one slot (growing at each longer delay) or with all of them."""
    rng = np.random.default_rng(5)
    rings = [PendingRing(2, 40, slots=1), PendingRing(2, 40, slots=common.MAX_DELAY)]
    got = [[], []]
    for week in range(1, 200):
        runs = rng.choice(40, size=rng.integers(1, 12), replace=False)
        delay = np.minimum(rng.poisson(3 + week % 40, size=runs.size), common.MAX_DELAY - 1).astype(float)
        delay = np.maximum(delay, 1.0)
        amounts = [rng.normal(size=runs.size).round(2), 1.0]
        for ring, out in zip(rings, got):
            ring.grow(week, int(delay.max()) + 1)
            ring.queue(week, delay, runs, amounts)
            due = ring.due(week)
            out.append(None if due is None else due.copy())
            if due is not None:
                due[:] = 0.0
    assert rings[0].size == common.MAX_DELAY
    assert sum(d is not None for d in got[1]) > 150
    for a, b in zip(*got):
        assert (a is None and b is None) or np.array_equal(a, b)


@pytest.mark.parametrize("first", [1, 64])
def test_the_ring_s_first_size_changes_no_number(monkeypatch, first):
    """Whole simulations (the example with delays up to beyond MAX_DELAY and beyond the horizon,
    compaction after absorbing outcomes; the flagship's several covert acts) give the same
    numbers whether the ring starts with one slot, grows from its default, or starts full."""
    from redline.escalation import pending

    for name, strategies in [("proxy-deterrence", {"challenger": "deniable"}), ("iran-us-2020", {"iran": "slow_drip"})]:
        sc = load_scenario(name)
        kw = dict(runs=2000, horizon=104, seed=9, strategies=strategies)
        default = _results(sc, **kw)
        monkeypatch.setattr(pending, "FIRST_SLOTS", first)
        monkeypatch.setattr(PendingRing.__init__, "__defaults__", (first,))
        other = _results(sc, **kw)
        monkeypatch.undo()
        for key in default:
            assert np.array_equal(default[key], other[key], equal_nan=True), (name, key)


def _levelled(example_doc: dict):
    """The example whose proxy attack comes in two levels, the lethality of each read by a random
    effect whose rate draws (evaluated even for no run), taken so rarely that no run takes it in
    many weeks, and runs that end at random (compactions)."""
    attack = example_doc["actions"]["proxy_attack"]
    attack["levels"] = {"light": {"lethality": 0.2}, "heavy": {"lethality": 1.5}}
    attack["effects"][0]["add"] = "poisson(uniform(0.5, 1.5) * lethality * defender_presence / 1000)"
    example_doc["strategies"]["deniable"]["policy"]["probabilities"] = {"proxy_attack.light": 0.0004,
                                                                       "proxy_attack.heavy": 0.0002}
    example_doc["outcomes"]["walkout"] = {"condition": "uniform(0, 1) < 0.03", "absorbing": True, "assumption": A}
    example_doc.pop("decisions", None)
    return scenario_from_dict(example_doc)


@pytest.mark.parametrize("scenario, strategies, runs", [("proxy-deterrence", {"challenger": "deniable"}, 1500),
                                                        ("proxy-deterrence", {"challenger": "chooser"}, 1500),
                                                        ("iran-us-2020", {"iran": "slow_drip"}, 1500),
                                                        ("iran-us-2020", {"iran": "rapid_overt"}, 300),
                                                        ("levels", {"challenger": "deniable"}, 1500)])
def test_evaluations_for_no_run_share_one_context_with_the_numbers_of_new_ones(example_doc, monkeypatch, scenario,
                                                                             strategies, runs):
    """Evaluations for no run (idle actions, landings of no attribution, red lines firing
    nowhere) read one context per block: the results of a new context for each, bit for bit,
    through compactions (the number of runs changes), levels and expected mode."""
    sc = _levelled(example_doc) if scenario == "levels" else load_scenario(scenario)
    kw = dict(runs=runs, horizon=104, seed=13, strategies=strategies)
    shared = []
    no_row_context = engine._Block.no_row_context

    def watched(self):
        sub = no_row_context(self)
        shared.append((id(sub), self.n))
        return sub

    monkeypatch.setattr(engine._Block, "no_row_context", watched)
    fast = _results(sc, **kw)
    assert len(shared) > len(set(shared))  # reused
    if scenario in ("proxy-deterrence", "levels"):
        assert len({n for _, n in shared}) > 1  # and made again after a compaction
    monkeypatch.setattr(engine._Block, "no_row_context", lambda self: self.new_row_context(arrays.NO_ROWS))
    new = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], new[name], equal_nan=True), name


@pytest.mark.parametrize("scenario, strategies, trajectories", [("proxy-deterrence", {"challenger": "deniable"}, False),
                                                                ("iran-us-2020", {"iran": "slow_drip"}, False),
                                                                ("iran-us-2020", {"iran": "rapid_overt"}, True)])
def test_windows_keeping_the_week_s_arrays_give_the_numbers_of_copies(monkeypatch, scenario, strategies, trajectories):
    """The engine's windows keep each week's array as it is given (the engine changes in place
    only arrays nothing else holds): the results of windows copying every week, bit for bit,
    with compaction and with trajectories."""
    from redline import expr as ex

    sc = load_scenario(scenario)
    kw = dict(runs=2500, horizon=104, seed=7, strategies=strategies, trajectories=trajectories)
    kept = []
    push = ex.RingBuffer.push

    def spy(self, x, peeked=None, *, held=False):
        kept.append(held)
        push(self, x, peeked, held=held)

    monkeypatch.setattr(ex.RingBuffer, "push", spy)
    fast = _results(sc, **kw)
    assert kept and all(kept)
    monkeypatch.setattr(ex.RingBuffer, "push", lambda self, x, peeked=None, *, held=False: push(self, x, peeked))
    slow = _results(sc, **kw)
    for name in fast:
        assert np.array_equal(fast[name], slow[name], equal_nan=True), name
