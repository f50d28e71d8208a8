"""The vectorised escalation engine: all runs of a block advance together, one week at a time.

Each simulated week (simultaneous moves):

1. every actor chooses at most one action per track from the state at the start of the week
   (``logit``: quantal response over one-step expected utilities, McKelvey & Palfrey 1995;
   ``scripted``: probabilities per action);
2. the chosen actions' effects apply, all computed from the same pre-move state; covert acts are
   attributed to their author with a probability, after a delay, and only then reach the
   ``attributed`` record (Baliga, Bueno de Mesquita & Wolitzky 2020);
3. attributions that fall due this week land;
4. processes (decay, drift, hazards) update the state in the order written;
5. red lines whose condition holds trigger; their owner carries out the response with the red
   line's credibility;
6. outcomes are recorded; an absorbing outcome ends its run (the run is masked, not branched).

Randomness comes from one stream per random call site, spawned from the experiment's
``SeedSequence`` per block of :data:`BLOCK_RUNS` runs, so results do not depend on how blocks are
spread over workers and strategies compared with the same seed share their random numbers.
"""
from __future__ import annotations

import numpy as np

from redline import expr as ex
from redline.escalation.common import (
    BLOCK_RUNS,
    MAX_DELAY,
    ExternalChoice,
    RunSetup,
    block_parameters,
    block_streams,
    clip_to_bounds,
    collective_positions,
)
from redline.scenario.compile import CompiledAction, CompiledPolicy, Program

__all__ = ["simulate_block"]


COMPACT_BELOW = 0.5
"""Drop ended runs from the working arrays when fewer than this share of them is still going."""


