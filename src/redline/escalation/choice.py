"""The week's choices of the vectorised engine: each actor picks at most one option per track
from the state at the start of the week (``scripted``: probabilities per option; ``logit``:
quantal response over one-step expected utilities, McKelvey & Palfrey 1995, with the
anticipation of :mod:`redline.escalation.anticipation`; ``external``: a seat's pick).

:class:`Choosing` holds these methods of the engine's block (:class:`redline.escalation.engine._Block`
derives from it): they read and write the block's state (``values``, ``alive``, ``ctx``, the
streams), so they live beside it rather than in a separate object.
"""
from __future__ import annotations

import numpy as np

from redline import expr as ex
from redline.escalation import rules
from redline.escalation.arrays import NO_ROWS, per_row, probability_number
from redline.escalation.common import (
    BLOCK_RUNS,
    DENSE_SHARE,
    SPARSE_DRAWS,
    ExternalChoice,
    all_within,
    expected_mode,
)
from redline.escalation.plans import TrackPlan
from redline.scenario.compile import CompiledAction, CompiledPolicy, option_id

__all__ = ["Choosing"]


class Choosing:
    """The block's choice of options each week (a mixin of the engine's block)."""

    def choose(self, forced) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Each track's option per run: ``taken`` (action -> runs that took it) and ``levels``
        (action with levels -> the level taken, where taken)."""
        taken: dict[str, np.ndarray] = {}
        levels: dict[str, np.ndarray] = {}
        everyone = None  # whether every working run is alive, counted when first needed
        for actor, plans in self.track_plans.items():
            policy = self.setup.policies[actor]
            # Every availability that can change and is read, or draws or keeps windows, is
            # evaluated every week (windows stay current).
            avails = {plan.track: {aid: self.available(aid) for aid in plan.read} for plan in plans}
            if policy.kind == "external":
                external = self.external_weights(actor, self.p.tracks[actor], avails, forced)
            for plan in plans:
                scheduled = forced.get(plan.key) if forced else None
                if scheduled is not None or plan.never_chosen:
                    self.pass_unchosen(plan, scheduled, taken, levels)
                    continue
                avail = avails[plan.track]
                if policy.kind == "external":
                    chosen = self.pick(plan, external[plan.track])  # the seat's pick has weight 1
                else:
                    if everyone is None:
                        everyone = np.count_nonzero(self.alive) == self.n
                    if len(plan.weighed) == 1:
                        chosen = [self.lone_choice(plan, policy, avail, everyone)]
                    elif policy.kind == "scripted":
                        chosen = self.pick(plan, *self.track_weights(plan, avail, everyone))
                    else:
                        chosen = self.pick(plan, self.logit_weights(policy, plan.weighed, avail))
                self.take(plan, chosen, taken, levels)
        return taken, levels

    def pass_unchosen(self, plan: TrackPlan, scheduled: tuple[str, int] | None, taken: dict, levels: dict) -> None:
        """A week in which ``plan``'s track chooses nothing: its action is ``scheduled`` (an
        event's (action, level)), or no option can ever be chosen. The stream of a track that
        chooses in other weeks moves on all the same, so a run's later choices keep their
        numbers; that of a track that never chooses is read in no week, by no run, and stays."""
        for e in plan.moving:
            self.pass_unread(e)  # draws or keeps windows, read by no run
        if not plan.never_chosen:
            self.draw(plan.site, NO_ROWS)
        nobody = self.nobody()
        for aid in plan.action_ids:
            taken[aid] = nobody
        if scheduled is not None:
            aid, level = scheduled
            taken[aid] = self.alive.copy()
            if self.p.actions[aid].levels:
                levels[aid] = np.full(self.n, level, dtype=np.int64)
        else:
            for aid in plan.level_arrays:
                levels.setdefault(aid, np.zeros(self.n, dtype=np.int64))

    def track_weights(self, plan: TrackPlan, avail: dict[str, np.ndarray],
                      everyone: bool) -> tuple[list[np.ndarray], np.ndarray]:
        """The weights of ``plan``'s weighed options under its scripted policy, and the runs where
        some option weighs more than 0 (``everyone``: whether every working run is alive).

        The choices of :func:`rules.scripted_weights` (each probability clipped to [0, 1] with NaN
        as 0, times its availability, the track scaled when its total passes 1), without the
        passes that change nothing: a probability that :meth:`note_clipped` finds inside [0, 1]
        is not clipped (at most the sign of a zero differs, which no comparison with a uniform
        sees) and a weight is not multiplied by an availability that holds in every run."""
        weights = []
        for (aid, _), e in zip(plan.weighed, plan.probabilities):
            ok = avail[aid]
            if e.constant is not None:  # a number in (0, 1] (the compiler checks the range)
                weights.append(np.multiply(e.constant, ok))
                continue
            weight = self.scripted_probability(e, ok)
            weights.append(weight if ok is self.alive and everyone else np.multiply(weight, ok))
        total = rules.sum_in_order(weights)
        if np.count_nonzero(total > 1.0):  # np.any without its Python-level wrappers
            scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
            weights = [w * scale for w in weights]  # some weight stays above 0 where the total did
        return weights, total > 0

    def scripted_probability(self, e: ex.Expression, available: np.ndarray) -> np.ndarray:
        """Scripted probability ``e`` clipped to [0, 1] (NaN -> 0, as :func:`rules.scripted_weights`
        does), its weeks outside [0, 1] counted among the runs where its option is ``available``
        (see :meth:`note_clipped`); values already inside are returned as they are."""
        raw = e.evaluate(self.ctx)
        return raw if self.note_clipped(e, raw, available) else np.fmin(np.fmax(raw, 0.0), 1.0)

    def lone_choice(self, plan: TrackPlan, policy: CompiledPolicy, avail: dict[str, np.ndarray],
                    everyone: bool) -> np.ndarray:
        """The runs that take the only option of ``plan`` that can weigh something: where it is
        available and the track's uniform falls below its weight.

        :meth:`pick` on its weight times its availability makes the same choice (an empty
        interval where it is unavailable); here no weight array is masked: a scripted number
        stays a number, and a logit weight is computed without the availability (a lone
        option's weight does not depend on other runs), then the comparisons are masked.
        ``everyone``: whether every working run is alive (then an option available wherever a
        run is alive needs no mask). A logit option available in few runs (:meth:`few_rows`)
        is weighed in those runs alone (its utilities are elementwise: the same numbers; the
        exponential is most of a lone option's cost) and chosen by :meth:`choice_at`."""
        aid, _ = plan.weighed[0]
        ok = avail[aid]
        everywhere = ok is self.alive and everyone
        if policy.kind == "scripted":
            e = plan.probabilities[0]
            weight = e.constant if e.constant is not None else self.scripted_probability(e, ok)
        else:
            lam, utilities = self.logit_utilities(policy, plan.weighed, avail)
            if not everywhere and per_row(utilities[0]):
                rows = self.few_rows(ok)
                if rows is not None:  # the weights of the runs where it is available, alone
                    lam = lam[rows] if per_row(lam) else lam
                    return self.choice_at(plan, rows, rules.logit_weights(lam, [utilities[0][rows]])[0])
            weight = rules.logit_weights(lam, utilities)[0]
        if not per_row(weight):  # the same number in every run: it weighs where available, if above 0
            choosing = ok if weight > 0 else self.nobody()
        else:
            choosing = weight > 0 if everywhere else ok & (weight > 0)
        # every working run chooses: :meth:`uniforms` would count them to draw for all
        u = self.draw(plan.site) if choosing is ok and everywhere and self.n > SPARSE_DRAWS else \
            self.uniforms(plan, choosing)
        return u < weight if everywhere else ok & (u < weight)

    def few_rows(self, mask: np.ndarray) -> np.ndarray | None:
        """The working runs where ``mask`` holds (increasing), when they are fewer than
        :data:`DENSE_SHARE` of them (then computing for them alone pays for finding them), else None."""
        if np.count_nonzero(mask) >= DENSE_SHARE * self.n:
            return None
        return mask.nonzero()[0]

    def choice_at(self, plan: TrackPlan, rows: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """The runs that take ``plan``'s only weighed option when only the runs ``rows`` may
        (``weight``: its weight in each of them): those whose uniform falls below their weight.
        The uniforms are drawn for the runs whose weight is above 0 alone (a weight of 0 or NaN
        takes no run), as :meth:`uniforms` reads them; the same choices as :meth:`lone_choice`
        makes over every run, where a run outside ``rows`` chooses nothing."""
        positive = weight > 0
        choosing = rows[positive]
        u = self.draw(plan.site, choosing)
        chosen = np.zeros(self.n, dtype=bool)
        chosen[choosing[u < weight[positive]]] = True
        return chosen

    def uniforms(self, plan: TrackPlan, choosing: np.ndarray) -> np.ndarray:
        """The track's uniforms this week, read in runs ``choosing`` (where some option weighs
        more than 0; 0 elsewhere): drawn for every working run (the same numbers), unless so few
        runs need one that finding them costs less than drawing the others."""
        if np.count_nonzero(choosing) > SPARSE_DRAWS:
            return self.draw(plan.site)
        rows = choosing.nonzero()[0]
        u = np.zeros(self.n)
        u[rows] = self.draw(plan.site, rows)
        return u

    def pick(self, plan: TrackPlan, weights: list[np.ndarray], choosing: np.ndarray | None = None) -> list[np.ndarray]:
        """Which runs choose each of ``plan``'s weighed options, from their ``weights`` and the
        track's uniform: option i where the uniform lies in [w_0 + ... + w_{i-1}, w_0 + ... + w_i).
        ``choosing``: the runs where some weight is above 0 (by default, where the weights sum
        past 0).

        Every policy gives unavailable options (and ended runs) weight 0, and an empty interval
        [c, c) holds no draw, so no separate test of ``alive`` is needed; nor is a uniform in runs
        where every option weighs 0."""
        if choosing is None:
            choosing = rules.sum_in_order(weights) > 0 if weights else self.nobody()
        u = self.uniforms(plan, choosing)
        chosen = []
        cumulative = None
        for w in weights:
            if cumulative is None:  # u >= 0 always
                upper = w
                chosen.append(u < upper)
            else:
                upper = cumulative + w
                chosen.append((u >= cumulative) & (u < upper))
            cumulative = upper
        return chosen

    def take(self, plan: TrackPlan, chosen: list[np.ndarray], taken: dict, levels: dict) -> None:
        """Record ``chosen`` (the runs choosing each of ``plan``'s weighed options) in ``taken`` and
        ``levels``; the track's other options are taken by no run."""
        nobody = self.nobody()
        for aid in plan.action_ids:
            taken[aid] = nobody
        if not plan.leveled:  # one option per action
            for (aid, _), runs in zip(plan.weighed, chosen):
                taken[aid] = runs
            return
        for aid in plan.level_arrays:
            levels.setdefault(aid, np.zeros(self.n, dtype=np.int64))
        for (aid, level), runs in zip(plan.weighed, chosen):
            if self.p.actions[aid].levels:
                taken[aid] = taken[aid] | runs
                levels[aid][runs] = level
            else:
                taken[aid] = runs

    def external_weights(self, actor: str, tracks, avails, forced) -> dict[str, list[np.ndarray]]:
        """Ask the actor's chooser once for every live run; its pick gets weight 1 (as a scripted
        probability of 1 would), so the same random draw selects it. Options are named as in
        scripted probabilities (``action`` or ``action.level``); a track whose action is scheduled
        this week (an event) offers nothing."""
        live = np.nonzero(self.alive)[0]
        options = {track: self.p.options(ids) for track, ids in tracks.items()}
        weights = {track: [np.zeros(self.n) for _ in opts] for track, opts in options.items()}
        if live.size == 0:
            return weights
        named = {track: {option_id(self.p.actions[aid], level): (aid, level) for aid, level in opts}
                 for track, opts in options.items()}
        by_name = {name: option for opts in named.values() for name, option in opts.items()}

        def expected(name: str) -> dict[str, np.ndarray]:
            aid, level = by_name[name]
            action = self.p.actions[aid]
            ctx = self.ctx
            with expected_mode(ctx):
                self.set_level(action, level)
                try:
                    changes: dict[str, np.ndarray] = {}
                    for eff in action.effects:
                        mean = np.broadcast_to(eff.value.evaluate(ctx), (self.n,))
                        delta = mean if eff.op == "add" else mean - self.values[eff.var]
                        changes[eff.var] = changes.get(eff.var, 0.0) + delta[live]
                    return changes
                finally:
                    self.clear_level(action)

        request = ExternalChoice(
            actor=actor, week=self.ctx.week, runs=self.block * BLOCK_RUNS + self.idx[live],
            values={k: np.broadcast_to(self.last_flows.get(k, v), (self.n,))[live] for k, v in self.values.items()},
            options={track: {} if (actor, track) in forced else
                     {name: avails[track][aid][live] for name, (aid, _) in named[track].items()}
                     for track in tracks},
            expected=expected)
        picks = self.setup.choosers[actor](request)
        for track, opts in options.items():
            if (actor, track) in forced:
                continue
            pick = np.asarray(picks.get(track, np.full(live.size, -1)))
            for i, (aid, _) in enumerate(opts):
                w = np.zeros(self.n)
                w[live] = pick == i
                weights[track][i] = np.where(avails[track][aid], w, 0.0)
        return weights

    def available(self, aid: str) -> np.ndarray:
        a = self.p.actions[aid]
        if a.available is None:
            return self.alive
        return self.alive & a.available.evaluate_truth(self.ctx)

    def scripted_weights(self, policy: CompiledPolicy, options, avail, *, renormalise: bool = False,
                         count: bool = False) -> list[np.ndarray]:
        """Each option's probability (NaN -> 0); a track whose total exceeds 1 is normalised.
        ``renormalise``: scale to a total of 1 (a red line's graded responses; all zero -> equal).
        ``count``: record the run-weeks in which a probability left [0, 1] (see :meth:`note_clipped`)."""
        probabilities = []
        for aid, level in options:
            e = policy.probabilities.get(option_id(self.p.actions[aid], level))
            if avail is not None and (e is None or probability_number(e) is not None):
                # A number: the availability mask makes it one weight per run (rules.scripted_weights).
                probabilities.append(0.0 if e is None else e.constant)
                continue
            raw = np.zeros(self.n) if e is None else e.evaluate(self.ctx)
            if count and e is not None:
                self.note_clipped(e, raw, avail[aid] if avail is not None else self.alive)
            probabilities.append(raw)
        return rules.scripted_weights(probabilities, None if avail is None else [avail[aid] for aid, _ in options],
                                      renormalise=renormalise)

    def note_clipped(self, e: ex.Expression, values, where) -> bool:
        """Count the runs (among ``where``, a mask, or a function giving it when it is needed)
        in which probability ``e`` left [0, 1] this week; the engine clips it, and ``run``
        reports the count against the expression's place. Returns whether every value lies in
        [0, 1] (no NaN): then clipping changes none."""
        if probability_number(e) is not None:
            return True
        values = np.asarray(values)
        if values.size and all_within(values, 0.0, 1.0):  # a NaN is not: counted below
            return True
        if callable(where):
            where = where()
        outside = np.count_nonzero(where & ((values < 0.0) | (values > 1.0)))
        if outside:
            self.clipped[e.site] = self.clipped.get(e.site, 0) + int(outside)
        return False

    def logit_weights(self, policy: CompiledPolicy, options, avail, *, nothing: bool = True) -> list[np.ndarray]:
        """Quantal response: P(a) ∝ exp(λ U(a)), with 'do nothing' at U = 0 (McKelvey & Palfrey 1995).

        ``nothing=False``: choose among ``options`` only (a red line's graded responses)."""
        lam, utilities = self.logit_utilities(policy, options, avail)
        return rules.logit_weights(lam, utilities, None if avail is None else [avail[aid] for aid, _ in options],
                                   nothing=nothing)

    def logit_utilities(self, policy: CompiledPolicy, options, avail) -> tuple:
        """The rationality λ and each option's expected utility (with what it trips, if the policy
        anticipates and some run may take it), evaluated in expected mode on the current state."""
        with expected_mode(self.ctx):
            lam = self.value_of(policy.rationality)
            utilities = []
            for aid, level in options:
                u = self.expected_utility(self.p.actions[aid], level, policy)
                if policy.anticipate and self.relevant[aid] and (avail is None or np.count_nonzero(avail[aid])):
                    u = u + self.anticipated(aid, level, policy)
                utilities.append(u)
        return lam, utilities

    def set_level(self, action: CompiledAction, level) -> None:
        """Make the level's values readable by the action's own expressions (a scalar or per run)."""
        for k, key in enumerate(action.level_keys):
            if np.ndim(level) == 0:
                self.values[key] = action.level_values[int(level)][k]
            else:
                self.values[key] = np.asarray([lv[k] for lv in action.level_values])[level]

    def clear_level(self, action: CompiledAction) -> None:
        for key in action.level_keys:
            self.values.pop(key, None)
