"""Reference interpreter: the escalation semantics, one run at a time, in plain Python.

Written to be read, not to be fast. It follows the same weekly order as the vectorised engine
(events, choose, act, attribute, processes, red lines, regimes, outcomes) and is tested against it
in distribution; it uses one random stream per run rather than one per call site, so the two
engines agree in distribution, not draw for draw.
"""
from __future__ import annotations

import math

import numpy as np

from redline import expr as ex
from redline.escalation import rules
from redline.escalation.anticipation import relevant_red_lines
from redline.escalation.common import BLOCK_RUNS, RunSetup, block_parameters, collective_positions, expected_mode
from redline.scenario.compile import CompiledAction, CompiledPolicy, CompiledRedLine, Program, option_id

__all__ = ["simulate_reference"]


def _clip(program: Program, name: str, value: float) -> float:
    if program.kinds[name] == "boolean":
        return float(value != 0)
    lo, hi = program.bounds[name]
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


class _Run:
    def __init__(self, program: Program, setup: RunSetup, rng: np.random.Generator, parameters: dict[str, float],
                 seed_sequence: np.random.SeedSequence | None = None):
        self.p = program
        self.setup = setup
        self.parameters = parameters
        self.rng = rng
        self.values: dict[str, float] = {}
        # Every random call site of an expression draws from its own stream (as in the
        # vectorised engine), so adding an expression -- a forecast question's predicate, say --
        # cannot shift the numbers any other site draws.
        self.seed_sequence = seed_sequence
        self.site_rngs: dict[str, np.random.Generator] = {}
        self.ctx = ex.ScalarContext(self.values, self.site_rng if seed_sequence is not None else (lambda site: rng))
        self.alive = True
        self.failed = False
        self.stopped_week = math.nan
        self.outcome_week = {o.id: math.nan for o in program.outcomes}
        self.red_line_week = {r.id: math.nan for r in program.red_lines}
        self.red_line_enforced = {r.id: False for r in program.red_lines}
        self.red_line_firings = {r.id: 0 for r in program.red_lines}
        self.clipped: dict[str, int] = {}
        self.action_count = {a: 0 for a in program.actions}
        self.option_count = {option_id(a, i): 0 for a in program.actions.values() if a.levels
                             for i in range(a.n_levels)}
        self.last_fired = {r.id: math.nan for r in program.red_lines}
        self.regime_week = {g.id: (0.0 if g.initial else math.nan) for g in program.regimes}
        self.regime_weeks = {g.id: 0 for g in program.regimes}
        self.relevant = relevant_red_lines(program)
        self.pending: list[tuple[int, str, float]] = []  # (week due, variable, amount)
        self.probe = {name: math.nan for name, _, _ in setup.probes or ()}

    def site_rng(self, site: str) -> np.random.Generator:
        rng = self.site_rngs.get(site)
        if rng is None:
            ss = self.seed_sequence
            rng = self.site_rngs[site] = np.random.Generator(np.random.PCG64(
                np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (ex.site_seed_key(site),))))
        return rng

    def initialise(self) -> None:
        self.ctx.week = 0
        self.values.update(self.parameters)
        for name, e in self.p.attributes.items():
            self.values[name] = e.evaluate_scalar(self.ctx)
        for name in self.p.variables:
            self.values[name] = _clip(self.p, name, self.p.initial[name].evaluate_scalar(self.ctx))
        self.flow_start = {name: self.values[name] for name in self.p.flows}
        for name in list(self.p.actions) + [o.id for o in self.p.outcomes] + [r.id for r in self.p.red_lines]:
            self.values[name] = 0.0
        for g in self.p.regimes:
            self.values[g.id] = float(g.initial)

    def step(self, week: int) -> None:
        self.ctx.week = week
        for name in self.p.flows:
            self.values[name] = self.flow_start[name]
        forced = {}
        for event in self.p.events:
            if event.week != week:
                continue
            updates = [(var, op, e.evaluate_scalar(self.ctx)) for var, op, e in event.updates]
            for var, op, value in updates:
                self.values[var] = _clip(self.p, var, self.values[var] + value if op == "add" else value)
            if event.action is not None:
                action = self.p.actions[event.action[0]]
                forced[(action.actor, action.track)] = event.action
        chosen = self.choose(forced)  # action id -> level index
        self.act(chosen, week)
        for item in [x for x in self.pending if x[0] == week]:
            self.pending.remove(item)
            _, var, amount = item
            self.values[var] = _clip(self.p, var, self.values[var] + amount)
        for aid in self.p.actions:
            self.values[aid] = float(aid in chosen)
            self.action_count[aid] += aid in chosen
        for aid, level in chosen.items():
            if self.p.actions[aid].levels:
                self.option_count[option_id(self.p.actions[aid], level)] += 1
        for proc in self.p.processes:
            active = proc.when is None or proc.when.evaluate_scalar(self.ctx) != 0
            updates = [(var, op, e.evaluate_scalar(self.ctx)) for var, op, e in proc.updates]
            if active:
                for var, op, value in updates:
                    new = self.values[var] + value if op == "add" else value
                    self.values[var] = _clip(self.p, var, new)
        for d in self.p.decisions:
            inputs = [[e.evaluate_scalar(self.ctx) for e in group] for group in (d.positions, d.saliences, d.capabilities)]
            if week % d.every_weeks == 0 or week == 1:
                arrays = [[np.array([v]) for v in group] for group in inputs]
                self.values[d.target] = _clip(self.p, d.target, float(collective_positions(d, *arrays)[0]))
        for rl in self.p.red_lines:  # each once a week, in the order written
            holds = rl.condition.evaluate_scalar(self.ctx) != 0
            raw_credibility = rl.credibility.evaluate_scalar(self.ctx)
            credibility = min(max(raw_credibility, 0.0), 1.0)
            if holds and self.can_fire(rl):
                self.red_line_firings[rl.id] += 1
                self.note_clipped(rl.credibility, raw_credibility)
                if math.isnan(self.red_line_week[rl.id]):
                    self.red_line_week[rl.id] = float(week)
                self.last_fired[rl.id] = float(week)
                if self.rng.random() < credibility:
                    self.red_line_enforced[rl.id] = True
                    aid, level = self.pick_response(rl)
                    self.ctx.commit = False
                    self.act({aid: level}, week)
                    self.ctx.commit = True
                    self.values[aid] = 1.0
                    self.action_count[aid] += 1
                    if self.p.actions[aid].levels:
                        self.option_count[option_id(self.p.actions[aid], level)] += 1
            self.values[rl.id] = float(not math.isnan(self.red_line_week[rl.id]))
        for g in self.p.regimes:
            raw_enter, raw_leave = g.enter.evaluate_scalar(self.ctx), g.exit.evaluate_scalar(self.ctx)
            enter = min(max(raw_enter, 0.0), 1.0)
            leave = min(max(raw_leave, 0.0), 1.0)
            inside = self.values[g.id] != 0
            if self.alive and inside:
                self.note_clipped(g.exit, raw_leave)
            elif self.alive:
                self.note_clipped(g.enter, raw_enter)
            u = self.rng.random()
            inside = (u >= leave) if inside else (u < enter)
            self.values[g.id] = float(inside)
            if inside:
                self.regime_weeks[g.id] += 1
                if math.isnan(self.regime_week[g.id]):
                    self.regime_week[g.id] = float(week)
        for o in self.p.outcomes:
            holds = o.condition.evaluate_scalar(self.ctx) != 0
            if o.week is not None and o.week != week:
                continue
            if holds and math.isnan(self.outcome_week[o.id]):
                self.outcome_week[o.id] = float(week)
                self.values[o.id] = 1.0
                if o.absorbing and self.alive:
                    self.alive = False
                    self.stopped_week = float(week)
        if not all(math.isfinite(self.values[v]) for v in self.p.variables):
            self.failed = True
            self.alive = False
            if math.isnan(self.stopped_week):
                self.stopped_week = float(week)

    def choose(self, forced: dict) -> dict[str, int]:
        """Each actor's option per track: action id -> level index (0 for an action without levels)."""
        chosen = {}
        for actor, tracks in self.p.tracks.items():
            policy = self.setup.policies[actor]
            for track, action_ids in tracks.items():
                if (actor, track) in forced:
                    aid, level = forced[(actor, track)]
                    chosen[aid] = level
                    continue
                options = [(a, i) for a, i in self.p.options(action_ids) if self.is_available(self.p.actions[a])]
                weights = self.weights(policy, options)
                u = self.rng.random()
                cumulative = 0.0
                for (aid, level), w in zip(options, weights):
                    if cumulative <= u < cumulative + w:
                        chosen[aid] = level
                        break
                    cumulative += w
        return chosen

    def is_available(self, action: CompiledAction) -> bool:
        return action.available is None or action.available.evaluate_scalar(self.ctx) != 0

    def can_fire(self, rl: CompiledRedLine) -> bool:
        if rl.once and not math.isnan(self.red_line_week[rl.id]):
            return False
        return not (rl.cooldown_weeks and self.ctx.week - self.last_fired[rl.id] <= rl.cooldown_weeks)

    def note_clipped(self, e: ex.Expression, value: float) -> None:
        """Count a week in which probability ``e`` left [0, 1] (it is clipped)."""
        if value < 0.0 or value > 1.0:
            self.clipped[e.site] = self.clipped.get(e.site, 0) + 1

    def weights(self, policy: CompiledPolicy, options: list[tuple[str, int]], *, nothing: bool = True,
                anticipate: bool = True) -> list[float]:
        """Probabilities of ``options``; with ``nothing`` false one of them is always chosen (a red
        line's graded responses: scripted probabilities renormalised, logit without 'do nothing')."""
        if policy.kind == "scripted":
            probs = []
            for aid, level in options:
                e = policy.probabilities.get(option_id(self.p.actions[aid], level))
                raw = 0.0 if e is None else e.evaluate_scalar(self.ctx)
                if nothing and e is not None:
                    self.note_clipped(e, raw)
                probs.append(raw)
            return [float(w) for w in rules.scripted_weights(probs, renormalise=not nothing)]
        with expected_mode(self.ctx):
            lam = policy.rationality.evaluate_scalar(self.ctx)
            utilities = []
            for aid, level in options:
                u = self.expected_utility(self.p.actions[aid], level, policy)
                if anticipate and policy.anticipate:
                    u += self.anticipated(aid, level, policy)
                utilities.append(u)
        return [float(w) for w in rules.logit_weights(lam, utilities, nothing=nothing)]

    def with_level(self, action: CompiledAction, level: int) -> None:
        for key, value in zip(action.level_keys, action.level_values[level] if action.levels else ()):
            self.values[key] = value

    def without_level(self, action: CompiledAction) -> None:
        for key in action.level_keys:
            self.values.pop(key, None)

    def expected_utility(self, action: CompiledAction, level: int, policy: CompiledPolicy, *,
                         effects_only: bool = False) -> float:
        self.with_level(action, level)
        total = 0.0
        for eff in action.effects:
            w_var = policy.goals.get(eff.var, 0.0)
            w_att = policy.goals.get(eff.attributed, 0.0) if eff.attributed else 0.0
            if not (w_var or w_att):
                continue
            mean = eff.value.evaluate_scalar(self.ctx)
            delta = mean if eff.op == "add" else mean - self.values[eff.var]
            total += w_var * delta
            if w_att:
                p = min(max(action.attribution_probability.evaluate_scalar(self.ctx), 0.0), 1.0) if action.covert else 1.0
                total += w_att * p * delta
        if not effects_only:
            if action.utility is not None:
                total += action.utility.evaluate_scalar(self.ctx)
            if action.id in policy.utilities:
                total += policy.utilities[action.id].evaluate_scalar(self.ctx)
        self.without_level(action)
        return float(rules.sanitise_utility(total))

    def anticipated(self, aid: str, level: int, policy: CompiledPolicy) -> float:
        """Expected goal change from the red-line responses this option trips this week (depth one;
        see :mod:`redline.escalation.anticipation`)."""
        if not self.relevant[aid]:
            return 0.0
        action = self.p.actions[aid]
        nothing = dict(self.values)
        for a in self.p.actions:
            nothing[a] = 0.0
        after = dict(nothing)
        after[aid] = 1.0
        self.with_level(action, level)
        amounts = [eff.value.evaluate_scalar(self.ctx) for eff in action.effects]
        p_now = 0.0
        if action.covert and round(action.attribution_delay.evaluate_scalar(self.ctx)) <= 0:
            p_now = min(max(action.attribution_probability.evaluate_scalar(self.ctx), 0.0), 1.0)
        self.without_level(action)
        for eff, amount in zip(action.effects, amounts):
            after[eff.var] = _clip(self.p, eff.var, after[eff.var] + amount if eff.op == "add" else amount)
        seen = dict(after)  # the state if the act is attributed at once
        for eff, amount in zip(action.effects, amounts):
            if eff.attributed is not None:
                seen[eff.attributed] = _clip(self.p, eff.attributed, seen[eff.attributed] + amount)
        weight_seen = p_now if action.covert else 1.0
        total = 0.0
        for i in self.relevant[aid]:
            rl = self.p.red_lines[i]
            if not self.can_fire(rl):
                continue
            trips = (weight_seen * self.holds_on(rl, seen) + (1 - weight_seen) * self.holds_on(rl, after)
                     - self.holds_on(rl, nothing))
            if trips == 0:
                continue
            credibility = min(max(rl.credibility.evaluate_scalar(self.ctx), 0.0), 1.0)
            shares = self.weights(self.setup.policies[rl.owner], list(rl.responses), nothing=False, anticipate=False)
            value = sum(share * self.expected_utility(self.p.actions[r], lv, policy, effects_only=True)
                        for (r, lv), share in zip(rl.responses, shares))
            total += credibility * trips * value
        return total

    def holds_on(self, rl: CompiledRedLine, state: dict[str, float]) -> float:
        saved = self.ctx.values
        self.ctx.values = state
        try:
            return float(rl.condition.evaluate_scalar(self.ctx) != 0)
        finally:
            self.ctx.values = saved

    def pick_response(self, rl: CompiledRedLine) -> tuple[str, int]:
        if len(rl.responses) == 1:
            return rl.responses[0]
        shares = self.weights(self.setup.policies[rl.owner], list(rl.responses), nothing=False)
        u = self.rng.random()
        cumulative = 0.0
        for option, share in zip(rl.responses, shares):
            cumulative += share
            if u < cumulative:
                return option
        return rl.responses[-1]

    def act(self, chosen: dict[str, int], week: int) -> None:
        """Apply the effects of the chosen actions (id -> level), all computed from the pre-move state."""
        changes = []
        for aid, action in self.p.actions.items():
            if aid not in chosen:
                continue
            self.with_level(action, chosen[aid])
            attributed_now = True
            delay = 0
            if action.covert:
                raw = action.attribution_probability.evaluate_scalar(self.ctx)
                self.note_clipped(action.attribution_probability, raw)
                p = min(max(raw, 0.0), 1.0)
                attributed_now = self.rng.random() < p
                delay_value = action.attribution_delay.evaluate_scalar(self.ctx)
                delay = int(max(round(delay_value), 0)) if math.isfinite(delay_value) else (0 if delay_value != delay_value else 10**9)
            for eff in action.effects:
                amount = eff.value.evaluate_scalar(self.ctx)
                changes.append((eff.var, eff.op, amount))
                if eff.attributed is not None and attributed_now:
                    if delay == 0:
                        changes.append((eff.attributed, "add", amount))
                    else:
                        self.pending.append((week + delay, eff.attributed, amount))
            self.without_level(action)
        for var, op, amount in changes:
            new = self.values[var] + amount if op == "add" else amount
            self.values[var] = _clip(self.p, var, new)

    def state(self) -> list[float]:
        return [self.values[v] for v in self.p.variables]