class _Block:
    """State of one block of runs while it is being simulated.

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
            "action_count": np.zeros((len(program.actions), runs), dtype=np.int32),
            "stopped_week": np.full(runs, np.nan),
            "failed": np.zeros(runs, dtype=bool),
        }
        self.values: dict[str, np.ndarray | float] = {}
        self.ctx = ex.EvalContext(self.values, runs, self.streams.get)
        self.alive = np.ones(runs, dtype=bool)
        self.failed = np.zeros(runs, dtype=bool)
        self.stopped_week = np.full(runs, np.nan)
        self.outcome_week = {o.id: np.full(runs, np.nan) for o in program.outcomes}
        self.red_line_week = {r.id: np.full(runs, np.nan) for r in program.red_lines}
        self.red_line_enforced = {r.id: np.zeros(runs, dtype=bool) for r in program.red_lines}
        self.action_count = {a: np.zeros(runs, dtype=np.int32) for a in program.actions}
        self.probe = {name: np.full(runs, np.nan) for name, _, _ in setup.probes or ()}
        self.far_pending: list[tuple[np.ndarray, np.ndarray, str, np.ndarray]] = []  # (due week, run ids, var, amount)
        # pending attributed amounts: action -> (MAX_DELAY, n_effects, runs)
        self.pending = {
            aid: np.zeros((MAX_DELAY, sum(e.attributed is not None for e in a.effects), runs))
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
            v[name] = clip_to_bounds(p, name, p.initial[name].evaluate(ctx).copy())
        self.flow_start = {name: v[name].copy() for name in p.flows}
        for aid in p.actions:
            v[aid] = np.zeros(self.n)
        for o in p.outcomes:
            v[o.id] = np.zeros(self.n)
        for r in p.red_lines:
            v[r.id] = np.zeros(self.n)

    # -- one week
    def step(self, week: int) -> None:
        ctx = self.ctx
        ctx.week = week
        if self.setup.choosers:
            self.last_flows = {name: self.values[name] for name in self.p.flows}  # what seats observe
        for name in self.p.flows:
            self.values[name] = np.where(self.alive, self.flow_start[name], self.values[name])
        taken = self.choose()
        self.apply_actions(taken, week)
        self.deliver_attributions(week)
        for aid, t in taken.items():
            self.values[aid] = t.astype(float)
            self.action_count[aid] += t
        self.run_processes()
        self.run_decisions(week)
        self.run_red_lines(week)
        self.record_outcomes(week)
        self.check_finite(week)
        self.record_probes(week)

    def record_probes(self, week: int) -> None:
        for name, e, at in self.setup.probes or ():
            value = e.evaluate(self.ctx)  # every week, so its windows see the whole history
            if week == at:
                self.probe[name] = value.copy()

    def choose(self) -> dict[str, np.ndarray]:
        taken = {aid: np.zeros(self.n, dtype=bool) for aid in self.p.actions}
        for actor, tracks in self.p.tracks.items():
            policy = self.setup.policies[actor]
            avails = {track: [self.available(aid) for aid in ids] for track, ids in tracks.items()}
            if policy.kind == "external":
                external = self.external_weights(actor, tracks, avails)
            for track, action_ids in tracks.items():
                avail = avails[track]
                if policy.kind == "scripted":
                    weights = self.scripted_weights(policy, action_ids, avail)
                elif policy.kind == "external":
                    weights = external[track]
                else:
                    weights = self.logit_weights(policy, action_ids, avail, actor)
                u = self.streams.get(f"choice:{actor}:{track}").random(self.n)
                cumulative = np.zeros(self.n)
                for aid, w in zip(action_ids, weights):
                    upper = cumulative + w
                    taken[aid] = (u >= cumulative) & (u < upper) & self.alive
                    cumulative = upper
        return taken

    def external_weights(self, actor: str, tracks, avails) -> dict[str, list[np.ndarray]]:
        """Ask the actor's chooser once for every live run; its pick gets weight 1 (as a scripted
        probability of 1 would), so the same random draw selects it."""
        live = np.nonzero(self.alive)[0]
        weights = {track: [np.zeros(self.n) for _ in ids] for track, ids in tracks.items()}
        if live.size == 0:
            return weights

        def expected(aid: str) -> dict[str, np.ndarray]:
            ctx = self.ctx
            ctx.expected, ctx.commit = True, False
            try:
                changes: dict[str, np.ndarray] = {}
                for eff in self.p.actions[aid].effects:
                    mean = np.broadcast_to(eff.value.evaluate(ctx), (self.n,))
                    delta = mean if eff.op == "add" else mean - self.values[eff.var]
                    changes[eff.var] = changes.get(eff.var, 0.0) + delta[live]
                return changes
            finally:
                ctx.expected, ctx.commit = False, True

        request = ExternalChoice(
            actor=actor, week=self.ctx.week, runs=self.block * BLOCK_RUNS + self.idx[live],
            values={k: np.broadcast_to(self.last_flows.get(k, v), (self.n,))[live] for k, v in self.values.items()},
            options={track: {aid: ok[live] for aid, ok in zip(ids, avails[track])} for track, ids in tracks.items()},
            expected=expected)
        picks = self.setup.choosers[actor](request)
        for track, ids in tracks.items():
            pick = np.asarray(picks.get(track, np.full(live.size, -1)))
            for i, ok in enumerate(avails[track]):
                w = np.zeros(self.n)
                w[live] = pick == i
                weights[track][i] = np.where(ok, w, 0.0)
        return weights

    def available(self, aid: str) -> np.ndarray:
        a = self.p.actions[aid]
        if a.available is None:
            return self.alive
        return self.alive & (a.available.evaluate(self.ctx) != 0)

    def scripted_weights(self, policy: CompiledPolicy, action_ids, avail) -> list[np.ndarray]:
        weights = []
        for aid, ok in zip(action_ids, avail):
            e = policy.probabilities.get(aid)
            w = np.zeros(self.n) if e is None else np.fmin(np.fmax(e.evaluate(self.ctx), 0.0), 1.0)  # NaN -> 0
            weights.append(np.where(ok, w, 0.0))
        total = np.sum(weights, axis=0) if weights else np.zeros(self.n)
        scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)  # over-full tracks are normalised
        return [w * scale for w in weights]

    def logit_weights(self, policy: CompiledPolicy, action_ids, avail, actor: str) -> list[np.ndarray]:
        """Quantal response: P(a) ∝ exp(λ U(a)), with 'do nothing' at U = 0 (McKelvey & Palfrey 1995)."""
        ctx = self.ctx
        ctx.expected, ctx.commit = True, False
        try:
            lam = policy.rationality.evaluate(ctx)
            utilities = [self.expected_utility(self.p.actions[aid], policy) for aid in action_ids]
        finally:
            ctx.expected, ctx.commit = False, True
        scores = [np.where(ok, lam * u, -np.inf) for u, ok in zip(utilities, avail)]
        top = np.maximum(np.max(scores, axis=0), 0.0)  # 0: the 'do nothing' option
        exps = [np.exp(s - top) for s in scores]
        denom = np.exp(-top) + np.sum(exps, axis=0)
        return [e / denom for e in exps]

    def expected_utility(self, action: CompiledAction, policy: CompiledPolicy) -> np.ndarray:
        goals = policy.goals
        total = np.zeros(self.n)
        p_attr = None
        for eff in action.effects:
            w_var = goals.get(eff.var, 0.0)
            w_att = goals.get(eff.attributed, 0.0) if eff.attributed else 0.0
            if not w_var and not w_att:
                continue
            mean = eff.value.evaluate(self.ctx)
            delta = mean if eff.op == "add" else mean - self.values[eff.var]
            total = total + w_var * delta
            if w_att:
                if action.covert:
                    if p_attr is None:
                        p_attr = np.clip(action.attribution_probability.evaluate(self.ctx), 0, 1)
                    total = total + w_att * p_attr * delta
                else:
                    total = total + w_att * delta
        if action.utility is not None:
            total = total + action.utility.evaluate(self.ctx)
        extra = policy.utilities.get(action.id)
        if extra is not None:
            total = total + extra.evaluate(self.ctx)
        return np.nan_to_num(total, nan=0.0, posinf=1e6, neginf=-1e6)

    def apply_actions(self, taken: dict[str, np.ndarray], week: int, *, commit: bool = True) -> None:
        """Apply the effects of every taken action, each computed from the same pre-move state."""
        ctx = self.ctx
        ctx.commit = commit
        changes: list[tuple[str, str, np.ndarray, np.ndarray]] = []
        try:
            for aid, action in self.p.actions.items():
                mask = taken.get(aid)
                if mask is None:
                    continue
                # Values are drawn for every run, taken or not, so random streams stay aligned.
                amounts = [eff.value.evaluate(ctx) for eff in action.effects]
                for eff, amount in zip(action.effects, amounts):
                    changes.append((eff.var, eff.op, amount, mask))
                self.attribute(action, amounts, mask, week, changes)
        finally:
            ctx.commit = True
        for var, op, amount, mask in changes:
            old = self.values[var]
            new = old + np.where(mask, amount, 0.0) if op == "add" else np.where(mask, amount, old)
            self.values[var] = clip_to_bounds(self.p, var, new)

    def attribute(self, action: CompiledAction, amounts, mask, week: int, changes) -> None:
        attributed = [(eff, amt) for eff, amt in zip(action.effects, amounts) if eff.attributed is not None]
        if not action.covert:
            for eff, amt in attributed:
                changes.append((eff.attributed, "add", amt, mask))
            return
        prob = action.attribution_probability.evaluate(self.ctx)
        hit = self.streams.get(f"attribution:{action.id}").random(self.n) < prob
        if not attributed:
            return
        delay = np.fmax(np.rint(np.broadcast_to(action.attribution_delay.evaluate(self.ctx), (self.n,))), 0)
        landing = mask & hit
        now = landing & (delay == 0)
        later = landing & (delay > 0) & (delay < MAX_DELAY)
        # Delays of MAX_DELAY weeks or more (rare) wait in a list instead of the ring buffer;
        # ones landing after the horizon are never delivered. No delay is capped.
        far = landing & (delay >= MAX_DELAY) & (week + delay <= self.setup.horizon)
        for eff, amt in attributed:
            changes.append((eff.attributed, "add", amt, now))
        if later.any():
            buf = self.pending[action.id]
            slots = (week + delay[later].astype(int)) % MAX_DELAY
            runs = np.nonzero(later)[0]
            for k, (_, amt) in enumerate(attributed):
                full = np.broadcast_to(amt, (self.n,))
                buf[slots, k, runs] += full[runs]  # one slot per run: no repeated indices
        if far.any():
            runs = np.nonzero(far)[0]
            due = (week + delay[runs]).astype(int)
            for eff, amt in attributed:
                self.far_pending.append((due, self.idx[runs].copy(), eff.attributed,
                                         np.broadcast_to(amt, (self.n,))[runs].copy()))

    def deliver_attributions(self, week: int) -> None:
        slot = week % MAX_DELAY
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
                    self.values[var] = clip_to_bounds(self.p, var, self.values[var] + np.where(self.alive, add, 0.0))
                if (~ready).any():
                    waiting.append((due[~ready], ids[~ready], var, amount[~ready]))
            self.far_pending = waiting
        for aid, buf in self.pending.items():
            action = self.p.actions[aid]
            k = 0
            for eff in action.effects:
                if eff.attributed is None:
                    continue
                due = buf[slot, k]
                if due.any():
                    self.values[eff.attributed] = clip_to_bounds(
                        self.p, eff.attributed, self.values[eff.attributed] + np.where(self.alive, due, 0.0))
                    buf[slot, k] = 0.0
                k += 1

    def run_processes(self) -> None:
        ctx = self.ctx
        for proc in self.p.processes:
            mask = self.alive if proc.when is None else self.alive & (proc.when.evaluate(ctx) != 0)
            new_values = [(var, op, e.evaluate(ctx)) for var, op, e in proc.updates]
            for var, op, value in new_values:
                old = self.values[var]
                new = old + value if op == "add" else value
                self.values[var] = clip_to_bounds(self.p, var, np.where(mask, new, old))

    def run_decisions(self, week: int) -> None:
        """Collective decisions: inputs evaluated every week (windows stay current), the model
        re-run every ``every_weeks`` weeks on live runs."""
        ctx = self.ctx
        for d in self.p.decisions:
            inputs = [[e.evaluate(ctx) for e in group] for group in (d.positions, d.saliences, d.capabilities)]
            if week % d.every_weeks != 0 and week != 1:
                continue
            live = self.alive
            if not live.any():
                continue
            position = collective_positions(d, *([x[live] for x in group] for group in inputs))
            new = self.values[d.target].copy() if isinstance(self.values[d.target], np.ndarray) else np.full(self.n, self.values[d.target])
            new[live] = position
            self.values[d.target] = clip_to_bounds(self.p, d.target, new)

    def run_red_lines(self, week: int) -> None:
        ctx = self.ctx
        for rl in self.p.red_lines:
            cond = rl.condition.evaluate(ctx) != 0
            cred = rl.credibility.evaluate(ctx)
            draw = self.streams.get(f"red_line:{rl.id}").random(self.n)
            fired_before = ~np.isnan(self.red_line_week[rl.id])
            trigger = cond & self.alive & ~(fired_before if rl.once else np.zeros(self.n, dtype=bool))
            enforce = trigger & (draw < cred)
            self.red_line_week[rl.id] = np.where(trigger & ~fired_before, float(week), self.red_line_week[rl.id])
            self.red_line_enforced[rl.id] |= enforce
            self.values[rl.id] = (~np.isnan(self.red_line_week[rl.id])).astype(float)
            if enforce.any():
                self.apply_actions({rl.response: enforce}, week, commit=False)
                self.values[rl.response] = np.maximum(self.values[rl.response], enforce.astype(float))
                self.action_count[rl.response] += enforce

    def record_outcomes(self, week: int) -> None:
        ctx = self.ctx
        ending = np.zeros(self.n, dtype=bool)
        for o in self.p.outcomes:
            cond = o.condition.evaluate(ctx) != 0  # evaluated every week so windows stay current
            if o.week is not None and o.week != week:
                continue
            first = cond & self.alive & np.isnan(self.outcome_week[o.id])
            self.outcome_week[o.id] = np.where(first, float(week), self.outcome_week[o.id])
            self.values[o.id] = (~np.isnan(self.outcome_week[o.id])).astype(float)
            if o.absorbing:
                ending |= first
        if ending.any():
            self.stopped_week = np.where(ending, float(week), self.stopped_week)
            self.alive &= ~ending

    def check_finite(self, week: int) -> None:
        bad = np.zeros(self.n, dtype=bool)
        for name in self.p.variables:
            bad |= ~np.isfinite(self.values[name])
        bad &= ~self.failed
        if bad.any():
            self.failed |= bad
            self.alive &= ~bad
            self.stopped_week = np.where(bad & np.isnan(self.stopped_week), float(week), self.stopped_week)

    def state_matrix(self) -> np.ndarray:
        return np.stack([np.broadcast_to(self.values[v], (self.n,)) for v in self.p.variables])

    def write_out(self, which: np.ndarray) -> None:
        """Copy the records of working runs ``which`` (a mask) into the block's results."""
        pos = self.idx[which]
        r = self.result
        r["final_state"][:, pos] = self.state_matrix()[:, which]
        for i, o in enumerate(self.p.outcomes):
            r["outcome_week"][i, pos] = self.outcome_week[o.id][which]
        for i, rl in enumerate(self.p.red_lines):
            r["red_line_week"][i, pos] = self.red_line_week[rl.id][which]
            r["red_line_enforced"][i, pos] = self.red_line_enforced[rl.id][which]
        for i, a in enumerate(self.p.actions):
            r["action_count"][i, pos] = self.action_count[a][which]
        r["stopped_week"][pos] = self.stopped_week[which]
        r["failed"][pos] = self.failed[which]

    def compact(self) -> None:
        """Write out ended runs and keep only live ones in the working arrays."""
        keep = self.alive.copy()
        self.write_out(~keep)

        def cut(x):
            return x[..., keep] if isinstance(x, np.ndarray) and x.shape[-1:] == (self.n,) else x

        for name, value in list(self.values.items()):
            self.values[name] = cut(value)
        self.flow_start = {k: cut(v) for k, v in self.flow_start.items()}
        for key, state in list(self.ctx.windows.items()):
            if isinstance(state, ex._RingBuffer):
                state.values = state.values[:, keep]
                state.total = state.total[keep]
            else:
                self.ctx.windows[key] = cut(state)
        self.pending = {k: v[:, :, keep] for k, v in self.pending.items()}
        for records in (self.outcome_week, self.red_line_week, self.red_line_enforced, self.action_count):
            for k in records:
                records[k] = records[k][keep]
        self.alive, self.failed, self.stopped_week = self.alive[keep], self.failed[keep], self.stopped_week[keep]
        self.idx = self.idx[keep]
        self.n = int(keep.sum())
        self.ctx.runs = self.n
        self.streams.subset = self.idx


def simulate_block(program: Program, setup: RunSetup, runs: int, block: int, trajectories: bool, *,
                   compact: bool = True):
    """Simulate one block of ``runs`` runs; returns a dict of arrays (see ``escalation.run``)."""
    b = _Block(program, setup, runs, block)
    # Trajectories and probes follow every run to the horizon, so ended runs stay in place then.
    may_compact = compact and not trajectories and not setup.probes
    with np.errstate(all="ignore"):
        b.initialise()
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
    b.write_out(np.ones(b.n, dtype=bool))
    return {
        **b.result,
        "trajectory": traj,
        "probe": np.stack([b.probe[name] for name, _, _ in setup.probes]) if setup.probes else None,
    }
