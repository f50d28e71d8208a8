"""Anticipation of red-line responses by a quantal-response chooser (depth one).

A ``logit`` actor weighs each option *a* by U(a), the change in its goal value from a's expected
one-step effects (McKelvey & Palfrey 1995). Without anticipation it does not see that *a* may
trip another actor's red line this week, so a declared red line cannot deter it. With
anticipation (``policy: {kind: logit, anticipate: true}``, the default) the utility becomes

    U(a) + Σ_r  c_r · (T_r(a) − T_r(∅)) · Σ_k π_r(k) · G(k)

where, for each red line *r*:

* ``T_r(a)`` is whether r's condition holds on the state *after* a's expected effects (from the
  start-of-week state, with a counted as taken this week and window functions folding this week's
  value in without storing it). A covert act reaches the ``attributed:`` variables only if it is
  attributed this week: T_r(a) = q·T_r(a, attributed) + (1 − q)·T_r(a, not attributed), with q the
  attribution probability when the expected delay rounds to zero weeks and 0 otherwise;
* ``T_r(∅)`` is the same on the state where the actor does nothing, so only what *a itself* trips
  counts (U(∅) = 0 stays the reference);
* ``c_r`` is r's credibility, 0 when r cannot fire (``once`` and already fired, or resting);
* ``π_r(k)`` is the probability that r's owner answers with response *k* (its own policy over the
  list: logit over the owner's utilities of the responses, scripted probabilities renormalised);
* ``G(k)`` is response k's expected effects weighed by the *chooser's* goals.

This is one step of agent quantal response (McKelvey & Palfrey 1998, Experimental Economics 1:9-41,
doi:10.1023/A:1009905800005): each agent best-responds noisily to the other agents' (here the red
line owners') behaviour, and the chooser models the owner as a level-0 responder who does not
itself look further ahead — the level-1 reasoning of Stahl & Wilson (1995, Games and Economic
Behavior 10:218-254, doi:10.1006/game.1995.1031).

Deeper look-ahead (not implemented; depth one is what the scenario format promises) would recurse:
at depth d, π_r(k) would use the owner's utilities *with* anticipation of depth d − 1 (the
responses that k itself trips, and so on), and T_r would be evaluated on the state after the
processes as well as after the action. Each level multiplies the cost by the number of red lines
reachable from a response, and a cycle of red lines answering each other bounds it naturally by
the per-week rule that a red line fires at most once a week; a level-k chooser with k = 2 would
therefore cost roughly (1 + red lines per response) times the depth-one price.

Limitations of depth one, stated in docs/scenarios.md: the post-action state does not run this
week's processes, so a red line that reads a variable only processes update (e.g. a running total
fed from a weekly flow) is tripped in the look-ahead only through the variables the action itself
changes.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from redline import expr as ex
from redline.escalation import rules
from redline.escalation.arrays import no_week_yet
from redline.scenario.compile import CompiledAction, CompiledPolicy, CompiledRedLine, Program

__all__ = ["Anticipating", "relevant_red_lines", "seen_effects", "touched_names", "without_anticipation"]


def touched_names(program: Program, aid: str) -> frozenset[str]:
    """Names whose value ``aid`` changes this week: its effects' variables, attributed records
    and the action's own indicator."""
    action = program.actions[aid]
    names = {aid}
    for eff in action.effects:
        names.add(eff.var)
        if eff.attributed is not None:
            names.add(eff.attributed)
    return frozenset(names)


def relevant_red_lines(program: Program) -> dict[str, tuple[int, ...]]:
    """Action id -> indices of the red lines whose condition reads something the action changes.

    Only these can be tripped differently by taking the action than by doing nothing, so only
    these are evaluated in the look-ahead.
    """
    relevant = {}
    for aid in program.actions:
        touched = touched_names(program, aid)
        relevant[aid] = tuple(i for i, rl in enumerate(program.red_lines) if rl.condition.names & touched)
    return relevant