def simulate_reference(program: Program, setup: RunSetup, runs: int, block: int, trajectories: bool) -> dict:
    """Simulate one block run by run; same output layout as the vectorised engine."""
    ss = setup.seed_sequence
    parameters = block_parameters(setup, block, runs)
    final, traj = [], []
    out_w, rl_w, rl_e, counts, stopped, failed, probes = [], [], [], [], [], [], []
    opt_c, reg_w, reg_n, rl_f = [], [], [], []
    clipped: dict[str, int] = {}
    for i in range(runs):
        run_ss = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (block * BLOCK_RUNS + i, 0xFEED))
        own = {name: float(v[i]) if isinstance(v, np.ndarray) else v for name, v in parameters.items()}
        r = _Run(program, setup, np.random.Generator(np.random.PCG64(run_ss)), own, run_ss)
        r.initialise()
        weeks = []
        for week in range(1, setup.horizon + 1):
            if r.alive:
                r.step(week)
            r.ctx.week = week
            for name, e, at in setup.probes or ():
                value = e.evaluate_scalar(r.ctx)
                if week == at:
                    r.probe[name] = value
            if trajectories:
                weeks.append(r.state())
        final.append(r.state())
        probes.append(r.probe)
        traj.append(weeks)
        out_w.append([r.outcome_week[o.id] for o in program.outcomes])
        rl_w.append([r.red_line_week[x.id] for x in program.red_lines])
        rl_e.append([r.red_line_enforced[x.id] for x in program.red_lines])
        rl_f.append([r.red_line_firings[x.id] for x in program.red_lines])
        for site, k in r.clipped.items():
            clipped[site] = clipped.get(site, 0) + k
        counts.append([r.action_count[a] for a in program.actions])
        opt_c.append(list(r.option_count.values()))
        reg_w.append([r.regime_week[g.id] for g in program.regimes])
        reg_n.append([r.regime_weeks[g.id] for g in program.regimes])
        stopped.append(r.stopped_week)
        failed.append(r.failed)

    def matrix(rows, width, dtype=float):
        return np.array(rows, dtype=dtype).reshape(runs, width).T

    return {
        "final_state": matrix(final, len(program.variables)),
        "outcome_week": matrix(out_w, len(program.outcomes)),
        "red_line_week": matrix(rl_w, len(program.red_lines)),
        "red_line_enforced": matrix(rl_e, len(program.red_lines), bool),
        "red_line_firings": matrix(rl_f, len(program.red_lines), np.int32),
        "clipped": clipped,
        "action_count": matrix(counts, len(program.actions), np.int32),
        "option_count": matrix(opt_c, sum(a.n_levels for a in program.actions.values() if a.levels), np.int32),
        "regime_week": matrix(reg_w, len(program.regimes)),
        "regime_weeks": matrix(reg_n, len(program.regimes), np.int32),
        "stopped_week": np.array(stopped, dtype=float),
        "failed": np.array(failed, dtype=bool),
        "trajectory": np.array(traj, dtype=float).transpose(1, 2, 0) if trajectories else None,
        "probe": np.array([[r_probe[name] for name, _, _ in setup.probes] for r_probe in probes]).T
        if setup.probes else None,
    }
