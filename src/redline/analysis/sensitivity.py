"""Global sensitivity of an outcome's probability to a sweep's uncertainties and levers (SALib).

The analyser follows the design the sweep was drawn with:

* ``sobol`` — first-order and total Sobol' indices S1/ST with bootstrap 95% intervals
  (Sobol' 2001, doi:10.1016/S0378-4754(00)00270-6; Saltelli et al. 2010,
  doi:10.1016/j.cpc.2009.09.018);
* ``morris`` — elementary effects μ* and σ (Morris 1991, doi:10.1080/00401706.1991.10484804;
  Campolongo, Cariboni & Saltelli 2007, doi:10.1016/j.envsoft.2006.10.004);
* ``lhs`` / ``factorial`` — first-order indices S1 by random-balance-design FAST, which works on
  any sample by reordering it along each factor (Tarantola, Gatelli & Mara 2006,
  doi:10.1016/j.ress.2005.06.003; Plischke 2010, doi:10.1016/j.ress.2009.11.005), with
  bootstrap 95% intervals.

Indices are computed separately for each strategy combination of the sweep: the strategy is a
discrete choice the analyst compares, not a random input.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from redline.errors import ParameterError
from redline.experiments.design import MORRIS_LEVELS
from redline.results.store import ResultsStore

__all__ = ["analyse_store", "analyse", "plot_sensitivity", "sample_warning", "METHODS"]

METHODS = {"sobol": "sobol", "morris": "morris", "lhs": "rbd_fast", "factorial": "rbd_fast"}
COLUMNS = {"sobol": ["S1", "S1_conf", "ST", "ST_conf"], "morris": ["mu_star", "mu_star_conf", "sigma", "mu"],
           "rbd_fast": ["S1", "S1_conf"]}
NUM_RESAMPLES = 200
MAX_FAILED_SHARE = 0.05
"""Largest share of failed experiments RBD-FAST indices are computed without (an assumption:
beyond it, the indices describe mainly where runs succeed)."""


def analyse(method: str, problem: dict, X: np.ndarray, Y: np.ndarray, *, seed: int = 0) -> tuple[dict, str | None]:
    """Indices of ``Y`` (one value per row of ``X``) by ``method``; returns (name -> column -> values, note)."""
    names = problem["names"]
    dropped = None
    if np.isnan(Y).any():
        n_failed = int(np.isnan(Y).sum())
        if method in ("sobol", "morris"):
            return {}, f"{n_failed} experiment(s) failed; {method} indices need every experiment of the sample"
        if n_failed > MAX_FAILED_SHARE * Y.size:
            # Failures that cluster in one corner of the space would bias the indices: refuse.
            return {}, (f"{n_failed} of {Y.size} experiment(s) failed (more than {MAX_FAILED_SHARE:.0%}); "
                        f"{method} indices over the rest would be biased toward where runs succeed")
        dropped = (f"{n_failed} of {Y.size} experiment(s) failed and are left out of the {method} indices "
                   "(they may be biased if failures depend on the factors)")
        keep = ~np.isnan(Y)
        X, Y = X[keep], Y[keep]
    if Y.size < 4:
        return {}, "too few experiments for sensitivity indices"
    if float(np.ptp(Y)) == 0.0:
        zeros = {c: [0.0] * len(names) for c in COLUMNS[method]}
        return zeros, f"the probability is {Y[0]:.3g} in every experiment: no factor moves it in these ranges"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, Y, calc_second_order=False, num_resamples=NUM_RESAMPLES, seed=seed)
        elif method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, X, Y, num_levels=MORRIS_LEVELS, num_resamples=NUM_RESAMPLES, seed=seed)
        else:
            from SALib.analyze import rbd_fast

            harmonics = _harmonics(Y.size)
            res = rbd_fast.analyze(problem, X, Y, M=harmonics, num_resamples=NUM_RESAMPLES, seed=seed)
    return {c: [float(v) for v in np.asarray(res[c], dtype=float)] for c in COLUMNS[method]}, dropped


def _harmonics(n: int) -> int:
    """M, the interference factor of RBD-FAST: small for small samples."""
    return max(1, min(10, n // 12))


MORRIS_MIN_TRAJECTORIES = 10  # Campolongo, Cariboni & Saltelli 2007 use r = 10 to 20 trajectories
SOBOL_MIN_BASE = 256  # Saltelli et al. 2010 report stable first and total indices from N of a few hundred


def sample_warning(method: str, experiments: int, factors: int, values: dict) -> str | None:
    """Why the sample may be too small for ``method``'s indices to be trusted, or None.

    RBD-FAST's first-order estimates are biased upward by about 2M/N each (Tissot & Prieur 2012,
    doi:10.1016/j.ress.2012.06.010), so with k factors the indices can sum to about k·2M/N more than
    the truth and past 1 from bias alone; Morris needs about ten trajectories (Campolongo et al.
    2007, doi:10.1016/j.envsoft.2006.10.004); Sobol estimates need a base sample of a few hundred
    (Saltelli et al. 2010, doi:10.1016/j.cpc.2009.09.018).
    """
    if not values or experiments <= 0:
        return None
    if method == "rbd_fast":
        bias = 2 * _harmonics(experiments) / experiments
        total = sum(v for v in values.get("S1", []) if np.isfinite(v))
        if factors * bias > 0.1 or total > 1.0:
            need = max(120, 200 * factors)  # from 120 on M = 10, so k·2M/N <= 0.1 needs N >= 200k
            return (f"{experiments} experiments are too few for RBD-FAST with {factors} factor(s): each S1 is biased "
                    f"upward by about {bias:.2f} (2M/N, Tissot & Prieur 2012), and the S1 sum to {total:.2f}"
                    f"{' (past 1: bias)' if total > 1 else ''}; sweep with --samples {need} or more")
    if method == "morris":
        trajectories = experiments // (factors + 1)
        if trajectories < MORRIS_MIN_TRAJECTORIES:
            return (f"{trajectories} Morris trajectories are too few (about {MORRIS_MIN_TRAJECTORIES} are needed, "
                    f"Campolongo et al. 2007); sweep with --samples {MORRIS_MIN_TRAJECTORIES} or more")
    if method == "sobol":
        base = experiments // (factors + 2)
        if base < SOBOL_MIN_BASE:
            return (f"a Sobol base sample of {base} is too small for stable indices (a few hundred are needed, "
                    f"Saltelli et al. 2010; see the _conf columns); sweep with --samples {SOBOL_MIN_BASE} or more")
    return None


def analyse_store(store: str | Path, outcome: str) -> dict:
    """Sensitivity indices of P(``outcome``) for the sweep in ``store``, per strategy combination."""
    with ResultsStore.open(store) as st:
        identity = st.identity
        design, probs = st.outcome_probabilities(outcome)
    d = identity["design"]
    factors = [f[0] for f in d["factors"]]
    if not factors:
        raise ParameterError(f"{store}: the sweep varied no uncertainty or lever; nothing to analyse")
    method = METHODS[d["design"]]
    problem = {"num_vars": len(factors), "names": factors, "bounds": [[f[2], f[3]] for f in d["factors"]]}
    y_all = np.full(len(design), np.nan)
    y_all[probs["experiment"].to_numpy(int)] = probs["probability"].to_numpy(float)
    actors = d["strategies"]["actors"]
    groups = []
    for c, combo in enumerate(d["strategies"]["combinations"]):
        rows = design[design["combination"] == c].sort_values("point")
        X = rows[factors].to_numpy(float)
        Y = y_all[rows["experiment"].to_numpy(int)]
        values, note = analyse(method, problem, X, Y, seed=int(d["seed"]))
        label = ", ".join(f"{a}={s}" for a, s in zip(actors, combo)) or "default strategies"
        indices = [{"factor": name, **{col: (values[col][j] if values else None) for col in COLUMNS[method]}}
                   for j, name in enumerate(factors)]
        ranked = "ST" if method == "sobol" else COLUMNS[method][0]
        indices.sort(key=lambda r: -(r[ranked] if r[ranked] is not None and np.isfinite(r[ranked]) else -1))
        finite = Y[~np.isnan(Y)]
        groups.append({"label": label, "strategies": dict(zip(actors, combo)), "experiments": int(len(rows)),
                       "failed": int(np.isnan(Y).sum()),
                       "mean_probability": float(finite.mean()) if finite.size else None,
                       "indices": indices, "note": note,
                       "warning": sample_warning(method, int((~np.isnan(Y)).sum()), len(factors), values)})
    return {"store": str(store), "scenario": identity["scenario"], "outcome": outcome, "design": d["design"],
            "method": method, "columns": COLUMNS[method], "groups": groups,
            "reference": {"sobol": "Saltelli et al. 2010, doi:10.1016/j.cpc.2009.09.018",
                          "morris": "Morris 1991, doi:10.1080/00401706.1991.10484804; Campolongo et al. 2007",
                          "rbd_fast": "Tarantola et al. 2006, doi:10.1016/j.ress.2005.06.003; Plischke 2010"}[method]}


def plot_sensitivity(result: dict, directory: Path) -> Path | None:
    """Bar chart of the indices of every strategy group; returns the PNG path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    groups = [g for g in result["groups"] if g["indices"]]
    if not groups:
        return None
    cols = result["columns"]
    main, conf = cols[0], cols[1]
    second = cols[2] if len(cols) > 2 else None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 0.5 * len(groups[0]["indices"]) + 1.8),
                             squeeze=False, sharey=True)
    for ax, g in zip(axes[0], groups):
        names = [r["factor"] for r in g["indices"]][::-1]
        y = np.arange(len(names))
        v1 = np.array([r[main] or 0.0 for r in g["indices"]][::-1])
        e1 = np.nan_to_num(np.array([r[conf] or 0.0 for r in g["indices"]][::-1]))
        ax.barh(y + 0.2, v1, height=0.4, xerr=e1, label=main)
        if second:
            v2 = np.array([r[second] or 0.0 for r in g["indices"]][::-1])
            ax.barh(y - 0.2, v2, height=0.4, label=second)
        ax.set_yticks(y, names)
        ax.set_title(g["label"], fontsize=9)
        ax.axvline(0, color="black", linewidth=0.5)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{result['method']} sensitivity of P({result['outcome']}) — {result['scenario']}", fontsize=10)
    fig.tight_layout()
    path = directory / f"sensitivity_{result['outcome']}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
