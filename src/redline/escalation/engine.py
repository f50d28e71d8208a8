"""The vectorised escalation engine: all runs of a block advance together, one week at a time.

Each simulated week (simultaneous moves):

0. flows reset; scheduled events of this week change the state;
1. every actor chooses at most one option (an action, or one level of an action) per track from
   the state at the start of the week (``logit``: quantal response over one-step expected
   utilities, McKelvey & Palfrey 1995, with anticipation of red-line responses, see
   :mod:`redline.escalation.anticipation`; ``scripted``: probabilities per option); a scheduled
   action takes its track's place that week;
2. the chosen actions' effects apply, all computed from the same pre-move state; covert acts are
   attributed to their author with a probability, after a delay, and only then reach the
   ``attributed`` record (Baliga, Bueno de Mesquita & Wolitzky 2020);
3. attributions that fall due this week land;
4. processes (decay, drift, hazards) update the state in the order written;
5. red lines whose condition holds (and that are not resting) fire, each at most once a week, in
   the order written; the owner answers with the red line's credibility, choosing among graded
   responses with its own policy;
6. regimes are entered and left with their weekly hazards;
7. outcomes are recorded; an absorbing outcome ends its run (the run is masked, not branched).

Randomness comes from a counter-based generator per random call site, keyed from the experiment's
``SeedSequence`` (:class:`~redline.escalation.common.block_streams`): a run's numbers depend on
the site, the call and the run alone, so results do not depend on how blocks are spread over
workers and strategies compared with the same seed share their random numbers.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from redline import expr as ex
from redline.errors import ExpressionError
from redline.escalation.anticipation import Anticipating, relevant_red_lines, seen_effects
from redline.escalation.arrays import NO_ROWS, amount_at, mask_bytes, no_week_yet, probability_number
from redline.escalation.choice import Choosing
from redline.escalation.common import (
    DENSE_SHARE,
    MAX_DELAY,
    RunSetup,
    all_within,
    block_parameters,
    block_streams,
    bounds_clipper,
    bounds_setter,
    collective_positions,
)
from redline.escalation.pending import PendingRing
from redline.escalation.plans import ActionPlan, TrackPlan
from redline.scenario.compile import CompiledPolicy, CompiledRedLine, Program, option_id

__all__ = ["simulate_block"]


COMPACT_BELOW = 0.5
"""Drop ended runs from the working arrays when fewer than this share of them is still going."""

JOINED_CHECK = 16384
"""Up to this many values (runs x changed variables), :meth:`_Block.check_finite` sums the
changed variables as one array: one reduction instead of one per variable."""

SUMMED_BY_EINSUM = 8192
"""From this many working runs up, :meth:`_Block.check_finite` sums each array with
``np.einsum`` (more fixed cost than ``np.add.reduce``, less per value)."""

DRAWN_SHARE = 8
"""A regime's draws are computed only for the runs that can switch (see :meth:`_Block.switched`)
when those are at most one in this many working runs."""


MARKED_SHARE = 16
"""A regime's records (first weeks, weeks inside) are written in the runs inside it alone when
those are at most one in this many working runs, else through masks over every run: reading
and writing a record at a position costs far more than a pass over the runs does per run."""


class _RowValues:
    """The values of some working runs (``rows``), read by one evaluation of an expression:
    arrays over the runs are cut to ``rows`` when first read, scalars pass unchanged."""

    __slots__ = ("values", "rows", "n", "cut")

    def __init__(self, values: dict, rows: np.ndarray, n: int):
        self.values, self.rows, self.n, self.cut = values, rows, n, {}

    def __getitem__(self, name: str):
        value = self.cut.get(name)
        if value is None:
            value = self.values[name]
            if isinstance(value, np.ndarray) and value.shape == (self.n,):
                value = value[self.rows]
            self.cut[name] = value
        return value


def _references(values: dict, name: str) -> int:
    """CPython's reference count of ``values[name]`` as seen from here."""
    return sys.getrefcount(values[name])


_ONLY_DICT = _references({"x": np.empty(1)}, "x")
"""The count :func:`_references` gives for an object that only its dict holds (2 on CPython
3.11: the dict's entry and the call's argument; calibrated, as newer versions may borrow)."""


_COUNTED = sys.implementation.name == "cpython"
"""Whether reference counts say who holds an object (on another interpreter no array is
changed in place: :meth:`_Block.unshared` is never true)."""


def _add_bounds(program: Program, name: str) -> tuple[float | None, float | None] | None:
    """Variable ``name``'s bounds (None where it has none) as :meth:`_Block.added_in_place` reads
    them, or None where every addition is clipped as written: a boolean (made 0 or 1), and a
    bound written as -0.0 (numpy's maximum and minimum may break its ties with +0.0 either way)."""
    if program.kinds[name] == "boolean":
        return None
    lo, hi = program.bounds[name]
    if any(b is not None and b == 0 and math.copysign(1.0, b) < 0 for b in (lo, hi)):
        return None
    return None if lo is None else float(lo), None if hi is None else float(hi)


def _process_update(update: tuple, old, value: np.ndarray) -> np.ndarray:
    """A process's new value of a variable from its ``old`` one and the update's ``value``
    (``update``: the variable, ``add`` or ``set``, the expression, whether it is a ``set`` to a
    value made for it alone, the variable's clipper and setter; see
    :attr:`_Block.process_plans`), within bounds: :meth:`_Block.updated`, except that such a
    value, when writable, is clipped in place (the clip of a copy has the same values)."""
    _, op, _, fresh_set, clip, set_clip = update
    if fresh_set and value.flags.writeable:
        return clip(value)
    return clip(old + value) if op == "add" else set_clip(value)


