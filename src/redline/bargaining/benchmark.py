"""Score every bargaining model on DEU III with the same issues, bootstrap CIs and baselines.

Pure: returns a JSON-ready dict; the CLI prints it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from redline.bargaining import expected_utility, fitted, mean, median, nash
from redline.bargaining.datasets import Deu3, load_deu3

__all__ = ["deu3_benchmark", "bootstrap_mae"]

DEFAULT_SEED = 20261125


def bootstrap_mae(errors: np.ndarray, *, n_boot: int, rng: np.random.Generator,
                  reference: np.ndarray | None = None) -> dict[str, Any]:
    """Percentile bootstrap over issues (Efron & Tibshirani 1993, *An Introduction to the
    Bootstrap*, ch. 13) of the MAE and, if ``reference`` errors are given on the same issues, of
    the paired MAE difference ``errors - reference``.
    """
    n = errors.shape[0]
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = errors[idx].mean(axis=1)
    out: dict[str, Any] = {"ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]}
    if reference is not None:
        diff = (errors - reference)[idx].mean(axis=1)
        out["diff_vs_weighted_mean"] = float((errors - reference).mean())
        out["diff_ci95"] = [float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))]
    return out


def _model_specs():
    return [
        ("weighted_mean", "salience x capability (GDP) weighted mean; Achen 2006",
         lambda a: mean.predict(a)),
        ("weighted_median", "salience x capability (GDP) lower weighted median; Black 1948",
         lambda a: median.predict(a)),
        ("nash_bargaining", "weighted Nash bargaining solution, linear utilities, disagreement at each "
         "actor's worst end of the issue", lambda a: nash.predict(a)),
        ("nash_bargaining_status_quo", "weighted Nash bargaining solution, disagreement = status quo "
         "(reference point) where known, unanimity; status quo if no point helps all",
         lambda a: nash.predict(a, disagreement="status_quo")),
        ("bdm_expected_utility", "Scholz, Calbert & Smith (2011) reconstruction, 10 rounds, Q=1, "
         "Scholz-code conventions; forecast = weighted median after the last round",
         lambda a: expected_utility.predict(a)),
        ("bdm_expected_utility_paper", "same model with the paper's conventions: pairwise challenge "
         "probability, least-move compromise", lambda a: expected_utility.predict(
             a, probability="pair", compromise="least_move")),
    ]


def deu3_benchmark(*, n_boot: int = 2000, seed: int = DEFAULT_SEED, folds: int = 10,
                   data: Deu3 | None = None) -> dict[str, Any]:
    """Mean absolute error of every model and baseline on DEU III issues with an outcome.

    Every model is scored on the same issues (all 353 with an outcome). The status-quo and
    Commission baselines are defined only where ``rp`` or ``pcom`` exists; their ``n_issues``
    says so, and ``mae_common`` scores everything on the issues where both exist.

    Parameters
    ----------
    n_boot : int
        Bootstrap resamples of issues for the 95% CIs (seeded: identical reruns).
    seed : int
        Root of a :class:`numpy.random.SeedSequence`; one child per model/baseline.
    folds : int
        Cross-validation folds (by proposal) for the fitted model; its MAE is held-out only.
    """
    d = load_deu3() if data is None else data
    y = d.outcome
    sq = d.actors.status_quo
    com = d.commission
    common = ~np.isnan(sq) & ~np.isnan(com)
    root = np.random.SeedSequence(seed)
    specs = _model_specs()
    children = root.spawn(len(specs) + 6)
    preds = {name: (desc, fn(d.actors).prediction) for name, desc, fn in specs}
    cv = fitted.cross_validate(d.actors, y, groups=d.proposal_ids, folds=folds, seed=seed,
                               roles=("com", "ep"))
    preds["cv_fitted"] = ("blend of weighted mean/median/status quo with fitted weight exponents and "
                          "Commission/EP multipliers; held-out error of %d-fold CV by proposal" % folds,
                          cv.prediction)
    ref_err = np.abs(preds["weighted_mean"][1] - y)
    models = []
    for k, (name, (desc, p)) in enumerate(preds.items()):
        err = np.abs(p - y)
        if np.isnan(err).any():
            raise RuntimeError(f"model {name} left {int(np.isnan(err).sum())} issues unpredicted")
        entry = {"model": name, "description": desc, "n_issues": int(len(y)), "mae": float(err.mean()),
                 "mae_common": float(err[common].mean())}
        entry.update(bootstrap_mae(err, n_boot=n_boot, rng=np.random.default_rng(children[k]),
                                   reference=None if name == "weighted_mean" else ref_err))
        if name == "cv_fitted":
            entry["train_mae_per_fold"] = [float(v) for v in cv.train_mae]
            entry["params_per_fold"] = cv.params
        models.append(entry)
    base_specs = [
        ("status_quo", "reference point rp", sq),
        ("commission", "Commission position pcom", com),
        ("unweighted_mean", "mean of all positions", np.nanmean(d.actors.positions, axis=1)),
    ]
    baselines = []
    for k, (name, desc, p) in enumerate(base_specs, start=len(preds)):
        err = np.abs(p - y)
        ok = ~np.isnan(err)
        entry = {"model": name, "description": desc, "n_issues": int(ok.sum()),
                 "mae": float(err[ok].mean()), "mae_common": float(err[common].mean())}
        entry.update(bootstrap_mae(err[ok], n_boot=n_boot, rng=np.random.default_rng(children[k])))
        baselines.append(entry)
    best = min(models, key=lambda m: m["mae"])
    return {
        "benchmark": "deu3",
        "source": "Arregui & Perarnaud, DEU III, doi:10.34810/data53 (CC BY 4.0); capability = GDP row",
        "n_issues": int(len(y)),
        "n_common": int(common.sum()),
        "scale": "0-100 per issue",
        "seed": seed,
        "n_boot": n_boot,
        "models": models,
        "baselines": baselines,
        "best_model": best["model"],
        "beats_weighted_mean": [m["model"] for m in models
                                if m["model"] != "weighted_mean" and m["diff_ci95"][1] < 0],
    }