def seen_effects(program: Program, relevant: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Action id -> indices of the effects the look-ahead evaluates: those whose variable or
    attributed record the condition of one of its ``relevant`` red lines reads (the state after
    the action differs from the state without it in what a condition sees only through these),
    and those that draw or keep windows (their streams and windows move as they always have)."""
    seen = {}
    for aid, action in program.actions.items():
        names = frozenset().union(*(program.red_lines[i].condition.names for i in relevant[aid]))
        seen[aid] = tuple(k for k, eff in enumerate(action.effects)
                          if eff.var in names or eff.attributed in names or eff.value.stateful)
    return seen


def without_anticipation(policy: CompiledPolicy) -> CompiledPolicy:
    """The same policy at depth zero (a red line's owner as the chooser models it)."""
    return replace(policy, anticipate=False)


class Anticipating:
    """The look-ahead of a logit chooser (the formula above) as methods of the engine's block
    (:class:`redline.escalation.engine._Block` derives from it): they evaluate expressions on the
    block's state in expected mode."""

    def expected_utility(self, action: CompiledAction, level: int, policy: CompiledPolicy, *,
                         effects_only: bool = False) -> np.ndarray | float:
        """The chooser's goal change from the action's expected effects (plus its utility terms
        unless ``effects_only``), evaluated in expected mode on the current state: a number when
        every term is the same in every run (the same value each run's array would hold, as
        each step is the same IEEE operation on numbers as on arrays)."""
        goals = policy.goals
        total = 0.0
        p_attr = None
        self.set_level(action, level)
        try:
            for eff in action.effects:
                w_var = goals.get(eff.var, 0.0)
                w_att = goals.get(eff.attributed, 0.0) if eff.attributed else 0.0
                if not w_var and not w_att:
                    continue
                mean = self.value_of(eff.value)
                delta = mean if eff.op == "add" else mean - self.values[eff.var]
                total = total + w_var * delta
                if w_att:
                    if action.covert:
                        if p_attr is None:
                            p_attr = np.clip(self.value_of(action.attribution_probability), 0, 1)
                        total = total + w_att * p_attr * delta
                    else:
                        total = total + w_att * delta
            if not effects_only:
                if action.utility is not None:
                    total = total + self.value_of(action.utility)
                extra = policy.utilities.get(action.id)
                if extra is not None:
                    total = total + self.value_of(extra)
        finally:
            self.clear_level(action)
        return rules.sanitise_utility(total)

    def value_of(self, e: ex.Expression) -> np.ndarray | float:
        """``e``'s value: a number when it is the same in every run and week, else one per run."""
        return e.fixed if e.fixed is not None else e.evaluate(self.ctx)

    # -- anticipation (see redline.escalation.anticipation)
    def can_fire(self, rl: CompiledRedLine, rows: np.ndarray | None = None) -> np.ndarray | bool:
        """Whether ``rl`` may fire this week: not spent (``once``) and not resting (``True``
        when it always may), in every working run or in the working runs ``rows`` (the records
        read there alone: the same truth values)."""
        ok = True
        if rl.once:
            first_week = self.red_line_week[rl.id]
            ok = no_week_yet(first_week if rows is None else first_week[rows])
        if rl.cooldown_weeks:
            last = self.last_fired[rl.id]
            ok = ok & ~(self.ctx.week - (last if rows is None else last[rows]) <= rl.cooldown_weeks)
        return ok

    def condition_on(self, rl: CompiledRedLine, values: dict) -> np.ndarray:
        """``rl``'s condition on a hypothetical state (expected mode, windows not advanced)."""
        saved = self.ctx.values
        self.ctx.values = values
        try:
            return rl.condition.evaluate_truth(self.ctx).astype(float)
        finally:
            self.ctx.values = saved

    def nothing_state(self) -> dict:
        """This week's state before anyone acts, with no action taken."""
        state = self.baseline_trips.get("state")
        if state is None:
            state = dict(self.values)
            for aid in self.p.actions:
                state[aid] = 0.0
            self.baseline_trips["state"] = state
        return state

    def anticipated(self, aid: str, level: int, policy: CompiledPolicy) -> np.ndarray:
        """Expected goal change from the red-line responses that option (aid, level) trips this week."""
        action = self.p.actions[aid]
        base = self.nothing_state()
        after = dict(base)
        after[aid] = 1.0
        attributed_after = None
        self.set_level(action, level)
        try:
            p_now = 0.0
            if action.covert:
                delay = np.rint(action.attribution_delay.evaluate(self.ctx))
                p_now = np.where(delay <= 0, np.clip(action.attribution_probability.evaluate(self.ctx), 0, 1), 0.0)
            # Only what a relevant condition reads is changed (the conditions read nothing else).
            effects = [action.effects[k] for k in self.seen_effects[aid]]
            amounts = [eff.value.evaluate(self.ctx) for eff in effects]
        finally:
            self.clear_level(action)
        for eff, amount in zip(effects, amounts):
            after[eff.var] = self.updated(eff.var, eff.op, after[eff.var], amount)
        if any(eff.attributed is not None for eff in action.effects):
            attributed_after = dict(after)
            for eff, amount in zip(effects, amounts):
                if eff.attributed is not None:
                    attributed_after[eff.attributed] = self.updated(eff.attributed, "add", attributed_after[eff.attributed],
                                                                  amount)
            if not action.covert:
                after, attributed_after, p_now = attributed_after, None, 0.0
        total = np.zeros(self.n)
        for i in self.relevant[aid]:
            rl = self.p.red_lines[i]
            key = ("trip", i)
            if key not in self.baseline_trips:
                self.baseline_trips[key] = self.condition_on(rl, base)
            trips = self.condition_on(rl, after)
            if attributed_after is not None and np.any(p_now):  # a delayed attribution trips nothing now
                trips = (1 - p_now) * trips + p_now * self.condition_on(rl, attributed_after)
            caused = trips - self.baseline_trips[key]
            if not caused.any():  # floats: see deliver_attributions
                continue
            total = total + caused * self.response_value(rl, policy)
        return total

    def response_value(self, rl: CompiledRedLine, chooser: CompiledPolicy) -> np.ndarray:
        """c_r · Σ_k π_r(k) G(k): credibility times the chooser's expected goal change from r's response."""
        key = ("value", rl.id, id(chooser))
        cached = self.baseline_trips.get(key)
        if cached is not None:
            return cached
        cred = np.clip(np.nan_to_num(rl.credibility.evaluate(self.ctx)), 0.0, 1.0) * self.can_fire(rl)
        shares = self.response_shares(rl, anticipate=False)
        value = np.zeros(self.n)
        for (aid, level), share in zip(rl.responses, shares):
            value = value + share * self.expected_utility(self.p.actions[aid], level, chooser, effects_only=True)
        value = cred * value
        self.baseline_trips[key] = value
        return value

    def response_shares(self, rl: CompiledRedLine, *, anticipate: bool) -> list[np.ndarray]:
        """The owner's probabilities over ``rl``'s responses (one is always chosen)."""
        if len(rl.responses) == 1:
            return [np.ones(self.n)]
        owner = self.setup.policies[rl.owner]
        if owner.kind == "external":  # a seat is not asked mid-week: equal shares over the ladder
            return [np.full(self.n, 1.0 / len(rl.responses)) for _ in rl.responses]
        if owner.kind == "scripted":
            return self.scripted_weights(owner, list(rl.responses), None, renormalise=True)
        if not anticipate and owner.anticipate:
            owner = self.plain_policies.setdefault(rl.owner, without_anticipation(owner))
        # Shares that are the same in every run come as numbers: spread them over the runs.
        return [np.broadcast_to(share, (self.n,))
                for share in self.logit_weights(owner, list(rl.responses), None, nothing=False)]
