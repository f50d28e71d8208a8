"""Vectorised ABC-SMC: a population of particles moved towards the record in generations.

Approximate Bayesian computation by sequential Monte Carlo (Toni, Welch, Strelkowa, Ipsen &
Stumpf 2009, J. R. Soc. Interface 6:187, doi:10.1098/rsif.2008.0172) in the form of Del Moral,
Doucet & Jasra (2012, Stat. Comput. 22:1009, doi:10.1007/s11222-011-9271-y): each generation
lowers the tolerance adaptively so that the particles' effective sample size falls by a fixed
share ``alpha``, reweights and resamples them, then moves every particle with Metropolis-Hastings
steps that keep the new tolerance's ABC posterior invariant (Marjoram, Molitor, Plagnol & Tavaré
2003, PNAS 100:15324, doi:10.1073/pnas.0306899100). The number of steps adapts to the acceptance
rate so that each particle moves with probability about ``1 - c`` (Drovandi & Pettitt 2011,
Biometrics 67:225, doi:10.1111/j.1541-0420.2010.01410.x). The random walk uses the population's
covariance scaled by 2.38^2/d (Roberts & Rosenthal 2001, Stat. Sci. 16:351). Unlike importance
weights against a perturbation kernel (Beaumont et al. 2009), these moves do not degenerate when a
scenario has dozens of uncertainties, and every generation costs a known number of simulations.

What is matched. Observations without an ``sd`` must be matched exactly (counts): their part of
the distance is ``D = sum_j |s_j - y_j| / scale_j`` and the tolerance ``epsilon`` on it falls to 0.
Observations with an ``sd`` are measured with Gaussian noise: a history is accepted with
probability ``exp(-beta/2 * sum_j ((s_j - y_j) / sd_j)^2)``, and the inverse temperature ``beta``
rises to 1. At ``epsilon = 0, beta = 1`` the particles are draws from the exact posterior under
that observation model (Wilkinson 2013, Stat. Appl. Genet. Mol. Biol. 12:129,
doi:10.1515/sagmb-2013-0010). The tolerance is lowered first, then the temperature.

Vectorised. Each particle is one run of a block: every Metropolis-Hastings step proposes a move
for all particles and ``simulate`` runs them in one engine call (one parameter value per run). The
randomness of generation ``g``, step ``r`` comes from ``SeedSequence(seed, spawn_key=(g, r, k))``
only, so a calibration resumed from a finished generation gives the same numbers as one that was
never interrupted, and spreading a step over workers changes nothing.

The module is pure: no files, no printing (the workflow in :mod:`redline.calibrate` does those).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri

from redline.errors import RedlineError

__all__ = ["CalibrationError", "UniformPrior", "Population", "GenerationStats", "SMCState", "abc_smc",
           "weighted_quantile", "effective_sample_size"]


class CalibrationError(RedlineError):
    """A calibration that cannot produce a posterior (e.g. no particle accepted)."""


@dataclass(frozen=True)
class UniformPrior:
    """Independent uniform priors on ``[low, high]`` (an uncertainty's declared range)."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.low + (self.high - self.low) * rng.random((n, len(self.names)))


@dataclass
class Population:
    """Weighted particles with the distances of the history each was accepted with."""

    theta: np.ndarray  # (n, d)
    weights: np.ndarray  # (n,), sum 1
    distance: np.ndarray  # (n,) exact part D
    sq_noise: np.ndarray  # (n,) sum of squared standardised misfits of noisy observations
    stats: np.ndarray  # (n, m) simulated statistics


@dataclass
class GenerationStats:
    generation: int
    epsilon: float
    temperature: float  # 1 / beta (inf: noisy observations not yet used)
    acceptance_rate: float
    ess: float
    particles: int
    simulations: int
    seconds: float

    def to_dict(self) -> dict:
        return {"generation": self.generation, "epsilon": self.epsilon,
                "temperature": None if math.isinf(self.temperature) else self.temperature,
                "acceptance_rate": self.acceptance_rate, "ess": self.ess, "particles": self.particles,
                "simulations": self.simulations, "seconds": self.seconds}


@dataclass
class SMCState:
    """Everything needed to continue a calibration after a finished generation."""

    generation: int
    epsilon: float
    beta: float
    scale: np.ndarray  # (m,) scale of each exact observation's misfit
    population: Population
    history: list[GenerationStats] = field(default_factory=list)
    finished: bool = False
    stop_reason: str = ""
    step_scale: float | None = None  # random-walk variance factor the last generation ended with


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    return float(total * total / np.square(w).sum()) if total > 0 else 0.0


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, np.atleast_1d(q), side="left")
    return v[np.minimum(idx, v.size - 1)]


