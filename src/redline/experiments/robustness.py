"""Robustness of a strategy comparison across the space its parameters are believed to lie in.

A *thesis component* is a signed claim about a paired difference between two strategies, e.g.
"``a`` − ``b`` > 0 on ``some_outcome``" (``{id, a, b, outcome, sign, claim}``). :func:`robustness_check`
samples points of the parameter space, runs the comparison with common random numbers at every
point, and reports for each component the share of points where it holds and the parts of each
parameter's range where it fails most often — a simple, one-dimension-at-a-time form of
scenario discovery (Bryant & Lempert 2010, doi:10.1016/j.techfore.2009.08.002).

Which space is sampled follows the comparison it checks: without a posterior, a Latin hypercube
(McKay, Beckman & Conover 1979, Technometrics 21(2), doi:10.2307/1268522) over the priors (the
declared ranges of the scenario's ``uncertainties``); with one, parameter vectors drawn from its
particles by weight (systematic resampling, Kitagawa 1996, doi:10.1080/10618600.1996.10474692), so
the share is over the same beliefs the headline numbers are drawn from. Uncertainties the
posterior does not cover were not fitted: they are still sampled over their priors.

Components are data given by the caller (the flagship's are in :mod:`redline.cli.demo`). Without
components, every outcome's difference between the first two strategies becomes a component
whose sign is the one observed at the default parameters.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from scipy.stats import qmc

from redline.calibrate.posterior import Posterior
from redline.errors import ParameterError
from redline.experiments.compare import compare
from redline.limits import check_points

__all__ = ["robustness_check", "space_title", "PRIOR_SPACE", "POSTERIOR_SPACE"]

_BINS = 4
PRIOR_SPACE = "priors (Latin hypercube)"
POSTERIOR_SPACE = "posterior"


def _components(given: Sequence[dict[str, Any]], strategies: list[str],
                headline: Callable[[], dict[tuple[str, str, str], float]], where: str) -> list[dict]:
    """The components that name two of ``strategies``; with none, one per outcome of the first
    two strategies, signed as ``headline()`` (the comparison the robustness check qualifies) has it."""
    listed = [c for c in given if c["a"] in strategies and c["b"] in strategies]
    if listed:
        return [dict(c) for c in listed]
    a, b = strategies[0], strategies[1]
    out = []
    for (xa, xb, outcome), d in headline().items():
        if (xa, xb) != (a, b):
            continue
        sign = 1 if d >= 0 else -1
        out.append({"id": f"{outcome}_{'up' if sign > 0 else 'down'}", "a": a, "b": b, "outcome": outcome,
                    "sign": sign, "claim": f"{a} − {b} {'>' if sign > 0 else '<'} 0 on {outcome} (sign {where})"})
    return out


def _headline_differences(loaded, *, actor: str, arms: list[str], runs: int, horizon: int | None,
                          seed: np.random.SeedSequence, fixed: dict[str, str] | None,
                          posterior: Posterior | None, params: dict[str, float]) -> dict[tuple[str, str, str], float]:
    """Each difference of the comparison at the scenario's defaults (or drawing every run's
    parameters from ``posterior``), with ``params`` pinned: the sign a component without a stated
    one is checked for."""
    res = compare(loaded, actor=actor, strategies=arms, runs=runs, horizon=horizon, seed=seed, fixed=fixed,
                  posterior=posterior, params=params or None)
    return {(d["a"], d["b"], d["outcome"]): d["difference"] for d in res.differences}


def _lhs(names: list[str], ranges: dict[str, tuple[float, float]], points: int,
         seed_sequence: np.random.SeedSequence) -> np.ndarray:
    sampler = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed_sequence))
    unit = sampler.random(points)
    lows = np.array([ranges[n][0] for n in names])
    highs = np.array([ranges[n][1] for n in names])
    return qmc.scale(unit, lows, highs)


def _priors(loaded, names: list[str]) -> dict[str, tuple[float, float]]:
    """Each named uncertainty's declared range: the uniform prior it is sampled over."""
    return {n: (float(loaded.spec.uncertainties[n].low), float(loaded.spec.uncertainties[n].high)) for n in names}


def _prior_design(loaded, points: int, seed_sequence: np.random.SeedSequence):
    """Latin-hypercube points over every uncertainty's declared range: names, (points, names) values,
    the ranges, and what the result says of the space."""
    names = list(loaded.spec.uncertainties)
    ranges = _priors(loaded, names)
    return names, _lhs(names, ranges, points, seed_sequence), ranges, {
        "space": PRIOR_SPACE, "sampler": "latin hypercube (scipy.stats.qmc)"}


