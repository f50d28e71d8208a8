"""Experimental designs over a scenario's uncertainties, levers and strategies.

The vocabulary is the EMA Workbench's (Kwakkel 2017, Environmental Modelling & Software 96,
239-250, doi:10.1016/j.envsoft.2017.06.054): *uncertainties* are factors outside the analyst's
control, *levers* are policy choices, *constants* are parameters held fixed, *outcomes* are what is
measured. Uncertainties and levers are sampled jointly (one design matrix), so variance-based
sensitivity covers both; strategies are crossed with every design point, so each strategy
combination sees the same points.

Samplers come from SALib (Herman & Usher 2017, JOSS 2(9), doi:10.21105/joss.00097):

* ``lhs`` — Latin hypercube (McKay, Beckman & Conover 1979, doi:10.2307/1268522), ``samples``
  points;
* ``sobol`` — Saltelli's scheme (Saltelli 2002, doi:10.1016/S0010-4655(02)00280-1; Saltelli et al.
  2010, doi:10.1016/j.cpc.2009.09.018) on a Sobol' sequence, ``samples × (D + 2)`` points;
  ``samples`` must be a power of two;
* ``morris`` — elementary-effects trajectories (Morris 1991, doi:10.1080/00401706.1991.10484804;
  Campolongo et al. 2007), ``samples × (D + 1)`` points on a 4-level grid;
* ``factorial`` — full factorial with ``samples`` levels per factor (``samples ** D`` points);
  a lever with declared ``values`` uses those values.

Experiment ``i`` is seeded by ``SeedSequence(seed).spawn(n_experiments)[i]``, i.e.
``SeedSequence(seed, spawn_key=(i,))``: its numbers do not depend on which worker runs it.
"""
from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from redline.budget import check_seed
from redline.errors import ParameterError, did_you_mean
from redline.scenario import LoadedScenario

__all__ = ["DESIGNS", "Factor", "Design", "make_design", "experiment_seed"]

DESIGNS = ("lhs", "sobol", "morris", "factorial")
MAX_EXPERIMENTS = 1_000_000
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Factor:
    """One sampled parameter: an uncertainty or a lever, with the range explored."""

    name: str
    kind: str  # "uncertainty" | "lever"
    low: float
    high: float
    values: tuple[float, ...] | None = None  # discrete lever values, if declared


@dataclass
class Design:
    """A design: factor matrix × strategy combinations, one row per experiment.

    Attributes
    ----------
    design, samples, seed:
        how it was drawn.
    factors:
        the sampled parameters, in column order of ``points``.
    constants:
        parameters held fixed (name -> value); every other parameter keeps its default.
    strategy_actors, strategy_combinations:
        the actors whose strategies are crossed, and each combination (one name per actor).
    points:
        ``(n_points, n_factors)`` factor values (the SALib sample).
    """

    design: str
    samples: int
    seed: int
    factors: list[Factor]
    constants: dict[str, float]
    strategy_actors: list[str]
    strategy_combinations: list[tuple[str, ...]]
    points: np.ndarray
    defaults: dict[str, float] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_experiments(self) -> int:
        return self.n_points * len(self.strategy_combinations)

    def problem(self) -> dict:
        """The SALib problem dict of the sampled factors."""
        return {
            "num_vars": len(self.factors),
            "names": [f.name for f in self.factors],
            "bounds": [[f.low, f.high] for f in self.factors],
        }

    def experiment(self, i: int) -> tuple[dict[str, float], dict[str, str]]:
        """Parameters (every sampled factor and constant) and strategies of experiment ``i``.

        Experiments are ordered strategy combination first, design point second, so the
        experiments of one combination are the SALib sample in its own order.
        """
        combo, point = divmod(i, self.n_points)
        params = {f.name: float(v) for f, v in zip(self.factors, self.points[point])}
        params.update(self.constants)
        strategies = dict(zip(self.strategy_actors, self.strategy_combinations[combo]))
        return params, strategies

    def identity(self) -> dict:
        """What a store must match to be resumed with this design (JSON-able)."""
        return {
            "design": self.design,
            "samples": self.samples,
            "seed": self.seed,
            "factors": [[f.name, f.kind, f.low, f.high, list(f.values) if f.values else None] for f in self.factors],
            "constants": dict(sorted(self.constants.items())),
            "strategies": {"actors": self.strategy_actors, "combinations": [list(c) for c in self.strategy_combinations]},
            "points_sha256": hashlib.sha256(np.ascontiguousarray(self.points, dtype="<f8").tobytes()).hexdigest(),
        }