class _Block(Choosing, Anticipating):
    """State of one block of runs (or of consecutive blocks simulated together) while it is
    being simulated.

    ``self.n`` is the number of runs still in the working arrays and ``self.idx`` their
    positions in the block; when enough runs have ended (absorbing outcome or failure), they are
    written out and dropped, so the remaining weeks cost only what the live runs need.
    """

    def __init__(self, program: Program, setup: RunSetup, runs: int, block: int):
        self.p = program
        self.setup = setup
        self.n = runs
        self.full = runs
        self.block = block
        self.last_flows: dict[str, np.ndarray] = {}
        self.idx = np.arange(runs)
        self.streams = block_streams(setup.seed_sequence, block, runs)
        self.result = {
            "final_state": np.full((len(program.variables), runs), np.nan),
            "outcome_week": np.full((len(program.outcomes), runs), np.nan),
            "red_line_week": np.full((len(program.red_lines), runs), np.nan),
            "red_line_enforced": np.zeros((len(program.red_lines), runs), dtype=bool),
            "red_line_firings": np.zeros((len(program.red_lines), runs), dtype=np.int32),
            "action_count": np.zeros((len(program.actions), runs), dtype=np.int32),
            "option_count": np.zeros((sum(a.n_levels for a in program.actions.values() if a.levels), runs),
                                     dtype=np.int32),
            "regime_week": np.full((len(program.regimes), runs), np.nan),
            "regime_weeks": np.zeros((len(program.regimes), runs), dtype=np.int32),
            "stopped_week": np.full(runs, np.nan),
            "failed": np.zeros(runs, dtype=bool),
        }
        self.values: dict[str, np.ndarray | float] = {}
        self.shared_rows: np.ndarray | None = None  # see :meth:`row_context`
        self.shared_context: ex.EvalContext | None = None
        self._zeros: np.ndarray | None = None
        self._nobody: np.ndarray | None = None
        self._no_row_context: ex.EvalContext | None = None  # see :meth:`no_row_context`
        self.ctx = ex.EvalContext(self.values, runs, self.streams.get)
        self.ctx.held = True  # an array held elsewhere is never changed in place (see :meth:`copy_of`)
        self.alive = np.ones(runs, dtype=bool)
        self._ended: np.ndarray | None = None  # see :meth:`ended`
        self.ended_flows: dict[str, np.ndarray] | None = None  # see :meth:`set_flows_aside`
        self.failed = np.zeros(runs, dtype=bool)
        self.stopped_week = np.full(runs, np.nan)
        self.outcome_week = {o.id: np.full(runs, np.nan) for o in program.outcomes}
        # each outcome that does not end its runs -> where it may still be first reached: the runs
        # alive and without a week for it yet (see :meth:`record_outcomes`)
        self.unreached = {o.id: np.ones(runs, dtype=bool) for o in program.outcomes if not o.absorbing}
        self.red_line_week = {r.id: np.full(runs, np.nan) for r in program.red_lines}
        self.red_line_enforced = {r.id: np.zeros(runs, dtype=bool) for r in program.red_lines}
        self.red_line_firings = {r.id: np.zeros(runs, dtype=np.int32) for r in program.red_lines}
        self.clipped: dict[str, int] = {}  # probability site -> run-weeks its value left [0, 1]
        self.action_count = {a: np.zeros(runs, dtype=np.int32) for a in program.actions}
        self.leveled = [a for a, x in program.actions.items() if x.levels]
        self.option_count = {option_id(program.actions[a], i): np.zeros(runs, dtype=np.int32)
                             for a in self.leveled for i in range(program.actions[a].n_levels)}
        self.last_fired = {r.id: np.full(runs, np.nan) for r in program.red_lines if r.cooldown_weeks}  # rests
        self.regime_week = {g.id: np.full(runs, np.nan) for g in program.regimes}
        self.regime_weeks = {g.id: np.zeros(runs, dtype=np.int32) for g in program.regimes}
        self.probe = {name: np.full(runs, np.nan) for name, _, _ in setup.probes or ()}
        self.checked: dict[str, np.ndarray] = {}  # variable -> the array check_finite last found finite
        self.regime_sites = [f"regime:{g.id}" for g in program.regimes]  # each regime's draws
        # each red line's random call sites: whether it fires, and which response (when several)
        self.red_line_sites = [(f"red_line:{r.id}", f"response:{r.id}" if len(r.responses) > 1 else None)
                               for r in program.red_lines]
        # action -> the array of its last responses (see :meth:`response_marked`) and their runs
        self.spare_marks: dict[str, np.ndarray] = {}
        self.spare_rows: dict[str, np.ndarray] = {}
        self.far_pending: list[tuple[np.ndarray, np.ndarray, str, np.ndarray]] = []  # (due week, run ids, var, amount)
        self.relevant = relevant_red_lines(program)
        self.seen_effects = seen_effects(program, self.relevant)  # what the look-ahead evaluates
        self.clip = {name: bounds_clipper(program, name) for name in program.variables}  # within bounds
        self.set_clip = {name: bounds_setter(program, name) for name in program.variables}  # new arrays
        self.add_bounds = {name: _add_bounds(program, name) for name in program.variables}
        self.near_bounds: set[str] = set()  # see :meth:`added_in_place`
        # each regime: its value array as run_regimes last made it, the mask and the rows inside
        # it found then (see :meth:`regime_inside`)
        self.regime_seen: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        regime_ids = {g.id for g in program.regimes}
        in_regime = [None if proc.when is None or proc.when.variable not in regime_ids else proc.when.variable
                     for proc in program.processes]
        # each process: its condition, the regime that condition is when it names one alone
        # (``when: war``), its updates, as :func:`_process_update` reads them, and whether
        # :meth:`evaluate_rows` computes each of their values for every run once most runs are
        # in (no number written, no draw unless it keeps windows)
        self.process_plans = [(proc.when, regime,
                               tuple((var, op, e, op == "set" and e.fresh, self.clip[var], self.set_clip[var])
                                     for var, op, e in proc.updates),
                               all(e.constant is None and (e.windows or not e.random) for _, _, e in proc.updates))
                              for proc, regime in zip(program.processes, in_regime)]
        # each decision, with its inputs that draw or keep windows (then evaluated every week)
        self.decisions = [(d, tuple(e for e in (*d.positions, *d.saliences, *d.capabilities) if e.stateful))
                          for d in program.decisions]
        self.action_plans = {aid: ActionPlan(action, k) for k, (aid, action) in enumerate(program.actions.items())}
        self.action_position = {aid: plan.position for aid, plan in self.action_plans.items()}
        self.track_plans = {actor: [TrackPlan(program, setup.policies[actor], actor, track, ids)
                                    for track, ids in tracks.items()]
                            for actor, tracks in program.tracks.items()}
        self.baseline_trips: dict = {}
        self.plain_policies: dict[str, CompiledPolicy] = {}
        self.events_by_week: dict[int, list] = {}
        for e in program.events:
            self.events_by_week.setdefault(e.week, []).append(e)
        # attributed amounts waiting for their week: action -> its ring (one slot per week due)
        self.pending = {
            aid: PendingRing(sum(e.attributed is not None for e in a.effects), runs)
            for aid, a in program.actions.items()
            if a.covert and any(e.attributed is not None for e in a.effects)
        }

    # -- set-up
    def initialise(self) -> None:
        p, ctx, v = self.p, self.ctx, self.values
        ctx.week = 0
        v.update(block_parameters(self.setup, self.block, self.n))
        for name, e in p.attributes.items():
            v[name] = e.evaluate(ctx).copy()
        for name in p.variables:
            v[name] = self.clip[name](p.initial[name].evaluate(ctx).copy())
        self.flow_start = {name: v[name].copy() for name in p.flows}
        for aid in p.actions:
            v[aid] = np.zeros(self.n)
        for o in p.outcomes:
            v[o.id] = np.zeros(self.n)
        for r in p.red_lines:
            v[r.id] = np.zeros(self.n)
        for g in p.regimes:
            v[g.id] = np.full(self.n, 1.0 if g.initial else 0.0)
            if g.initial:
                self.regime_week[g.id][:] = 0.0

    def set_flows_aside(self) -> None:
        """Keep the flows' values of the runs that end in arrays of their own
        (:attr:`ended_flows`, written as runs end), so that each week's reset of the flows need
        not carry the ended runs' values over (up to half the working runs between compactions,
        gathered and scattered once per flow and week), and the ended runs' flows start again
        like everyone's. For a simulation in which nothing reads an ended run's values but its
        final state (:meth:`final_values`): no trajectories, no probes (seats see the live
        runs only). The flows must start finite in every run: an ended run's flows, reset every
        week, are read by :meth:`check_finite`, which must find nothing new in them."""
        if self.p.flows and all(np.isfinite(v).all() for v in self.flow_start.values()):
            self.ended_flows = {name: np.zeros(self.n) for name in self.p.flows}

    # -- one week
    def step(self, week: int) -> None:
        ctx = self.ctx
        ctx.week = week
        if self.setup.choosers:
            self.last_flows = {name: self.values[name] for name in self.p.flows}  # what seats observe
        if self.ended_flows is not None:  # the ended runs' flows are set aside
            for name in self.p.flows:
                self.values[name] = self.flow_start[name].copy()
        else:
            ended = None if not self.ended().size or not self.p.flows else self.ended()
            for name in self.p.flows:
                self.values[name] = self.kept_where_ended(self.flow_start[name].copy(), self.values[name], ended)
        forced = self.apply_events(week)
        self.baseline_trips = {}
        taken, levels = self.choose(forced)
        self.baseline_trips = {}  # the look-ahead's state is not read again: let go of its arrays
        moved = self.apply_actions(self.rows_taking(taken), week, levels)
        self.deliver_attributions(week)
        for aid, t in taken.items():
            if aid in moved:
                ones = mask_bytes(t)
                self.values[aid] = ones.astype(np.float64)
                self.action_count[aid] += ones
            else:  # most actions are not taken in most weeks: nothing to count
                self.values[aid] = self.zeros()
        for aid in self.leveled:
            if aid not in moved:
                continue
            action = self.p.actions[aid]
            for i in range(action.n_levels):
                self.option_count[option_id(action, i)] += taken[aid] & (levels[aid] == i)
        self.run_processes()
        self.run_decisions(week)
        self.run_red_lines(week)
        self.run_regimes(week)
        self.record_outcomes(week)
        self.check_finite(week)
        self.record_probes(week)

    def ended(self) -> np.ndarray:
        """The positions of the working runs that have ended (increasing, read-only). Found once
        between changes to :attr:`alive` (several phases of a week ask; each change below
        forgets it): one pass over the runs instead of one per phase."""
        ended = self._ended
        if ended is None:
            ended = self._ended = (~self.alive).nonzero()[0]
            ended.setflags(write=False)
        return ended

    def kept_where_ended(self, new: np.ndarray, old, ended: np.ndarray | None) -> np.ndarray:
        """``np.where(self.alive, new, old)`` written into ``new`` (a new array over the working
        runs, changed in place): the runs ``ended`` (:meth:`ended`, or None when every run is
        alive) keep ``old``'s values. Copying the few ended runs' values costs less than a
        select over every run."""
        if ended is not None and ended.size:
            if type(old) is not np.ndarray or old.shape != new.shape:
                old = np.broadcast_to(old, new.shape)
            new[ended] = old[ended]
        return new

    def draw(self, site: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Site ``site``'s uniforms for this week, for the working runs ``rows`` (all if None);
        the site's call counter moves on by one either way (see :class:`block_streams`)."""
        if rows is None or rows.size == self.n:
            return self.streams.get(site).random(self.n)
        return self.streams.rows(rows).get(site).random(rows.size)

    def nobody(self) -> np.ndarray:
        """A read-only all-False mask over the working runs (shared: never written in place)."""
        nobody = self._nobody
        if nobody is None or nobody.shape[0] != self.n:
            nobody = self._nobody = np.zeros(self.n, dtype=bool)
            nobody.setflags(write=False)
        return nobody

    def zeros(self) -> np.ndarray:
        """A read-only array of zeros over the working runs (shared: never written in place)."""
        zeros = self._zeros
        if zeros is None or zeros.shape[0] != self.n:
            zeros = self._zeros = np.zeros(self.n)
            zeros.setflags(write=False)
        return zeros

    def record_probes(self, week: int) -> None:
        for name, e, at in self.setup.probes or ():
            value = e.evaluate(self.ctx)  # every week, so its windows see the whole history
            if week == at:
                self.probe[name] = value.copy()

    def apply_events(self, week: int) -> dict[tuple[str, str], tuple[str, int]]:
        """Apply this week's scheduled state changes; return the scheduled options by (actor, track)."""
        forced = {}
        for event in self.events_by_week.get(week, ()):
            new_values = [(var, op, e.evaluate(self.ctx)) for var, op, e in event.updates]
            for var, op, value in new_values:
                old = self.values[var]
                new = old + value if op == "add" else value
                self.values[var] = self.clip[var](np.where(self.alive, new, old))
            if event.action is not None:
                action = self.p.actions[event.action[0]]
                forced[(action.actor, action.track)] = event.action
        return forced

    def rows_taking(self, taken: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The working runs (increasing) that took each action, from masks ``taken``; the shared
        :meth:`nobody` mask of an action no run could take is not read."""
        nobody = self._nobody
        return {aid: NO_ROWS if mask is nobody else mask.nonzero()[0] for aid, mask in taken.items()}

    def apply_actions(self, taken: dict[str, np.ndarray], week: int, levels: dict[str, np.ndarray] | None = None,
                      *, commit: bool = True) -> set[str]:
        """Apply the effects of every taken action (``taken``: action -> the working runs that
        took it, increasing), each computed from the same pre-move state, in the program's order
        of actions; return the actions that some run took.

        An effect is computed only for the runs that took its action; its random call sites still
        count a call each time (see :meth:`evaluate_rows`), so random streams stay aligned and a
        run's numbers do not depend on what the other runs did."""
        ctx = self.ctx
        ctx.commit = commit
        moved: set[str] = set()
        changes: list[tuple[str, str, np.ndarray, np.ndarray]] = []  # (var, op, rows, amount on rows)
        plans = self.action_plans
        try:
            for aid in sorted(taken, key=self.action_position.__getitem__):
                rows, plan = taken[aid], plans[aid]
                if rows.size:
                    moved.add(aid)
                    self.act(plan, rows, week, levels, changes)
                elif plan.idle is not None:  # most actions: no run took them, and they cost nothing then
                    self.pass_idle(plan, levels)
        finally:
            ctx.commit = True
        written: dict[str, np.ndarray] = {}  # one new array per variable, changed in order
        for var, op, rows, amount in changes:
            if rows.size:
                new = written.get(var)
                if new is None:
                    new = written[var] = self.copy_of(var)
                if op != "add" or not self.added_in_place(new, var, rows, amount):
                    new[rows] = self.updated_own(var, op, new[rows], amount)
        self.values.update(written)
        return moved

    def added_in_place(self, new: np.ndarray, var: str, rows: np.ndarray, amount) -> bool:
        """Add ``amount`` (a number, or one value per row) to ``new``, an array of ``var``'s
        values that the caller owns, in the working runs ``rows`` (distinct, so ``np.add.at``
        adds each amount once: one pass, where cutting the rows, adding, clipping and writing
        them back take four), when bringing the sums within ``var``'s bounds provably changes
        none of them; returns whether it did (else nothing is changed).

        Every value a bounded variable holds lies within its bounds or is NaN (every write is
        clipped), and rounding is monotone, so ``x + a`` stays at or above a lower bound ``lo``
        when ``a`` is above 0 (a tie with ``lo`` is ``lo`` itself: ``x == lo`` is not 0 there,
        else the sum would be ``a``), and so for an amount per row that is not negative nor
        -0.0 (the sum -0.0 + -0.0 would be clipped to +0.0). An upper bound is seen to be out
        of reach when the largest value plus the number stays below it (a NaN anywhere fails
        the test); a variable whose test has failed once is not tested again (such a variable
        mostly stays near its bound, and the test reads every run). NaN sums are NaN either way."""
        bounds = self.add_bounds[var]
        if bounds is None:
            return False
        lo, hi = bounds
        if type(amount) is np.ndarray and amount.ndim:
            if hi is not None or (lo is not None and np.count_nonzero(np.signbit(amount))):
                return False
        else:
            number = float(amount)
            if number > 0:
                out_of_reach = hi is None or (var not in self.near_bounds and np.maximum.reduce(new) + number < hi)
            elif number < 0:
                out_of_reach = lo is None or (var not in self.near_bounds and np.minimum.reduce(new) + number > lo)
            else:  # 0 or NaN
                return False
            if not out_of_reach:
                self.near_bounds.add(var)
                return False
        np.add.at(new, rows, amount)
        return True

    def act(self, plan: ActionPlan, rows: np.ndarray, week: int, levels: dict[str, np.ndarray] | None,
            changes: list) -> None:
        """Add to ``changes`` what ``plan``'s action taken in runs ``rows`` changes (its effects now,
        its attributed records as they land; see :meth:`attribute`)."""
        action = plan.action
        if action.levels:
            self.set_level(action, levels[action.id] if levels and action.id in levels else 0)
        # Nothing changes the values while the action's amounts and attribution probability are
        # computed: their evaluations for ``rows`` share one row context (each variable is cut to
        # the rows once).
        self.shared_rows, self.shared_context = rows, None
        try:
            # A constant amount stays a number: numpy broadcasts it over the rows.
            amounts = [self.evaluate_rows(value, rows) if constant is None else constant
                       for _, _, value, constant in plan.effects]
            changes.extend([(var, op, rows, amount) for (var, op, _, _), amount in zip(plan.effects, amounts)])
            if plan.attributes:
                self.attribute(plan, amounts, rows, week, changes)
        finally:
            self.shared_rows = self.shared_context = None
            if action.levels:
                self.clear_level(action)

    def pass_idle(self, plan: ActionPlan, levels: dict[str, np.ndarray] | None) -> None:
        """A week in which no run took ``plan``'s action: no effect changes anything, but its random
        call sites and windows move on as they would had some run taken it (aligned streams;
        for no run, :meth:`evaluate_rows` mostly moves them on without evaluating anything)."""
        action, idle = plan.action, plan.idle
        if action.levels:
            self.set_level(action, levels[action.id] if levels and action.id in levels else 0)
        try:
            for e in idle.expressions:
                self.evaluate_rows(e, NO_ROWS)
            if idle.attribution_site is not None:
                self.draw(idle.attribution_site, NO_ROWS)
        finally:
            self.clear_level(action)

    def pass_unread(self, e: ex.Expression) -> None:
        """A week in which ``e``'s value is read by no run: an expression with windows is still
        evaluated for every run (they stay current), and one that draws moves its random call
        sites on as an evaluation does, without drawing (:meth:`evaluate_rows` for no run: a
        run's numbers depend on its site, call and run alone, see :class:`block_streams`)."""
        if e.windows:
            e.evaluate(self.ctx)
        elif e.random:
            self.evaluate_rows(e, NO_ROWS)

    def evaluate_rows(self, e: ex.Expression, rows: np.ndarray, *, dense: bool = False) -> np.ndarray:
        """``e`` for the working runs ``rows`` only (an int array): the other runs' values are
        not computed, and each of its random call sites computes only their draws, which are those
        a full evaluation would give them (counter-based streams; Glasserman & Yao 1992: common
        random numbers need every draw in its place). Expressions with windows are evaluated for every run (their accumulators advance
        for all runs at once).

        When ``rows`` hold at least :data:`DENSE_SHARE` of the runs and ``e`` draws nothing, the
        expression is evaluated for every run instead (elementwise, so the rows' values are the
        same): cutting each input to the rows costs more than the few extra values. With
        ``dense`` the whole array is returned (shape ``(n,)``; the caller keeps the rows' values),
        else the rows are cut from it; so it is for an expression with windows."""
        if e.constant is not None:
            return np.full(rows.size, e.constant)
        if e.windows:
            full = e.evaluate(self.ctx)
            return full if dense else full[rows]
        if rows.size == self.n:
            return e.evaluate(self.ctx)
        if rows.size == 0 and (not e.random or e.skip_draws(self.row_context(rows))):
            return np.empty(0)  # the streams moved on as an evaluation moves them (see Expression.skip_draws)
        if not e.random and rows.size >= DENSE_SHARE * self.n:
            try:
                full = e.evaluate(self.ctx)
            except ExpressionError:
                pass  # a value outside ``rows`` (an ended run's, say) is outside a function's domain
            else:
                return full if dense else full[rows]
        return e.evaluate(self.row_context(rows))

    def row_context(self, rows: np.ndarray) -> ex.EvalContext:
        """An evaluation context for the working runs ``rows`` only (see :meth:`evaluate_rows`);
        the one :meth:`apply_actions` shares among an action's evaluations when ``rows`` are
        that action's runs (:attr:`shared_rows`)."""
        if rows is self.shared_rows:
            sub = self.shared_context
            if sub is None:
                sub = self.shared_context = self.new_row_context(rows)
            return sub
        if not rows.size:
            return self.no_row_context()
        return self.new_row_context(rows)

    def no_row_context(self) -> ex.EvalContext:
        """The evaluation context for no working run (hundreds of evaluations a simulation, most
        of them only moving random call sites on, see :meth:`evaluate_rows`): one per block,
        made again when compaction changes the number of runs, its record of cut values emptied
        and its week and modes set from :attr:`ctx` at each use (what a new one would hold)."""
        sub = self._no_row_context
        if sub is None or sub.values.n != self.n:
            sub = self._no_row_context = self.new_row_context(NO_ROWS)
        else:
            ctx = self.ctx
            sub.values.cut.clear()
            sub.week, sub.commit, sub.expected, sub.windows, sub.held = ctx.week, ctx.commit, ctx.expected, ctx.windows, ctx.held
        return sub

    def new_row_context(self, rows: np.ndarray) -> ex.EvalContext:
        """A new evaluation context for the working runs ``rows`` only."""
        ctx = self.ctx
        sub = ex.EvalContext(_RowValues(self.values, rows, self.n), rows.size, self.streams.rows(rows).get)
        sub.week, sub.commit, sub.expected, sub.windows, sub.held = ctx.week, ctx.commit, ctx.expected, ctx.windows, ctx.held
        return sub

    def write_rows(self, var: str, op: str, rows: np.ndarray, amount: np.ndarray) -> None:
        """Add ``amount`` to (or set it as) ``var`` in runs ``rows``, within its bounds."""
        new = self.copy_of(var)
        new[rows] = self.updated(var, op, new[rows], amount)
        self.values[var] = new

    def updated(self, var: str, op: str, old, amount) -> np.ndarray:
        """``var``'s value after an ``add`` of ``amount`` to ``old`` (or a ``set`` to it), within its
        bounds: a new array, ``old`` is left as it is."""
        return self.clip[var](old + amount) if op == "add" else self.set_clip[var](amount)

    def updated_own(self, var: str, op: str, own: np.ndarray, amount) -> np.ndarray:
        """:meth:`updated` for ``own``, a float array the caller owns and gives up (values cut
        from a variable, say): an ``add`` is made in it (the same sums, without a new array)."""
        if op == "add":
            return self.clip[var](np.add(own, amount, out=own))
        return self.updated(var, op, own, amount)

    def unshared(self, var: str) -> bool:
        """Whether nothing but :attr:`values` holds ``var``'s array, once :meth:`check_finite`'s
        record of it is dropped (a changed array is summed at the next check, as a new one is):
        no variable, list, dict, closure, view (a view holds its base) or buffer refers to it,
        so a change in place can be seen only through :attr:`values`. CPython's reference count
        tells (the test numpy's ``ndarray.resize`` makes before it reallocates in place)."""
        refs = _references(self.values, var)
        if refs == _ONLY_DICT + 1 and self.checked.get(var) is self.values[var]:
            del self.checked[var]
            refs -= 1
        return _COUNTED and refs == _ONLY_DICT

    def copy_of(self, var: str) -> np.ndarray:
        """An array of ``var``'s values that the caller may change and then store as ``var``:
        the current array itself when nothing but :attr:`values` holds it (see :meth:`unshared`),
        else a new float array. An array held elsewhere (anticipation's baseline, a chooser's
        view, :meth:`check_finite`'s record, an amount about to be applied) is never changed in
        place, so whoever holds it keeps the values it saw."""
        sole = self.unshared(var)  # asked before ``value`` below holds it too
        value = self.values[var]
        if type(value) is np.ndarray and value.shape == (self.n,) and value.dtype == np.float64:
            if sole and value.flags.writeable and value.flags.owndata:
                return value
            return value.copy()
        return np.array(np.broadcast_to(value, (self.n,)), dtype=float)

    def attribution_drawn(self, plan: ActionPlan, amounts, rows: np.ndarray, changes) -> tuple | None:
        """The draws of :meth:`attribute`: None when nothing waits (an overt action's attributed
        effects are added to ``changes`` now; a covert one with no attributed effect still moves
        its draws on), else the attributed effects ``(variable, amount)``, the runs where the act
        is attributed, each effect's amount there (a number stays a number) and each run's delay
        in weeks (a whole number, 0 or later: never NaN)."""
        action = plan.action
        attributed = [(var, amounts[k]) for k, var in plan.attributed]
        if not action.covert:
            for var, amt in attributed:
                changes.append((var, "add", rows, amt))
            return None
        e = action.attribution_probability
        prob = probability_number(e)  # a number: each draw is compared with it, nothing to count
        if prob is None:
            prob = self.evaluate_rows(e, rows)
            self.note_clipped(e, prob, True)
        hit = self.draw(plan.attribution_site, rows) < prob
        if not attributed:
            return None
        landing = rows[hit]
        delay = np.fmax(np.rint(self.evaluate_rows(action.attribution_delay, landing)), 0)
        return attributed, landing, [amount_at(amt, hit) for _, amt in attributed], delay

    def attribute(self, plan: ActionPlan, amounts, rows: np.ndarray, week: int, changes) -> None:
        """Queue the attributed effects of ``plan``'s action taken in runs ``rows`` (``amounts``: each
        effect's, a number or one value per row).

        The runs attributed this week (delay 0, the fewest: delays are mostly Poisson draws with
        a mean of weeks) are split off only when there are some; the rest wait in the ring buffer
        (all of them, unless a delay reaches :data:`MAX_DELAY`), so in most calls no mask picks
        runs twice over."""
        drawn = self.attribution_drawn(plan, amounts, rows, changes)
        if drawn is None:
            return
        attributed, landing, amounts, delay = drawn
        if not landing.size:
            return
        # delay holds no NaN (fmax takes the 0) and no negative number: 0 or later
        now = delay == 0
        now_count = np.count_nonzero(now)
        if now_count:
            if now_count == landing.size:
                for (var, _), amt in zip(attributed, amounts):
                    changes.append((var, "add", landing, amt))
                return
            for (var, _), amt in zip(attributed, amounts):
                changes.append((var, "add", landing[now], amount_at(amt, now)))
            later = ~now
            landing, delay, amounts = landing[later], delay[later], [amount_at(amt, later) for amt in amounts]
        # Delays of MAX_DELAY weeks or more (rare) wait in a list instead of the ring buffer;
        # ones landing after the horizon are never delivered. No delay is capped. A delay
        # beyond the ring's slots (and within MAX_DELAY) makes it grow first.
        ring = self.pending[plan.action.id]
        if not all_within(delay, 1.0, ring.size - 1.0):
            soon = delay < MAX_DELAY
            far = ~soon & (week + delay <= self.setup.horizon)
            if np.count_nonzero(far):
                runs = landing[far]
                due = (week + delay[far]).astype(int)
                for (var, _), amt in zip(attributed, amounts):
                    self.far_pending.append((due, self.idx[runs].copy(), var,
                                             np.array(np.broadcast_to(amt, landing.shape)[far])))
            landing, delay, amounts = landing[soon], delay[soon], [amount_at(amt, soon) for amt in amounts]
            if not landing.size:
                return
            ring.grow(week, int(np.maximum.reduce(delay)) + 1)
        ring.queue(week, delay, landing, amounts)

    def deliver_attributions(self, week: int) -> None:
        if self.far_pending:
            waiting = []
            for due, ids, var, amount in self.far_pending:
                ready = due == week
                if ready.any():
                    pos = np.searchsorted(self.idx, ids[ready])
                    inside = pos < self.n
                    inside[inside] &= self.idx[pos[inside]] == ids[ready][inside]
                    add = np.zeros(self.n)
                    np.add.at(add, pos[inside], amount[ready][inside])
                    self.values[var] = self.updated(var, "add", self.values[var], np.where(self.alive, add, 0.0))
                if (~ready).any():
                    waiting.append((due[~ready], ids[~ready], var, amount[~ready]))
            self.far_pending = waiting
        ended = None  # the ended runs, found when first needed
        for aid, ring in self.pending.items():
            amounts = ring.due(week)
            if amounts is None:  # nothing was queued for this week: every amount is 0
                continue
            for k, (_, var) in enumerate(self.action_plans[aid].attributed):
                due = amounts[k]
                # any(), not count_nonzero: on floats count_nonzero tests each value through the
                # dtype's own function (twice the instructions at 10k runs)
                if due.any():
                    if ended is None:
                        ended = self.ended()
                    due[ended] = 0.0  # ended runs take nothing (the slot is emptied below)
                    self.values[var] = self.updated_own(var, "add", self.copy_of(var), due)
                    due[:] = 0.0

    def run_processes(self) -> None:
        """Each process updates its variables, all computed from the state before it, in the runs
        where it applies (only those runs are computed, see :meth:`evaluate_rows`).

        A ``set`` to a value the evaluation made for this update alone (``Expression.fresh``, a
        writable array) is brought within bounds in that array: :meth:`updated` would copy it
        first, and the clip of the copy has the same values."""
        ctx, values = self.ctx, self.values
        all_alive = not self.ended().size
        live_rows = ended = None  # the live and the ended runs, found once for every process without a condition
        for when, regime, updates, dense in self.process_plans:
            if when is None and all_alive:
                new_values = [e.evaluate(ctx) for _, _, e, _, _, _ in updates]
                for update, value in zip(updates, new_values):
                    var = update[0]
                    values[var] = _process_update(update, values[var], value)
                continue
            if when is None and dense and self.n - self.ended().size >= DENSE_SHARE * self.n:
                # every value computed for every run (as evaluate_rows would), the ended runs
                # keeping theirs: the live runs' positions are read only where one is not
                new_values = []
                for _, _, e, _, _, _ in updates:
                    try:
                        new_values.append(e.evaluate(ctx))
                    except ExpressionError:  # outside a function's domain in an ended run, say
                        live_rows = self.alive.nonzero()[0] if live_rows is None else live_rows
                        new_values.append(self.evaluate_rows(e, live_rows, dense=True))
                ended = self.ended()
                for update, value in zip(updates, new_values):
                    var = update[0]
                    old = values[var]
                    if value.shape[0] != self.n:
                        self.write_rows(var, update[1], live_rows, value)
                    else:
                        values[var] = self.kept_where_ended(_process_update(update, old, value), old, ended)
                continue
            if when is None:
                mask = self.alive
                if live_rows is None:
                    live_rows = mask.nonzero()[0]
                rows = live_rows
            elif regime is not None:  # the runs inside the regime, as run_regimes found them
                inside, rows = self.regime_inside(regime)
                if all_alive:
                    mask = inside
                else:  # made only if read below (the rows are increasing: those of the mask)
                    mask = None
                    rows = rows[self.alive[rows]]
            else:
                mask = when.evaluate_truth(ctx)
                mask = mask if all_alive else self.alive & mask
                rows = mask.nonzero()[0]
            new_values = [self.evaluate_rows(e, rows, dense=True) for _, _, e, _, _, _ in updates]
            if not rows.size:
                continue
            for update, value in zip(updates, new_values):
                var = update[0]
                if value.shape[0] == rows.size:
                    self.write_rows(var, update[1], rows, value)
                else:  # computed for every run (see evaluate_rows): kept where the process applies
                    old = values[var]
                    new = _process_update(update, old, value)
                    if when is None:  # it applies in the live runs
                        ended = self.ended() if ended is None else ended
                        values[var] = self.kept_where_ended(new, old, ended)
                    else:
                        if mask is None:
                            mask = self.alive & inside
                        values[var] = np.where(mask, new, old)

    def run_decisions(self, week: int) -> None:
        """Collective decisions: the model re-run every ``every_weeks`` weeks on live runs; in the
        other weeks an input with windows is evaluated (windows stay current) and one that draws
        moves its random call sites on (:meth:`pass_unread`), the others are not read."""
        for d, moving in self.decisions:
            if not (week % d.every_weeks == 0 or week == 1):  # not due: the inputs are not read
                for e in moving:
                    self.pass_unread(e)
                continue
            inputs = self.decision_inputs(d)
            live = self.alive
            if not live.any():
                continue
            position = collective_positions(d, *inputs, live=None if live.all() else live)
            new = self.values[d.target].copy() if isinstance(self.values[d.target], np.ndarray) else np.full(self.n, self.values[d.target])
            new[live] = position
            self.values[d.target] = self.clip[d.target](new)

    def decision_inputs(self, d) -> list[list[np.ndarray]]:
        """A decision's positions, saliences and capabilities, one array per party. Parties often
        share a rule (the same text): one that neither draws nor keeps windows is evaluated once
        (its arrays are only read)."""
        ctx, shared = self.ctx, {}

        def value(e: ex.Expression) -> np.ndarray:
            if e.stateful:
                return e.evaluate(ctx)
            if e.text not in shared:
                shared[e.text] = e.evaluate(ctx)
            return shared[e.text]

        return [[value(e) for e in group] for group in (d.positions, d.saliences, d.capabilities)]

    def run_red_lines(self, week: int) -> None:
        """Each red line is checked once a week, in the order written: a response can trip a red
        line written after it the same week, and one written before it the next week."""
        ctx = self.ctx
        for rl, (fire_site, response_site) in zip(self.p.red_lines, self.red_line_sites):
            cond = rl.condition.evaluate_truth(ctx)
            # A credibility with windows is evaluated for every run every week (current windows);
            # any other only where the red line fires (elementwise: the same values; one that
            # draws computes those runs' draws, its sites moving on by a call either way).
            cred_e = rl.credibility
            cred = cred_e.evaluate(ctx) if cred_e.windows else None
            fired = (cond & self.alive).nonzero()[0]
            if fired.size and (rl.once or rl.cooldown_weeks):  # spent or resting in some runs
                fired = fired[self.can_fire(rl, fired)]
            # Both streams move on by a block every week (aligned streams), read only where needed.
            draw = self.draw(fire_site, fired)
            if not fired.size:  # nothing fires: no record changes
                if cred is None:
                    self.pass_unread(cred_e)
                if response_site is not None:
                    self.draw(response_site, fired)
                continue
            if cred is not None:
                cred = cred[fired]
            else:  # a number in [0, 1] is compared with each draw as it is
                cred = probability_number(cred_e)
                if cred is None:
                    cred = self.evaluate_rows(cred_e, fired)
            carried = fired[draw < cred]  # the runs where the owner enforces it
            pick = None if response_site is None else self.draw(response_site, carried)
            self.note_clipped(cred_e, cred, True)  # cred: the fired runs' values
            self.record_firing(rl, fired, carried, week)
            if carried.size:
                self.respond(rl, carried, pick, week)

    def respond(self, rl: CompiledRedLine, carried: np.ndarray, pick: np.ndarray | None, week: int) -> None:
        """The owner's response to ``rl`` in the runs ``carried``: one of its responses per run
        (by ``pick``, a uniform per run of ``carried``, when there are several), applied and
        counted."""
        by_response = [carried] if pick is None else self.picked_responses(rl, carried, pick)
        parts: dict[str, list[np.ndarray]] = {}
        levels: dict[str, np.ndarray] = {}
        for (aid, level), rows in zip(rl.responses, by_response):
            parts.setdefault(aid, []).append(rows)
            if self.p.actions[aid].levels:
                levels.setdefault(aid, np.zeros(self.n, dtype=np.int64))[rows] = level
        # the responses split ``carried`` (increasing): an action's runs are its parts, sorted
        taken = {aid: rows[0] if len(rows) == 1 else np.sort(np.concatenate(rows)) for aid, rows in parts.items()}
        self.apply_actions(taken, week, levels, commit=False)
        for (aid, level), rows in zip(rl.responses, by_response):
            if not rows.size:
                continue
            # An action's value is 1.0 in the runs that took it this week and 0.0 elsewhere, so
            # marking the rows gives max(value, taken) without a pass over every run.
            self.values[aid] = self.response_marked(aid, rows)
            self.action_count[aid][rows] += 1  # rows are distinct: each counted once
            if self.p.actions[aid].levels:
                self.option_count[option_id(self.p.actions[aid], level)][rows] += 1

    def picked_responses(self, rl: CompiledRedLine, carried: np.ndarray, pick: np.ndarray) -> list[np.ndarray]:
        """The runs of ``carried`` taking each of ``rl``'s responses: the one whose share of the
        cumulative total holds the run's uniform ``pick``. Only those runs are computed
        (elementwise: the same numbers as over every run)."""
        self.baseline_trips = {}  # the state has moved on since the choices
        shares = self.response_shares(rl, anticipate=True)
        self.baseline_trips = {}  # read by nothing after the shares: let go of its arrays
        picked, cumulative = [], np.zeros(carried.size)
        for share in shares:
            upper = cumulative + np.broadcast_to(share, (self.n,))[carried]
            picked.append((pick >= cumulative) & (pick < upper))
            cumulative = upper
        picked[-1] |= pick >= cumulative  # rounding: the total is 1
        return [carried[p] for p in picked]

    def record_firing(self, rl: CompiledRedLine, fired: np.ndarray, carried: np.ndarray, week: int) -> None:
        """Record that ``rl`` fired this week in runs ``fired`` and was enforced in ``carried``
        (the records are the block's own arrays, so only those runs are written)."""
        first_week = self.red_line_week[rl.id]
        first = fired[no_week_yet(first_week[fired])]
        if rl.cooldown_weeks:  # only a red line that rests reads when it last fired
            self.last_fired[rl.id][fired] = float(week)
        if carried.size:
            self.red_line_enforced[rl.id][carried] = True
        self.red_line_firings[rl.id][fired] += 1
        if first.size:  # its value, 1.0 where it has ever fired, is new in the runs ``first``
            first_week[first] = float(week)
            self.values[rl.id] = self.marked(rl.id, first)

    def marked(self, name: str, rows: np.ndarray) -> np.ndarray:
        """``name``'s values with 1.0 in the working runs ``rows``, as an array the caller may
        store (see :meth:`copy_of`): the value of an outcome or red line, 1.0 from the week it is
        first reached, when it is reached in ``rows`` (the same numbers as recomputing it from the
        record of first weeks), or of an action taken in ``rows`` this week."""
        value = self.copy_of(name)
        value[rows] = 1.0
        return value

    def response_marked(self, aid: str, rows: np.ndarray) -> np.ndarray:
        """:meth:`marked` for action ``aid`` answering a red line in the runs ``rows``. An action
        that no run chose this week holds the shared :meth:`zeros`; its new array is then the one
        made for its responses in an earlier week, once nothing else holds it (CPython's count,
        as :meth:`unshared`): the runs marked there are set back to 0.0, which costs far less
        than a new array of zeros when few runs respond (the same values either way)."""
        if self.values[aid] is not self._zeros:
            return self.marked(aid, rows)
        spare = self.spare_marks
        # held by ``spare`` alone (compact() lets go of every spare: its runs' positions change)
        if _COUNTED and aid in spare and _references(spare, aid) == _ONLY_DICT:
            value = spare[aid]
            value[self.spare_rows[aid]] = 0.0
        else:
            value = np.zeros(self.n)
        value[rows] = 1.0
        spare[aid], self.spare_rows[aid] = value, rows
        return value

    def run_regimes(self, week: int) -> None:
        """Enter or leave each regime with its weekly hazard: the runs outside it enter where
        the draw falls below ``enter``, the runs inside stay unless it falls below ``exit``.

        The hazard of the side that holds most runs is evaluated for every run, the other only
        in its own runs (see :meth:`hazard`; elementwise, so the same values there), and the
        smaller side's comparisons are written into the one made for every run: no select
        between the two hazards over every run. First weeks and weeks inside are written in the
        runs inside after the draw alone when those are few (:data:`MARKED_SHARE`)."""
        ctx = self.ctx
        all_alive = not self.ended().size
        ended = None if all_alive or not self.p.regimes else self.ended()
        for g, site in zip(self.p.regimes, self.regime_sites):
            inside, rows_in = self.regime_inside(g.id)
            few_inside = 2 * rows_in.size <= self.n
            if few_inside:
                enter = g.enter.evaluate(ctx)
                leave = self.hazard(g.exit, rows_in)
                self.note_clipped(g.enter, enter, lambda: self.alive & ~inside)
                self.note_clipped(g.exit, leave, lambda: self.alive[rows_in])
                now = self.switched(site, enter, inside, rows_in, leave, ended)
            else:
                rows_out = (~inside).nonzero()[0]
                enter = self.hazard(g.enter, rows_out)
                leave = g.exit.evaluate(ctx)
                draw = self.draw(site)
                self.note_clipped(g.enter, enter, lambda: self.alive[rows_out])
                self.note_clipped(g.exit, leave, lambda: self.alive & inside)
                now = ~(draw < leave)
                if rows_out.size:
                    now[rows_out] = draw[rows_out] < enter
                now = self.kept_where_ended(now, inside, ended)
            value = self.values[g.id] = now.astype(float)
            first_week = self.regime_week[g.id]  # the block's own record: written in place
            rows_now = now.nonzero()[0]
            now.setflags(write=False)
            rows_now.setflags(write=False)
            self.regime_seen[g.id] = (value, now, rows_now)
            if rows_now.size * MARKED_SHARE > self.n:  # many runs inside: through masks over every run
                first_week[(now & no_week_yet(first_week)).nonzero()[0]] = float(week)
                self.regime_weeks[g.id] += mask_bytes(now if all_alive else now & self.alive)
                continue
            first_week[rows_now[no_week_yet(first_week[rows_now])]] = float(week)
            if not all_alive:
                rows_now = rows_now[self.alive[rows_now]]
            self.regime_weeks[g.id][rows_now] += 1  # distinct rows: each counted once

    def switched(self, site: str, enter: np.ndarray, inside: np.ndarray, rows_in: np.ndarray, leave: np.ndarray,
                 ended: np.ndarray | None) -> np.ndarray:
        """Whether each working run is inside a regime after this week's draw at ``site``, when
        few runs (``rows_in``, mask ``inside``, with exit hazards ``leave``) are inside it and
        ``enter`` is the enter hazard of every run: a run outside enters where its draw falls
        below ``enter``, one inside stays unless its draw falls below ``leave``; the runs
        ``ended`` (:meth:`ended`, or None when every run is alive) stay as they are.

        A draw lies in [0, 1), so it never falls below a hazard that is not above 0 (nor below
        NaN): a run outside with such a hazard stays outside whatever it draws. When those are
        most of the runs (a hazard that is 0 below some threshold, say), only the other runs'
        draws are computed (:meth:`draw`; a run's number is the one it has in a draw for every
        run): the same truth values without most of the week's draws, and an ended run that is
        not drawn is outside and stays so, so only the drawn ones are set back."""
        hot = enter > 0
        hot[rows_in] = True  # a new array (enter is a float array over the runs)
        if np.count_nonzero(hot) > self.n // DRAWN_SHARE:
            draw = self.draw(site)
            now = draw < enter  # outside: enters if the draw falls below the hazard
            if rows_in.size:  # inside: stays unless it falls below the exit hazard
                now[rows_in] = ~(draw[rows_in] < leave)
            return self.kept_where_ended(now, inside, ended)
        drawn = hot.nonzero()[0]
        draw = self.draw(site, drawn)
        now = np.zeros(self.n, dtype=bool)
        now[drawn] = draw < enter[drawn]
        if rows_in.size:
            now[rows_in] = ~(draw[np.searchsorted(drawn, rows_in)] < leave)
        if ended is not None and ended.size:
            drawn_ended = drawn[~self.alive[drawn]]
            now[drawn_ended] = inside[drawn_ended]
        return now

    def regime_inside(self, gid: str) -> tuple[np.ndarray, np.ndarray]:
        """The working runs inside regime ``gid``: its value ``!= 0`` (a read-only mask) and
        those runs' positions (increasing, read-only). While the value is still the array
        :meth:`run_regimes` made (nothing replaced it; compaction cuts it into a new one), they
        are the ones found then, the same truth values: no pass over the runs for the regime's
        next draw nor for a process that runs in it."""
        value = self.values[gid]
        seen = self.regime_seen.get(gid)
        if seen is not None and seen[0] is value:
            return seen[1], seen[2]
        inside = value != 0
        return inside, inside.nonzero()[0]

    def hazard(self, e: ex.Expression, rows: np.ndarray) -> np.ndarray:
        """Regime hazard ``e``'s values in the working runs ``rows``: computed for those rows only
        (see :meth:`evaluate_rows`) unless it draws or keeps windows, which is evaluated for every
        run as it always was (its windows stay current, its draws those of every run) and cut."""
        if e.stateful:
            return e.evaluate(self.ctx)[rows]
        return self.evaluate_rows(e, rows)

    def record_outcomes(self, week: int) -> None:
        """Record the outcomes first reached this week; an absorbing one ends its runs.

        An outcome may be first reached in the runs alive that hold no week for it yet. That mask
        is kept for each outcome (:attr:`unreached`) and changed only where runs reach it or end:
        one pass a week where ``alive`` and the record of first weeks took three. An absorbing
        outcome needs none: a run that reaches it ends, so every live run has yet to reach it
        (and while no run has ended, the condition alone decides)."""
        ctx = self.ctx
        ending = []
        all_alive = not self.ended().size
        for o in self.p.outcomes:
            if o.week is not None and o.week != week:  # not its week: nothing is recorded
                self.pass_unread(o.condition)
                continue
            cond = o.condition.evaluate_truth(ctx)
            if not o.absorbing:
                first = (cond & self.unreached[o.id]).nonzero()[0]
            else:
                first = (cond if all_alive else cond & self.alive).nonzero()[0]
            if not first.size:  # no run reaches it this week: its records stay as they are
                continue
            self.outcome_week[o.id][first] = float(week)  # the block's own record: written in place
            self.values[o.id] = self.marked(o.id, first)
            if o.absorbing:
                ending.append(first)
            else:
                self.unreached[o.id][first] = False
        if ending:
            rows = np.concatenate(ending) if len(ending) > 1 else ending[0]
            self.stopped_week[rows] = float(week)
            self.end(rows)

    def end(self, rows: np.ndarray) -> None:
        """The live working runs ``rows`` (an index array or a mask) stop: they are no longer alive
        and reach no outcome any more; their flows are set aside (see :meth:`set_flows_aside`)."""
        if self.ended_flows is not None:
            for name, kept in self.ended_flows.items():
                kept[rows] = np.broadcast_to(self.values[name], (self.n,))[rows]
        self.alive[rows] = False
        self._ended = None
        for still in self.unreached.values():
            still[rows] = False

    def check_finite(self, week: int) -> None:
        """Runs whose state holds a NaN or an infinity fail and stop. A variable whose array is
        still the one recorded at last week's check holds nothing new and is not read again:
        :meth:`copy_of` changes an array in place only after dropping its record here (see
        :meth:`unshared`).

        The quick test sums each changed variable's values: a sum is finite only if every term
        is, or if it overflowed, and then the exact test below decides. ``np.add.reduce`` reads
        each array once and allocates nothing (``np.dot`` would too, but BLAS may wake threads
        for it, which costs far more on a busy machine). Over few runs, where a reduction's
        fixed cost outweighs its values, the changed arrays are joined and summed once: the
        sum of all the values is finite on the same terms. Over many runs each array is summed
        by ``np.einsum`` (its vectorised sum: a third fewer instructions than ``np.add.reduce``'s
        pairwise one over 32,768 values, and no BLAS), whose sum is finite on the same terms
        too (rounded differently, which only the overflow of finite values can tell, and the
        exact test then decides as before)."""
        checked = self.checked
        changed = [value for name in self.p.variables
                   if checked.get(name) is not (value := self.values[name])]
        if self.n * len(changed) <= JOINED_CHECK:
            total = np.add.reduce(np.concatenate(changed), axis=None) if changed else 0.0
        elif self.n >= SUMMED_BY_EINSUM:
            total = 0.0
            for value in changed:
                total += np.einsum("i->", value)
        else:
            total = 0.0
            for value in changed:
                total += np.add.reduce(value, axis=None)
        if math.isfinite(total):
            self.checked = {name: self.values[name] for name in self.p.variables}
            return
        bad = np.zeros(self.n, dtype=bool)
        for name in self.p.variables:
            bad |= ~np.isfinite(self.values[name])
        bad &= ~self.failed
        self.checked = {}  # failed runs keep their values: check everything again next week
        if bad.any():
            self.failed |= bad
            self.end(bad & self.alive)
            self.stopped_week = np.where(bad & np.isnan(self.stopped_week), float(week), self.stopped_week)

    def final_values(self, var: str) -> np.ndarray:
        """Variable ``var``'s values over the working runs as they stand, those of the ended runs
        as they ended (a flow's, when set aside: see :meth:`set_flows_aside`)."""
        value = np.broadcast_to(self.values[var], (self.n,))
        if self.ended_flows is not None and var in self.ended_flows and self.ended().size:
            value = np.where(self.alive, value, self.ended_flows[var])
        return value

    def state_matrix(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The variables' values (variables x runs) of the working runs ``rows`` (all by default)."""
        return np.stack([self.final_values(v)[rows] for v in self.p.variables])

    def write_out(self, rows: np.ndarray | slice) -> None:
        """Copy the records of the working runs ``rows`` (increasing indices, or ``slice(None)``
        for all) into the block's results. When every run of the block is still in the working
        arrays (nothing was compacted), all of them are written through a slice: plain copies,
        where an array of positions makes numpy scatter value by value (several times slower).
        Each record is written into its own row of a result (``out[i][pos]``): numpy scatters
        into one row by positions in about half the time it takes for a row and positions
        together (``out[i, pos]``), and the variables are written one by one rather than
        stacked into a matrix first."""
        everyone = isinstance(rows, slice) and rows == slice(None) and self.n == self.full
        pos = slice(None) if everyone else self.idx[rows]
        r = self.result
        for out, v in zip(r["final_state"], self.p.variables):
            out[pos] = self.final_values(v)[rows]
        for name, records in (("outcome_week", self.outcome_week), ("red_line_week", self.red_line_week),
                              ("red_line_enforced", self.red_line_enforced),
                              ("red_line_firings", self.red_line_firings), ("action_count", self.action_count),
                              ("option_count", self.option_count), ("regime_week", self.regime_week),
                              ("regime_weeks", self.regime_weeks)):
            for out, record in zip(r[name], records.values()):
                out[pos] = record[rows]
        r["stopped_week"][pos] = self.stopped_week[rows]
        r["failed"][pos] = self.failed[rows]

    def compact(self) -> None:
        """Write out ended runs and keep only live ones in the working arrays. The runs are cut
        by their indices (``take``), not by the mask: ended runs are scattered, and a boolean
        index over scattered runs costs several times as much."""
        kept = self.alive.nonzero()[0]
        self.write_out(self.ended())
        n = self.n

        def cut(x):
            return x.take(kept, axis=-1) if isinstance(x, np.ndarray) and x.shape[-1:] == (n,) else x

        for name, value in list(self.values.items()):
            self.values[name] = cut(value)
        self.flow_start = {k: cut(v) for k, v in self.flow_start.items()}
        if self.ended_flows is not None:  # every run kept is alive
            self.ended_flows = {k: np.zeros(kept.size) for k in self.ended_flows}
        for key, state in list(self.ctx.windows.items()):
            if isinstance(state, ex.RingBuffer):
                state.take(kept)
            else:
                self.ctx.windows[key] = cut(state)
        for ring in self.pending.values():
            ring.take(kept)
        self.spare_marks, self.spare_rows = {}, {}  # their runs' positions change
        for records in (self.outcome_week, self.unreached, self.red_line_week, self.red_line_enforced, self.red_line_firings,
                        self.action_count,
                        self.option_count, self.last_fired, self.regime_week, self.regime_weeks):
            for k in records:
                records[k] = records[k].take(kept)
        self.alive, self.failed, self.stopped_week = self.alive[kept], self.failed[kept], self.stopped_week[kept]
        self._ended = None
        self.idx = self.idx[kept]
        self.n = int(kept.size)
        self.ctx.runs = self.n
        self.streams.subset = self.idx


def simulate_block(program: Program, setup: RunSetup, runs: int, block: int, trajectories: bool, *,
                   compact: bool = True):
    """Simulate ``runs`` runs from block ``block`` on (one block, or consecutive ones together:
    see ``common.block_spans``); returns a dict of arrays (see ``escalation.run``)."""
    b = _Block(program, setup, runs, block)
    # Trajectories and probes follow every run to the horizon, so ended runs stay in place then.
    may_compact = compact and not trajectories and not setup.probes
    with np.errstate(all="ignore"):
        b.initialise()
        if not trajectories and not setup.probes:
            b.set_flows_aside()
        traj = np.empty((setup.horizon, len(program.variables), runs)) if trajectories else None
        for week in range(1, setup.horizon + 1):
            if not b.alive.any() and not setup.probes:
                if traj is not None:
                    traj[week - 1:] = b.state_matrix()
                break
            b.step(week)
            if traj is not None:
                traj[week - 1] = b.state_matrix()
            if may_compact and b.n >= 64 and np.count_nonzero(b.alive) < COMPACT_BELOW * b.n:
                b.compact()
    b.write_out(slice(None))
    return {
        **b.result,
        "clipped": dict(b.clipped),
        "trajectory": traj,
        "probe": np.stack([b.probe[name] for name, _, _ in setup.probes]) if setup.probes else None,
    }