def _posterior_design(loaded, posterior: Posterior, points: int, seed_sequence: np.random.SeedSequence):
    """Points drawn from the posterior's particles by weight (:meth:`Posterior.draw`); the
    uncertainties it does not cover by a Latin hypercube over their priors. The ranges are those of
    the drawn points (the space actually explored), not the priors'."""
    drawn = posterior.draw(points, seed_sequence)
    rest = [n for n in loaded.spec.uncertainties if n not in drawn]
    names = list(drawn) + rest
    columns = [np.asarray(drawn[n], dtype=float) for n in drawn]
    if rest:
        columns += list(_lhs(rest, _priors(loaded, rest), points, seed_sequence).T)
    design = np.column_stack(columns)
    ranges = {n: (float(design[:, j].min()), float(design[:, j].max())) for j, n in enumerate(names)}
    sampler = "systematic resampling of the particles by weight (Kitagawa 1996)"
    if rest:
        sampler += f"; latin hypercube over the priors of the {len(rest)} uncertainties it does not cover"
    return names, design, ranges, {"space": POSTERIOR_SPACE, "posterior": posterior.describe(), "sampler": sampler,
                                   "from_priors": rest}


def space_title(result: dict) -> str:
    """A robustness result's sampled space in words, for table titles: the posterior (its particles
    and sha256) or the priors; results written before the space was recorded say neither."""
    space = result.get("space")
    if space == POSTERIOR_SPACE:
        post = result["posterior"]
        title = f"the posterior ({post['particles']:,} particles, sha256 {post['sha256'][:12]})"
    else:
        title = f"the {space}" if space else "the uncertainty space"
    pinned = result.get("pinned")
    return title + (f" with {', '.join(f'{k}={v:g}' for k, v in pinned.items())} pinned" if pinned else "")