def _misfits(stats: np.ndarray, observed: np.ndarray, sd: np.ndarray, exact: np.ndarray, scale: np.ndarray):
    """(D, sum z^2) per row of ``stats``: exact part and noisy part of the misfit."""
    diff = stats - observed
    distance = np.abs(diff[:, exact]) @ (1.0 / scale[exact]) if exact.any() else np.zeros(stats.shape[0])
    noisy = ~exact
    sq = np.square(diff[:, noisy] / sd[noisy]).sum(axis=1) if noisy.any() else np.zeros(stats.shape[0])
    return distance, sq


def _next_epsilon(pop: Population, epsilon: float, alpha: float) -> float:
    """The tolerance that keeps a share ``alpha`` of the population's weight (Del Moral et al. 2012)."""
    q = float(weighted_quantile(pop.distance, pop.weights, alpha)[0])
    if q < epsilon:
        return q
    below = pop.distance[pop.distance < epsilon]  # a discrete distance: step to the next value down
    return float(below.max()) if below.size else 0.0


def _next_beta(pop: Population, beta: float, alpha: float) -> float:
    """The largest inverse temperature (<= 1) keeping ESS >= alpha * ESS now (bisection)."""
    target = alpha * effective_sample_size(pop.weights)

    def ess(b: float) -> float:
        log_u = -0.5 * (b - beta) * pop.sq_noise
        return effective_sample_size(pop.weights * np.exp(log_u - log_u.max()))

    if ess(1.0) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) >= target else (lo, mid)
    return max(lo, beta + 1e-12)


def _seed(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=tuple(int(k) for k in key))


