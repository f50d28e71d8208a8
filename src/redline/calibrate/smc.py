"""Vectorised ABC-SMC: a population of particles moved towards the record in generations.

Approximate Bayesian computation by sequential Monte Carlo (Toni, Welch, Strelkowa, Ipsen &
Stumpf 2009, J. R. Soc. Interface 6:187, doi:10.1098/rsif.2008.0172), with the population Monte
Carlo weights and perturbation kernel of Beaumont, Cornuet, Marin & Robert (2009, Biometrika
96:983, doi:10.1093/biomet/asp052) and tolerances chosen adaptively so that each generation keeps
a fixed share ``alpha`` of the previous one's effective sample size (Del Moral, Doucet & Jasra 2012,
Stat. Comput. 22:1009, doi:10.1007/s11222-011-9271-y).

What is matched. Observations without an ``sd`` must be matched exactly (counts): their part of
the distance is ``D = sum_j |s_j - y_j| / scale_j`` and the tolerance ``epsilon`` on it falls to 0.
Observations with an ``sd`` are measured with Gaussian noise: a simulated history is accepted with
probability ``exp(-beta/2 * sum_j ((s_j - y_j) / sd_j)^2)``, and the inverse temperature ``beta``
rises to 1. At ``epsilon = 0, beta = 1`` the accepted parameters are draws from the exact posterior
under that observation model (Wilkinson 2013, Stat. Appl. Genet. Mol. Biol. 12:129,
doi:10.1515/sagmb-2013-0010). The tolerance is lowered first, then the temperature.

Vectorised. Each particle is one run of a block: a generation proposes a batch of candidate
parameter vectors and ``simulate`` runs them all in one engine call (one value per run). The
randomness of generation ``g``, batch ``b`` comes from ``SeedSequence(seed, spawn_key=(g, b, k))``
only, so a calibration resumed from a finished generation gives the same numbers as one that was
never interrupted, and spreading a batch over workers changes nothing.

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


class _Kernel:
    """Component-wise Gaussian perturbation truncated to the prior's box (Beaumont et al. 2009:
    variance twice the population's weighted variance)."""

    def __init__(self, pop: Population, prior: UniformPrior):
        w = pop.weights
        mean = w @ pop.theta
        var = w @ np.square(pop.theta - mean)
        floor = 1e-6 * (prior.high - prior.low)
        self.sigma = np.maximum(np.sqrt(2.0 * var), floor)
        self.prior = prior
        self.ancestors = pop.theta
        self.weights = w
        a = (prior.low - pop.theta) / self.sigma
        b = (prior.high - pop.theta) / self.sigma
        self.cdf_a, self.cdf_b = ndtr(a), ndtr(b)
        self.log_mass = np.log(np.maximum(self.cdf_b - self.cdf_a, 1e-300)).sum(axis=1)  # (n,)

    def propose(self, rng: np.random.Generator, n: int) -> np.ndarray:
        pick = rng.choice(self.weights.size, size=n, p=self.weights)
        u = rng.random((n, self.sigma.size))
        p = self.cdf_a[pick] + u * (self.cdf_b[pick] - self.cdf_a[pick])
        theta = self.ancestors[pick] + self.sigma * ndtri(np.clip(p, 1e-300, 1 - 1e-16))
        return np.clip(theta, self.prior.low, self.prior.high)

    def log_density(self, theta: np.ndarray, chunk: int = 512) -> np.ndarray:
        """log sum_j w_j K(theta | theta_j), the proposal density of each row of ``theta``."""
        a = self.ancestors / self.sigma
        a_sq = np.square(a).sum(axis=1)
        log_w = np.log(np.maximum(self.weights, 1e-300)) - self.log_mass - 0.5 * a_sq
        const = -np.log(self.sigma).sum() - 0.5 * self.sigma.size * math.log(2 * math.pi)
        out = np.empty(theta.shape[0])
        for start in range(0, theta.shape[0], chunk):
            x = theta[start:start + chunk] / self.sigma
            # -1/2 |x - a|^2 = -1/2 |x|^2 + x.a - 1/2 |a|^2, the cross term by one matrix product.
            logits = x @ a.T + log_w
            out[start:start + chunk] = logsumexp(logits, axis=1) - 0.5 * np.square(x).sum(axis=1) + const
        return out


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
    min_acceptance: float = 0.01,
    max_batch: int = 65536,
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
        same numbers for the same seed; non-finite statistics are refused by the caller.
    observed, sd:
        the record's values (m,) and noise sd (m,; NaN where the observation must match exactly).
    particles:
        accepted particles per generation.
    seed:
        the calibration's seed; generation ``g``'s batch ``b`` uses ``SeedSequence(seed, (g, b, k))``.
    alpha:
        share of the effective sample size each new tolerance keeps (Del Moral et al. 2012).
    min_acceptance:
        a generation stops proposing after ``particles / min_acceptance`` simulations; if it
        accepted nothing, :class:`CalibrationError` is raised.
    state:
        a finished generation to continue from (resuming an interrupted calibration).
    on_generation:
        called with the state after every finished generation (to checkpoint it).
    """
    observed = np.asarray(observed, dtype=float)
    sd = np.asarray(sd, dtype=float)
    exact = np.isnan(sd)
    if state is None:
        started = time.perf_counter()
        theta = prior.sample(np.random.Generator(np.random.PCG64(_seed(seed, 0, 0, 0))), particles)
        stats = simulate(theta, _seed(seed, 0, 0, 1))
        spread = stats[:, exact].std(axis=0) if exact.any() else np.zeros(0)
        scale = np.ones(observed.size)
        scale[exact] = np.maximum(spread, 1.0)
        distance, sq = _misfits(stats, observed, sd, exact, scale)
        weights = np.full(particles, 1.0 / particles)
        pop = Population(theta, weights, distance, sq, stats)
        state = SMCState(0, math.inf, 0.0, scale, pop)
        state.history.append(GenerationStats(0, math.inf, math.inf, 1.0, float(particles), particles, particles,
                                             time.perf_counter() - started))
        if not exact.any():
            state.epsilon = 0.0
        if exact.all():
            state.beta = 1.0
        if on_generation is not None:
            on_generation(state)
    while not state.finished:
        if state.epsilon == 0.0 and state.beta == 1.0 and state.generation > 0:
            state.finished, state.stop_reason = True, "reached the exact target (epsilon 0, temperature 1)"
            break
        if state.generation + 1 >= max_generations:
            state.finished, state.stop_reason = True, f"stopped after {max_generations} generations"
            break
        state = _generation(state, prior, simulate, observed, sd, exact, particles=particles, seed=seed, alpha=alpha,
                            min_acceptance=min_acceptance, max_batch=max_batch)
        if on_generation is not None:
            on_generation(state)
    return state


def _generation(state: SMCState, prior: UniformPrior, simulate, observed, sd, exact, *, particles: int, seed: int,
                alpha: float, min_acceptance: float, max_batch: int) -> SMCState:
    started = time.perf_counter()
    pop = state.population
    g = state.generation + 1
    epsilon, beta = state.epsilon, state.beta
    if epsilon > 0.0:
        epsilon = _next_epsilon(pop, epsilon, alpha)
    else:
        beta = _next_beta(pop, beta, alpha)
    kernel = _Kernel(pop, prior)
    survival = float(pop.weights[pop.distance <= epsilon].sum()) if epsilon > 0 or exact.any() else 1.0
    if beta > state.beta:
        survival *= float(np.sum(pop.weights * np.exp(-0.5 * (beta - state.beta) * pop.sq_noise)))
    rate = max(min(survival, 1.0) * 0.5, 1e-3)  # perturbed particles fit less well than their ancestors
    budget = int(math.ceil(particles / min_acceptance))
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    n_accepted = simulations = batch = 0
    while n_accepted < particles and simulations < budget:
        need = particles - n_accepted
        size = int(min(max(math.ceil(need / rate * 1.1), 256), max_batch, budget - simulations))
        rng = np.random.Generator(np.random.PCG64(_seed(seed, g, batch, 0)))
        theta = kernel.propose(rng, size)
        stats = simulate(theta, _seed(seed, g, batch, 1))
        distance, sq = _misfits(stats, observed, sd, exact, state.scale)
        u = rng.random(size)
        accept = (distance <= epsilon) & (u < np.exp(-0.5 * beta * sq))
        simulations += size
        batch += 1
        idx = np.nonzero(accept)[0][:need]  # the first accepted, in proposal order: i.i.d. draws
        kept.append((theta[idx], distance[idx], sq[idx], stats[idx]))
        n_accepted += idx.size
        rate = max(n_accepted / simulations, 1e-4)
    if n_accepted == 0:
        raise CalibrationError(
            f"no particle accepted in generation {g} (tolerance {epsilon:.3g}, temperature "
            f"{(1 / beta) if beta > 0 else math.inf:.3g}) after {simulations:,} simulations")
    theta = np.concatenate([k[0] for k in kept])
    log_w = -kernel.log_density(theta)  # uniform prior: the prior density is a constant inside the box
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    new = Population(theta, weights, np.concatenate([k[1] for k in kept]), np.concatenate([k[2] for k in kept]),
                     np.concatenate([k[3] for k in kept]))
    history = list(state.history)
    history.append(GenerationStats(g, epsilon, (1.0 / beta) if beta > 0 else math.inf, n_accepted / simulations,
                                   effective_sample_size(weights), n_accepted, simulations,
                                   time.perf_counter() - started))
    result = SMCState(g, epsilon, beta, state.scale, new, history)
    if n_accepted < particles:
        result.finished = True
        result.stop_reason = (f"generation {g} accepted {n_accepted} of {particles} particles within its budget of "
                              f"{budget:,} simulations (acceptance below {min_acceptance:g})")
    return result