def robustness_check(loaded, *, actor: str, strategies: list[str], points: int, runs: int,
                     horizon: int | None, seed: int, fixed: dict[str, str] | None = None,
                     components: Sequence[dict[str, Any]] = (), progress: bool = False,
                     posterior: Posterior | None = None, params: dict[str, float] | None = None) -> dict:
    """Share of the parameter space (the priors, or the posterior when given) where each thesis component holds.

    Parameters
    ----------
    loaded : LoadedScenario
    actor, strategies :
        whose strategies are compared (at least two; the components name the pairs).
    points : int
        points of the parameter space (levers stay at defaults unless the posterior holds them):
        without ``posterior``, a Latin hypercube over the ``uncertainties``' declared ranges; with
        it, parameter vectors drawn from its particles by weight.
    runs : int
        paired runs per strategy at each point.
    horizon : int or None
    seed : int
        root of a ``SeedSequence``: child 0 draws the design, child *i* + 1 seeds point *i*, so
        the result depends only on ``seed``, ``points`` (and the posterior).
    fixed : dict, optional
        strategies of other actors.
    components : sequence of dict
        thesis components ``{id, a, b, outcome, sign, claim}`` (``sign`` +1: ``a`` − ``b`` > 0);
        those naming strategies outside ``strategies`` are ignored. Empty: one component per
        outcome of the first two strategies, signed as observed in one more comparison of ``runs``
        paired runs at the default parameters (drawing from ``posterior`` when given; seeded by
        the root's child *points* + 1).
    progress : bool
        show a rich progress bar on stderr.
    posterior : Posterior, optional
        the posterior the comparison draws from (:func:`redline.calibrate.load_posterior`); each
        point is then one of its particles, run at those fixed parameters.
    params : dict, optional
        parameters pinned for the comparison (``--param``): held at these values at every point
        (and in the sign comparison), so the pinned uncertainties leave the design. The other
        columns are those of the unpinned design (the same points).

    Returns
    -------
    dict
        ``points``, ``runs``, ``seed``, ``space`` (``"priors (Latin hypercube)"`` or
        ``"posterior"``, then with ``posterior`` (its description) and ``from_priors`` (the
        uncertainties it does not cover)), ``pinned`` (with ``params``), ``sampler``, ``uncertainties`` (name -> [low, high]: the
        priors, or the range of the drawn points), ``components`` (list of ``{id, claim, a, b,
        outcome, sign, share_holds, share_significant, mean_difference, fails_where}``), and
        ``design`` (the sampled points with every component's difference).
    """
    points = check_points(points)
    if len(strategies) < 2:
        raise ParameterError("robustness needs at least two strategies")
    if not loaded.spec.uncertainties and (posterior is None or not posterior.names):
        raise ParameterError(f"scenario '{loaded.id}' declares no uncertainties to sample")
    root = np.random.SeedSequence(int(seed))
    children = root.spawn(points + 1)
    if posterior is None:
        names, design, ranges, space = _prior_design(loaded, points, children[0])
    else:
        names, design, ranges, space = _posterior_design(loaded, posterior, points, children[0])
    pinned = {n: float(v) for n, v in (params or {}).items()}
    if pinned:
        free = [j for j, n in enumerate(names) if n not in pinned]
        names, design = [names[j] for j in free], design[:, free]
        ranges = {n: ranges[n] for n in names}
        space = {**space, "pinned": pinned}
        if not names:
            raise ParameterError("every sampled parameter is pinned (--param): the robustness check has nothing to vary")

    pairs = sorted({(c["a"], c["b"]) for c in components
                    if c["a"] in strategies and c["b"] in strategies}) or [(strategies[0], strategies[1])]
    arms = list(dict.fromkeys(s for p in pairs for s in p))

    rows: list[dict[tuple[str, str, str], tuple[float, float, float]]] = []
    bar = None
    if progress:
        bar = Progress(TextColumn("robustness"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task("points", total=points)
    try:
        for i in range(points):
            point = {n: float(v) for n, v in zip(names, design[i])}
            res = compare(loaded, actor=actor, strategies=arms, runs=runs, horizon=horizon,
                          seed=children[i + 1], params={**point, **pinned}, fixed=fixed)
            rows.append({(d["a"], d["b"], d["outcome"]): (d["difference"], *d["ci95"]) for d in res.differences})
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()

    components = _components(components, arms, lambda: _headline_differences(
        loaded, actor=actor, arms=arms, runs=runs, horizon=horizon, seed=root.spawn(1)[0], fixed=fixed,
        posterior=posterior, params=pinned), "at defaults" if posterior is None else "over the posterior")
    result_components = []
    for comp in components:
        key = (comp["a"], comp["b"], comp["outcome"])
        if key not in rows[0]:
            raise ParameterError(f"thesis component '{comp['id']}': no difference for {key}")
        diffs = np.array([r[key][0] for r in rows])
        lo = np.array([r[key][1] for r in rows])
        hi = np.array([r[key][2] for r in rows])
        s = comp["sign"]
        holds = s * diffs > 0
        significant = (lo > 0) if s > 0 else (hi < 0)
        result_components.append({
            **comp,
            "share_holds": float(holds.mean()),
            "share_significant": float(significant.mean()),
            "mean_difference": float(diffs.mean()),
            "fails_where": _fails_where(names, design, ranges, ~holds),
        })
    return {
        "points": points,
        "runs": runs,
        "seed": int(seed),
        **space,
        "uncertainties": {n: list(ranges[n]) for n in names},
        "components": result_components,
        "design": [
            {"params": {n: float(v) for n, v in zip(names, design[i])},
             "differences": {f"{a}-{b}:{o}": rows[i][(a, b, o)][0] for (a, b, o) in
                             [(c["a"], c["b"], c["outcome"]) for c in components]}}
            for i in range(points)
        ],
    }


def _fails_where(names: list[str], design: np.ndarray, ranges: dict[str, tuple[float, float]],
                 fails: np.ndarray) -> list[dict]:
    """Uncertainty sub-ranges where the failure rate is well above its overall rate.

    Each range is cut into equal bins; a bin is reported when its failure rate is at least
    twice the overall rate (and at least 10 points higher), strongest first.
    """
    n = fails.size
    if n == 0 or not fails.any():
        return []
    overall = float(fails.mean())
    found = []
    for j, name in enumerate(names):
        lo, hi = ranges[name]
        edges = np.linspace(lo, hi, _BINS + 1)
        idx = np.clip(np.searchsorted(edges, design[:, j], side="right") - 1, 0, _BINS - 1)
        for b in range(_BINS):
            inside = idx == b
            if inside.sum() < max(2, n // (3 * _BINS)):
                continue
            rate = float(fails[inside].mean())
            if rate >= min(1.0, 2 * overall) and rate - overall >= 0.1:
                found.append({"uncertainty": name, "range": [float(edges[b]), float(edges[b + 1])],
                              "failure_share": rate, "overall_failure_share": overall})
    found.sort(key=lambda f: -(f["failure_share"] - f["overall_failure_share"]))
    return found[:8]