def experiment_seed(seed: int, i: int) -> np.random.SeedSequence:
    """The seed of experiment ``i``: equal to ``SeedSequence(seed).spawn(n)[i]`` for any ``n > i``."""
    return np.random.SeedSequence(seed, spawn_key=(i,))


def _parse_range(text: str, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise ParameterError(f"range of {name} must be LOW:HIGH, got '{text}'") from None
    return lo, hi


def make_design(
    scenario: LoadedScenario,
    design: str = "lhs",
    samples: int = 64,
    *,
    seed: int = 0,
    uncertainties: dict[str, tuple[float, float] | None] | list[str] | None = None,
    constants: dict[str, float] | None = None,
    strategies: dict[str, list[str]] | None = None,
) -> Design:
    """Draw a design over ``scenario``'s uncertainties × levers × strategies.

    Parameters
    ----------
    scenario:
        a loaded scenario.
    design:
        ``"lhs"``, ``"sobol"``, ``"morris"`` or ``"factorial"``.
    samples:
        LHS points; Sobol base sample (power of two); Morris trajectories; factorial levels per factor.
    seed:
        seeds both the sampler and the experiments' random streams.
    uncertainties:
        the parameters (uncertainties or levers) to vary, optionally with a narrower
        ``(low, high)`` inside the declared range; default: every uncertainty and lever not in
        ``constants``.
    constants:
        parameters fixed at a value inside their declared range.
    strategies:
        actor -> strategy names to cross; default: every strategy of every actor that has two
        or more (one-strategy actors keep it).

    Raises
    ------
    ParameterError
        unknown names (with a suggestion), empty or out-of-range ranges, sample sizes the design
        cannot use.
    """
    if design not in DESIGNS:
        raise ParameterError(f"unknown design '{design}'{did_you_mean(design, DESIGNS)} (designs: {', '.join(DESIGNS)})")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ParameterError(f"--samples must be a positive whole number, got {samples!r}")
    samples = int(samples)
    seed = check_seed(seed, "--seed")
    program = scenario.program
    spec = scenario.spec
    ranges = program.parameter_ranges
    kinds = {**{n: "uncertainty" for n in spec.uncertainties}, **{n: "lever" for n in spec.levers}}
    lever_values = {n: tuple(lv.values) for n, lv in spec.levers.items() if getattr(lv, "values", None)}

    def check_name(name: str, what: str) -> None:
        if name not in ranges:
            known = ", ".join(sorted(ranges)) or "none"
            raise ParameterError(f"unknown {what} '{name}'{did_you_mean(name, ranges)} "
                                 f"(uncertainties and levers of {scenario.id}: {known})")

    fixed: dict[str, float] = {}
    for name, value in (constants or {}).items():
        check_name(name, "constant")
        lo, hi = ranges[name]
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"constant {name} needs a number, got '{value}'") from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ParameterError(f"constant {name}={value:g} is outside its declared range [{lo:g}, {hi:g}]")
        fixed[name] = value

    if uncertainties is None:
        chosen: dict[str, tuple[float, float] | None] = {n: None for n in ranges if n not in fixed}
    elif isinstance(uncertainties, dict):
        chosen = dict(uncertainties)
    else:
        chosen = {n: None for n in uncertainties}
    factors: list[Factor] = []
    for name, rng in chosen.items():
        check_name(name, "uncertainty or lever")
        if name in fixed:
            raise ParameterError(f"{name} is both varied and held constant; choose one")
        lo, hi = ranges[name]
        if rng is not None:
            if isinstance(rng, str):
                rng = _parse_range(rng, name)
            a, b = float(rng[0]), float(rng[1])
            if not (math.isfinite(a) and math.isfinite(b)) or not a < b:
                raise ParameterError(f"empty range for {name}: low {a:g} must be below high {b:g}")
            if a < lo or b > hi:
                raise ParameterError(f"range {a:g}:{b:g} of {name} leaves its declared range [{lo:g}, {hi:g}]")
            lo, hi = a, b
        values = tuple(v for v in lever_values.get(name, ()) if lo <= v <= hi) or None
        if values is None and name in lever_values:
            raise ParameterError(f"lever {name} takes only its declared values {list(lever_values[name])}; "
                                 f"none lies in {lo:g}:{hi:g}")
        factors.append(Factor(name, kinds.get(name, "uncertainty"), float(lo), float(hi), values))
    factors.sort(key=lambda f: (f.kind != "uncertainty", f.name))

    actors, combos = _strategy_grid(scenario, strategies)

    if not factors:
        if design != "factorial":
            raise ParameterError(f"nothing to vary: the {design} design needs at least one uncertainty or lever "
                                 "(declare some in the scenario, or drop --constant)")
        points = np.zeros((1, 0))
    else:
        # Count before sampling: a sampler asked for 100 million points fails with MemoryError.
        planned = _point_count(design, factors, samples) * len(combos)
        if planned > MAX_EXPERIMENTS:
            raise ParameterError(f"the design would have {planned:,} experiments, more than {MAX_EXPERIMENTS:,}; "
                                 "lower --samples or vary fewer factors")
        points = _sample(design, factors, samples, seed)
    d = Design(design, samples, int(seed), factors, fixed, actors, combos, points,
               defaults=dict(program.parameters))
    if d.n_experiments > MAX_EXPERIMENTS:
        raise ParameterError(f"the design has {d.n_experiments:,} experiments, more than {MAX_EXPERIMENTS:,}; "
                             "lower --samples or vary fewer factors")
    return d


