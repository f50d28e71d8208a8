"""Full factorial experiments over a strategy's factors, with common random numbers.

A strategy written with levers as factors (e.g. deniability, tempo, lethality) is run at every
combination of the factors' levels with the same seed, so every cell sees the same random numbers
and, if per-run parameters are given (e.g. draws from a posterior), the same parameters. For each
measure (an expression recorded at a week, as forecast probes are) and each factor, the main
effect is the mean over runs of the per-run contrast

    c_r = mean over cells at the factor's high level of m_r  -  mean over cells at its low level of m_r

(Box, Hunter & Hunter 2005, *Statistics for Experimenters*, ch. 5), with a normal 95% interval
over runs (runs are independent draws of parameters and noise; the pairing removes the noise the
cells share). A difference between two cells is split into the parts each factor carries by
averaging the two orders in which the factors can be switched (the Shapley value of a two-factor
change; Shapley 1953).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from redline import escalation

__all__ = ["FactorialResult", "run_factorial", "main_effects", "split_difference"]

Z95 = 1.959963984540054


@dataclass
class FactorialResult:
    """Per-run measures in every cell of the design.

    Attributes
    ----------
    factors: factor name -> its levels, in order.
    cells: one tuple of levels per cell (itertools.product order).
    measures: measure name -> array (cells, runs).
    runs, seed: the simulation's size and seed.
    """

    factors: dict[str, list[float]]
    cells: list[tuple[float, ...]]
    measures: dict[str, np.ndarray]
    runs: int
    seed: int

    def cell_index(self, levels: Mapping[str, float]) -> list[int]:
        """Indices of the cells matching the given factor levels (unnamed factors: any level)."""
        names = list(self.factors)
        return [i for i, cell in enumerate(self.cells)
                if all(cell[names.index(k)] == v for k, v in levels.items())]

    def mean(self, measure: str, levels: Mapping[str, float]) -> np.ndarray:
        """Per-run mean of ``measure`` over the cells matching ``levels``."""
        return self.measures[measure][self.cell_index(levels)].mean(axis=0)


def run_factorial(loaded, *, actor: str, strategy: str, factors: Mapping[str, Sequence[float]],
                  measures: Mapping[str, tuple[str, int]], runs: int, seed: int, horizon: int | None = None,
                  params: Mapping[str, Any] | None = None) -> FactorialResult:
    """Simulate ``strategy`` for ``actor`` at every combination of the factors' levels.

    Parameters
    ----------
    factors:
        lever (or uncertainty) name -> levels.
    measures:
        name -> (expression, week): the expression's value at the end of that week in each run.
    params:
        other parameter values, scalars or arrays of length ``runs`` (shared by every cell).
    """
    names = list(factors)
    cells = list(itertools.product(*(list(factors[n]) for n in names)))
    last = max(week for _, week in measures.values())
    horizon = max(horizon or 0, last)
    out = {m: np.empty((len(cells), runs)) for m in measures}
    for i, cell in enumerate(cells):
        ds = escalation.run(loaded, runs=runs, horizon=horizon, seed=seed, strategies={actor: strategy},
                            params={**(params or {}), **dict(zip(names, cell))}, probes=dict(measures))
        for m in measures:
            out[m][i] = ds["probe_value"].sel(probe=m).values
    return FactorialResult({n: [float(v) for v in factors[n]] for n in names}, cells, out, runs, seed)


def _summary(c: np.ndarray) -> dict[str, Any]:
    c = c[np.isfinite(c)]
    if c.size == 0:
        return {"effect": None, "ci95": None}
    half = float(Z95 * c.std(ddof=1) / np.sqrt(c.size)) if c.size > 1 else 0.0
    m = float(c.mean())
    return {"effect": m, "ci95": [m - half, m + half]}


def main_effects(result: FactorialResult, *, within: Mapping[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Measure -> factor -> ``{effect, ci95}``: the main effect of moving the factor from its
    lowest to its highest level, averaged over the other factors (or within fixed levels)."""
    within = dict(within or {})
    out: dict[str, dict[str, Any]] = {}
    for m in result.measures:
        out[m] = {}
        for f, levels in result.factors.items():
            if f in within:
                continue
            hi = result.mean(m, {**within, f: levels[-1]})
            lo = result.mean(m, {**within, f: levels[0]})
            out[m][f] = _summary(hi - lo)
    return out


def split_difference(result: FactorialResult, measure: str, a: Mapping[str, float], b: Mapping[str, float],
                     *, within: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The difference ``a - b`` between two cells that differ in two factors, split into the part
    each factor carries (Shapley: the average over the two orders of switching them), each with a
    95% interval over runs; the interaction is the gap between the two orders."""
    within = dict(within or {})
    changed = [f for f in result.factors if a.get(f) != b.get(f)]
    if len(changed) != 2:
        raise ValueError(f"the two cells must differ in exactly two factors, not {changed}")
    f1, f2 = changed
    y = {}
    for v1 in (a[f1], b[f1]):
        for v2 in (a[f2], b[f2]):
            y[(v1, v2)] = result.mean(measure, {**within, **{k: v for k, v in a.items() if k not in changed},
                                                 f1: v1, f2: v2})
    ya, yb = y[(a[f1], a[f2])], y[(b[f1], b[f2])]
    part1 = 0.5 * ((y[(a[f1], b[f2])] - yb) + (ya - y[(b[f1], a[f2])]))
    part2 = 0.5 * ((y[(b[f1], a[f2])] - yb) + (ya - y[(a[f1], b[f2])]))
    interaction = (ya - y[(a[f1], b[f2])]) - (y[(b[f1], a[f2])] - yb)
    return {"difference": _summary(ya - yb), f1: _summary(part1), f2: _summary(part2),
            "interaction": _summary(interaction)}
