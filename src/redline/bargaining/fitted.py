"""A generalised compromise model whose few parameters are fitted to data, with honest CV.

The prediction blends the weighted mean and the weighted median of positions, with weights
``s_i^a c_i^b m_i`` (``m_i`` an optional multiplier for named actors such as the Commission or
the Parliament), and is pulled towards the status quo by ``lambda`` where one is known:

``x_hat = (1 - lambda) [(1 - gamma) mean_w + gamma median_w] + lambda q``.

Parameters are fitted by minimising the mean absolute error (Nelder-Mead) and judged only on
held-out issues: :func:`cross_validate` folds issues by proposal (issues of one proposal are
decided together, so splitting them would leak), fits on the other folds and scores the fold it
never saw (Stone 1974, "Cross-validatory choice and assessment of statistical predictions",
J. R. Stat. Soc. B 36(2), doi:10.1111/j.2517-6161.1974.tb00994.x).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from redline.bargaining._core import Actors, BargainingError, BargainingResult, weighted_mean, weighted_median

__all__ = ["predict", "fit", "cross_validate", "FitResult", "CrossValidation"]


def predict(
    actors: Actors,
    *,
    salience_power: float = 1.0,
    capability_power: float = 1.0,
    median_weight: float = 0.0,
    status_quo_weight: float = 0.0,
    actor_multipliers: dict[str, float] | None = None,
) -> BargainingResult:
    """Blend of weighted mean, weighted median and status quo (module docstring).

    With the defaults this is exactly the salience × capability weighted mean (Achen 2006).

    Parameters
    ----------
    actors : Actors
    salience_power, capability_power : float
        Exponents of the weights, clipped to [0, 5].
    median_weight : float
        ``gamma`` in [0, 1], the share of the weighted median.
    status_quo_weight : float
        ``lambda`` in [0, 1], pull towards the status quo where it is known.
    actor_multipliers : dict, optional
        Extra weight factor per actor name (unknown names are ignored).
    """
    a = float(np.clip(salience_power, 0.0, 5.0))
    b = float(np.clip(capability_power, 0.0, 5.0))
    gamma = float(np.clip(median_weight, 0.0, 1.0))
    lam = float(np.clip(status_quo_weight, 0.0, 1.0))
    mult = np.ones(actors.shape[1])
    for name, m in (actor_multipliers or {}).items():
        if name in actors.names:
            mult[actors.names.index(name)] = max(float(m), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.power(actors.saliences, a) * np.power(actors.capabilities, b) * mult
    w = np.where(actors.present & (actors.weights > 0), np.nan_to_num(w), 0.0)
    x = actors.positions
    blend = (1 - gamma) * weighted_mean(x, w) + gamma * weighted_median(x, w)
    if actors.status_quo is not None and lam > 0:
        sq = actors.status_quo
        blend = np.where(np.isnan(sq), blend, (1 - lam) * blend + lam * sq)
    return BargainingResult("cv_fitted", blend, params=dict(
        salience_power=a, capability_power=b, median_weight=gamma, status_quo_weight=lam,
        actor_multipliers={k: float(v) for k, v in (actor_multipliers or {}).items()}))


@dataclass(frozen=True)
class FitResult:
    """Fitted parameters (keyword arguments of :func:`predict`) and the training MAE."""

    params: dict
    train_mae: float


def _unpack(theta, roles):
    params = dict(salience_power=theta[0], capability_power=theta[1],
                  median_weight=theta[2], status_quo_weight=theta[3])
    params["actor_multipliers"] = {r: float(np.exp(v)) for r, v in zip(roles, theta[4:])}
    return params


def fit(actors: Actors, outcome: np.ndarray, *, roles: Sequence[str] = (), maxiter: int = 800) -> FitResult:
    """Fit the parameters of :func:`predict` by minimising MAE on ``outcome`` (Nelder-Mead).

    Parameters
    ----------
    actors : Actors
        Training issues.
    outcome : ndarray, shape (issues,)
        Observed outcomes on the positions' scale (``NaN`` rows are ignored).
    roles : sequence of str
        Actor names that get a fitted weight multiplier (e.g. ``("com", "ep")`` on DEU III).
    """
    outcome = np.asarray(outcome, float)
    ok = ~np.isnan(outcome)
    if ok.sum() < 2:
        raise BargainingError("fitting needs at least two issues with an outcome")
    sub = actors.take(np.flatnonzero(ok))
    y = outcome[ok]
    roles = tuple(roles)

    def loss(theta):
        p = predict(sub, **_unpack(theta, roles)).prediction
        return float(np.nanmean(np.abs(p - y)))

    start = np.array([1.0, 1.0, 0.0, 0.0] + [0.0] * len(roles))
    best = None
    # a second start from the median side guards against Nelder-Mead stalling on the MAE's kinks
    for x0 in (start, start + np.r_[0.0, 0.0, 0.5, 0.1, [0.0] * len(roles)]):
        res = minimize(loss, x0, method="Nelder-Mead",
                       options=dict(maxiter=maxiter, xatol=1e-3, fatol=1e-4, initial_simplex=None))
        if best is None or res.fun < best.fun:
            best = res
    params = predict(sub, **_unpack(best.x, roles)).params
    return FitResult(params, float(best.fun))


@dataclass(frozen=True)
class CrossValidation:
    """Held-out predictions of :func:`cross_validate`.

    Attributes
    ----------
    prediction : ndarray, shape (issues,)
        Each issue predicted by the parameters fitted on the folds that exclude it.
    fold : ndarray of int, shape (issues,)
    params : list of dict
        Fitted parameters per fold.
    """

    prediction: np.ndarray
    fold: np.ndarray
    params: list = field(default_factory=list)
    train_mae: list = field(default_factory=list)

    def mae(self, outcome: np.ndarray) -> float:
        """Held-out mean absolute error."""
        return float(np.nanmean(np.abs(self.prediction - np.asarray(outcome, float))))


def cross_validate(actors: Actors, outcome: np.ndarray, *, groups: Sequence[str] | None = None,
                   folds: int = 10, seed: int = 0, roles: Sequence[str] = ()) -> CrossValidation:
    """K-fold cross-validation by issue, folds drawn over ``groups`` (e.g. proposals).

    Parameters
    ----------
    actors : Actors
    outcome : ndarray, shape (issues,)
    groups : sequence of str, optional
        Issues sharing a group are kept in the same fold; default one group per issue.
    folds : int
    seed : int
        Seed of the fold assignment (``numpy.random.default_rng``).
    roles : sequence of str
        Passed to :func:`fit`.
    """
    n = actors.shape[0]
    groups = np.asarray(groups if groups is not None else np.arange(n)).astype(str)
    uniq = np.unique(groups)
    if folds < 2 or folds > len(uniq):
        raise BargainingError(f"folds must be between 2 and {len(uniq)} (groups), got {folds}")
    rng = np.random.default_rng(seed)
    group_fold = dict(zip(rng.permutation(uniq), np.arange(len(uniq)) % folds))
    fold = np.array([group_fold[g] for g in groups])
    pred = np.full(n, np.nan)
    all_params, train = [], []
    for k in range(folds):
        test = np.flatnonzero(fold == k)
        tr = np.flatnonzero(fold != k)
        fitted = fit(actors.take(tr), np.asarray(outcome, float)[tr], roles=roles)
        pred[test] = predict(actors.take(test), **fitted.params).prediction
        all_params.append(fitted.params)
        train.append(fitted.train_mae)
    return CrossValidation(pred, fold, all_params, train)