def _strategy_grid(scenario: LoadedScenario, strategies: dict[str, list[str]] | None):
    available = {a: list(names) for a, names in scenario.program.strategies.items() if names}
    if strategies is None:
        chosen = {a: names for a, names in available.items() if len(names) >= 2}
    else:
        chosen = {}
        for actor, names in strategies.items():
            if actor not in available:
                raise ParameterError(f"actor '{actor}' has no strategies{did_you_mean(actor, available)} "
                                     f"(actors with strategies: {', '.join(available) or 'none'})")
            names = [names] if isinstance(names, str) else list(names)
            if not names:
                raise ParameterError(f"no strategies given for {actor}")
            for n in names:
                if n not in available[actor]:
                    raise ParameterError(f"unknown strategy '{n}' for {actor}{did_you_mean(n, available[actor])} "
                                         f"(strategies: {', '.join(available[actor])})")
            chosen[actor] = list(dict.fromkeys(names))
    actors = sorted(chosen)
    combos = list(itertools.product(*(chosen[a] for a in actors))) if actors else [()]
    return actors, combos


def _point_count(design: str, factors: list[Factor], samples: int) -> int:
    """How many points :func:`_sample` would draw (Saltelli without second order: N(k + 2);
    Morris: N(k + 1) for k factors), computed without drawing them."""
    k = len(factors)
    if design == "sobol":
        return samples * (k + 2)
    if design == "morris":
        return samples * (k + 1)
    if design == "factorial":
        return math.prod(len(f.values) if f.values else samples for f in factors)
    return samples


def _sample(design: str, factors: list[Factor], samples: int, seed: int) -> np.ndarray:
    problem = {"num_vars": len(factors), "names": [f.name for f in factors],
               "bounds": [[f.low, f.high] for f in factors]}
    if design == "lhs":
        from SALib.sample import latin

        if samples < 2:
            raise ParameterError("the lhs design needs --samples of at least 2")
        points = latin.sample(problem, samples, seed=seed)
    elif design == "sobol":
        from SALib.sample import sobol

        if samples < 2 or samples & (samples - 1):
            lower = 1 << (samples.bit_length() - 1)
            raise ParameterError(
                f"the sobol design needs --samples to be a power of two (Saltelli sampling on a Sobol' "
                f"sequence loses its balance otherwise); got {samples}, try {max(lower, 2)} or {lower * 2}")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            points = sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
    elif design == "morris":
        from SALib.sample import morris

        if samples < 2:
            raise ParameterError("the morris design needs --samples (trajectories) of at least 2")
        points = morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        if samples < 2:
            raise ParameterError("the factorial design needs --samples (levels per factor) of at least 2")
        if samples ** len(factors) > MAX_EXPERIMENTS:
            raise ParameterError(f"a factorial with {samples} levels over {len(factors)} factors has "
                                 f"{samples ** len(factors):,} points; lower --samples or vary fewer factors")
        axes = [np.array(f.values, dtype=float) if f.values else np.linspace(f.low, f.high, samples) for f in factors]
        points = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(factors))
    points = np.asarray(points, dtype=float)
    for j, f in enumerate(factors):
        col = np.clip(points[:, j], f.low, f.high)  # guard against rounding just past a bound
        if f.values and design != "factorial":
            grid = np.array(f.values)
            col = grid[np.abs(col[:, None] - grid[None, :]).argmin(axis=1)]
        points[:, j] = col
    return points