def abc_smc(
    prior: UniformPrior,
    simulate: Callable[[np.ndarray, np.random.SeedSequence], np.ndarray],
    observed: np.ndarray,
    sd: np.ndarray,
    *,
    particles: int,
    seed: int,
    alpha: float = 0.5,
    max_generations: int = 40,
    min_acceptance: float = 0.05,
    move_miss: float = 0.05,
    max_steps: int = 20,
    passing_miss: float = 0.5,
    passing_steps: int = 10,
    state: SMCState | None = None,
    on_generation: Callable[[SMCState], None] | None = None,
) -> SMCState:
    """Run ABC-SMC until the exact target (``epsilon = 0``, ``beta = 1``) or a stopping rule.

    Parameters
    ----------
    prior:
        uniform priors of the calibrated parameters.
    simulate:
        ``(theta (n, d), SeedSequence) -> statistics (n, m)``: one simulated history per row, the
        same numbers for the same seed; NaN rows for failed runs (never accepted).
    observed, sd:
        the record's values (m,) and noise sd (m,; NaN where the observation must match exactly).
    particles:
        number of particles (each is one run of every engine call).
    seed:
        the calibration's seed; generation ``g``'s step ``r`` uses ``SeedSequence(seed, (g, r, k))``.
    alpha:
        share of the effective sample size each new tolerance keeps (Del Moral et al. 2012).
    min_acceptance:
        a generation that moves a smaller share of its particles than this (after tuning its
        step size) ends the calibration (the particles then stay at the last tolerance reached:
        not the exact target).
    move_miss, max_steps:
        steps in the final generation (the exact target): enough for each particle to move with
        probability ``1 - move_miss`` at the observed acceptance rate (Drovandi & Pettitt 2011),
        at most ``max_steps``.
    passing_miss, passing_steps:
        the same for the generations on the way, which only need to keep the particles diverse.
    state:
        a finished generation to continue from (resuming an interrupted calibration).
    on_generation:
        called with the state after every finished generation (to checkpoint it).

    Raises
    ------
    CalibrationError
        no particle consistent with the record at the first tolerance below the prior's.
    """
    observed = np.asarray(observed, dtype=float)
    sd = np.asarray(sd, dtype=float)
    exact = np.isnan(sd)
    if state is None:
        started = time.perf_counter()
        theta = prior.sample(np.random.Generator(np.random.PCG64(_seed(seed, 0, 0, 0))), particles)
        stats = simulate(theta, _seed(seed, 0, 0, 1))
        finite = np.all(np.isfinite(stats), axis=1)
        spread = stats[finite][:, exact].std(axis=0) if exact.any() and finite.any() else np.zeros(int(exact.sum()))
        scale = np.ones(observed.size)
        scale[exact] = np.maximum(spread, 1.0)
        distance, sq = _misfits(stats, observed, sd, exact, scale)
        weights = np.where(finite, 1.0, 0.0)
        weights /= max(weights.sum(), 1.0)
        state = SMCState(0, math.inf, 0.0, scale, Population(theta, weights, distance, sq, stats))
        state.history.append(GenerationStats(0, math.inf, math.inf, 1.0, effective_sample_size(weights), particles,
                                             particles, time.perf_counter() - started))
        if not exact.any():
            state.epsilon = 0.0
        if exact.all():
            state.beta = 1.0
        if on_generation is not None:
            on_generation(state)
    while not state.finished:
        if state.epsilon == 0.0 and state.beta == 1.0 and state.generation > 0:
            state.finished, state.stop_reason = True, "reached the exact target (tolerance 0, temperature 1)"
            break
        if state.generation + 1 >= max_generations:
            state.finished, state.stop_reason = True, f"stopped after {max_generations} generations"
            break
        state = _generation(state, prior, simulate, observed, sd, exact, seed=seed, alpha=alpha,
                            min_acceptance=min_acceptance, moves=((move_miss, max_steps), (passing_miss, passing_steps)))
        if on_generation is not None:
            on_generation(state)
    return state


def _resample(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Systematic resampling (Kitagawa 1996): indices of ``n`` equally weighted particles."""
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, (rng.random() + np.arange(n)) / n, side="left"), weights.size - 1)


def _generation(state: SMCState, prior: UniformPrior, simulate, observed, sd, exact, *, seed: int, alpha: float,
                min_acceptance: float, moves: tuple[tuple[float, int], tuple[float, int]]) -> SMCState:
    started = time.perf_counter()
    pop = state.population
    n = pop.weights.size
    g = state.generation + 1
    epsilon, beta = state.epsilon, state.beta
    if epsilon > 0.0:
        epsilon = _next_epsilon(pop, epsilon, alpha)
    else:
        beta = _next_beta(pop, beta, alpha)
    move_miss, max_steps = moves[0] if epsilon == 0.0 and beta == 1.0 else moves[1]
    # Reweight by the new target's acceptance relative to the old one, then resample.
    log_u = np.where(pop.distance <= epsilon, 0.0, -np.inf) - 0.5 * (beta - state.beta) * pop.sq_noise
    log_u = np.where(pop.weights > 0, log_u, -np.inf)
    if not np.isfinite(log_u).any():
        raise CalibrationError(f"no particle consistent with the record at tolerance {epsilon:.3g} (generation {g})")
    weights = pop.weights * np.exp(log_u - log_u[np.isfinite(log_u)].max())
    weights /= weights.sum()
    ess = effective_sample_size(weights)
    rng = np.random.Generator(np.random.PCG64(_seed(seed, g, 0, 0)))
    pick = _resample(rng, weights, n)
    theta, distance, sq, stats = pop.theta[pick], pop.distance[pick], pop.sq_noise[pick], pop.stats[pick]
    # Metropolis-Hastings moves, all particles at once: a Gaussian random walk with the population's
    # covariance times a factor ``lam`` (2.38^2/d at first, Roberts & Rosenthal 2001), rejected outside
    # the prior's box. ``lam`` is tuned between steps towards an acceptance near 0.234 (Roberts, Gelman
    # & Gilks 1997) and carried to the next generation; each step keeps the target invariant, so
    # tuning it from the population is allowed (Fearnhead & Taylor 2013, Bayesian Anal. 8:411).
    d = theta.shape[1]
    cov = np.atleast_2d(np.cov(theta, rowvar=False))
    cov += np.diag(np.square(1e-6 * (prior.high - prior.low)))
    chol = np.linalg.cholesky(cov)
    lam = state.step_scale if state.step_scale is not None else 2.38 ** 2 / d
    accepted = proposed = steps = 0
    moved = np.zeros(n, dtype=bool)
    planned = 1
    while steps < planned:
        steps += 1
        step_rng = np.random.Generator(np.random.PCG64(_seed(seed, g, steps, 0)))
        proposal = theta + math.sqrt(lam) * (step_rng.standard_normal((n, d)) @ chol.T)
        inside = np.all((proposal >= prior.low) & (proposal <= prior.high), axis=1)
        proposal = np.where(inside[:, None], proposal, theta)  # outside: rejected, simulated at the old point
        new_stats = simulate(proposal, _seed(seed, g, steps, 1))
        new_distance, new_sq = _misfits(new_stats, observed, sd, exact, state.scale)
        u = step_rng.random(n)
        ok = inside & (new_distance <= epsilon) & (np.log(np.maximum(u, 1e-300)) < -0.5 * beta * (new_sq - sq))
        ok &= np.all(np.isfinite(new_stats), axis=1)
        theta[ok], distance[ok], sq[ok], stats[ok] = proposal[ok], new_distance[ok], new_sq[ok], new_stats[ok]
        accepted += int(ok.sum())
        proposed += n
        moved |= ok
        step_rate = float(ok.mean())
        # Steps until each particle has moved with probability about 1 - c (Drovandi & Pettitt 2011),
        # counted directly as the share of particles moved so far; at most ``max_steps``.
        if moved.mean() < 1.0 - move_miss and steps < max_steps:
            planned = steps + 1
        lam = max(lam * _STEP_TUNING[int(np.searchsorted(_STEP_RATES, step_rate))], _MIN_STEP_SCALE / d)
    rate = accepted / proposed
    new = Population(theta, np.full(n, 1.0 / n), distance, sq, stats)
    history = list(state.history)
    history.append(GenerationStats(g, epsilon, (1.0 / beta) if beta > 0 else math.inf, rate, ess, n, proposed,
                                   time.perf_counter() - started))
    result = SMCState(g, epsilon, beta, state.scale, new, history, step_scale=lam)
    if moved.mean() < min_acceptance:
        result.finished = True
        result.stop_reason = (f"generation {g} moved {moved.mean():.2g} of its particles in {steps} steps, below "
                              f"{min_acceptance:g}: the particles barely move at this tolerance")
    return result


# Random-walk tuning: a step accepted at a rate below 0.05 quarters the variance factor, below 0.15
# halves it, above 0.5 doubles it; in between it stays (acceptance near 0.234, Roberts et al. 1997).
_STEP_RATES = np.array([0.05, 0.15, 0.5])
_STEP_TUNING = (0.25, 0.5, 1.0, 2.0)
# Smallest variance factor (times 1/d): a step a hundred times smaller in variance than Roberts &
# Rosenthal's. Past it, shrinking does not help: with stochastic histories even a null move is
# accepted only when the new history matches as well (the pseudo-marginal bound, Andrieu & Roberts
# 2009, Ann. Stat. 37:697).
_MIN_STEP_SCALE = 2.38 ** 2 / 100
