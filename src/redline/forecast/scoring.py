"""Proper scoring rules for binary forecasts, baselines, calibration and the Murphy decomposition.

Both scores are losses (lower is better) averaged over questions:

* Brier score (Brier 1950, Monthly Weather Review 78(1), 1-3,
  doi:10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2): ``(p - o)^2`` with ``o`` in {0, 1}.
  0 is perfect; always saying 0.5 scores 0.25.
* Log score (Good 1952, JRSS B 14(1), 107-114): ``-ln q`` where ``q`` is the probability given to
  what happened (``p`` if it happened, ``1 - p`` if not), in nats. Probabilities are first clipped
  to ``[LOG_FLOOR, 1 - LOG_FLOOR]`` = [0.001, 0.999], so a forecast of exactly 0 or 1 that turns out
  wrong costs ``-ln 0.001`` ≈ 6.91 instead of infinity. Always saying 0.5 scores ln 2 ≈ 0.693.
  The Brier score is never clipped.

The Murphy (1973) decomposition (J. Applied Meteorology 12(4), 595-600,
doi:10.1175/1520-0450(1973)012<0595:ANVPOT>2.0.CO;2) splits the Brier score over forecast bins:
``BS = reliability - resolution + uncertainty``, exactly when forecasts are equal within each bin;
with binned continuous forecasts the remainder (``within_bin``, Stephenson, Coelho & Jolliffe 2008,
Weather and Forecasting 23(4), 752-757) is reported so that the parts always add up.
"""
from __future__ import annotations

import math

import numpy as np

from redline.results.summary import wilson_interval

__all__ = [
    "LOG_FLOOR",
    "CALIBRATION_BINS",
    "BOOTSTRAP_RESAMPLES",
    "brier_scores",
    "log_scores",
    "leave_one_out_base_rate",
    "Bootstrap",
    "calibration_table",
    "murphy_decomposition",
]

LOG_FLOOR = 0.001
"""Probabilities are clipped to [LOG_FLOOR, 1 - LOG_FLOOR] for the log score only."""

CALIBRATION_BINS = 10
"""Equal-width forecast bins of the calibration table: [0, 0.1), [0.1, 0.2), ..., [0.9, 1]."""

BOOTSTRAP_RESAMPLES = 2000


def _arrays(p, o) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    if p.shape != o.shape:
        raise ValueError(f"forecasts {p.shape} and outcomes {o.shape} differ in shape")
    return p, o


def brier_scores(p, o) -> np.ndarray:
    """Per-question Brier score ``(p - o)^2`` (Brier 1950)."""
    p, o = _arrays(p, o)
    return (p - o) ** 2


def log_scores(p, o, floor: float = LOG_FLOOR) -> np.ndarray:
    """Per-question log score ``-ln q`` in nats, ``q`` the probability of what happened, clipped to
    ``[floor, 1 - floor]`` (Good 1952)."""
    p, o = _arrays(p, o)
    q = np.clip(np.where(o > 0.5, p, 1.0 - p), floor, 1.0 - floor)
    return -np.log(q)


def leave_one_out_base_rate(outcomes) -> np.ndarray:
    """For each question, the share of the *other* questions that resolved true.

    Question *i*'s own outcome never enters its forecast (no leakage). With a single question
    there is no other outcome to learn from and the rate is 0.5.
    """
    o = np.asarray(outcomes, dtype=float)
    n = o.size
    if n < 2:
        return np.full(n, 0.5)
    return (o.sum() - o) / (n - 1)


class Bootstrap:
    """Percentile bootstrap of mean scores over questions (Efron & Tibshirani 1993, ch. 13).

    One set of resampled question indices is drawn from ``seed`` and reused for every score, so
    intervals of differences between forecasters are paired (same questions in each resample).
    """

    def __init__(self, n: int, *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES):
        self.n = n
        self.resamples = resamples
        self.seed = seed
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
        self.index = rng.integers(0, n, size=(resamples, n)) if n else np.empty((resamples, 0), dtype=int)

    def ci(self, values, level: float = 0.95) -> list[float] | None:
        """The ``level`` percentile interval of the mean of ``values`` (None without questions)."""
        v = np.asarray(values, dtype=float)
        if v.size == 0:
            return None
        means = v[self.index].mean(axis=1)
        tail = (1 - level) / 2 * 100
        lo, hi = np.percentile(means, [tail, 100 - tail])
        return [float(lo), float(hi)]

    def summary(self, values) -> dict:
        """``{"score": mean, "ci95": [lo, hi], "n": n}``."""
        v = np.asarray(values, dtype=float)
        return {"score": float(v.mean()) if v.size else None, "ci95": self.ci(v), "n": int(v.size)}


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((p * bins).astype(int), bins - 1)


def calibration_table(p, o, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Reliability-diagram data: per equal-width forecast bin, the number of questions, their mean
    forecast and the share that resolved true (None for empty bins), with a Wilson 95% interval."""
    p, o = _arrays(p, o)
    idx = _bin_index(p, bins)
    table = []
    for k in range(bins):
        mask = idx == k
        n = int(mask.sum())
        hits = int(o[mask].sum())
        table.append({
            "bin": [k / bins, (k + 1) / bins],
            "n": n,
            "mean_forecast": float(p[mask].mean()) if n else None,
            "observed": hits / n if n else None,
            "observed_ci95": list(wilson_interval(hits, n)) if n else None,
        })
    return table


def murphy_decomposition(p, o, bins: int = CALIBRATION_BINS) -> dict:
    """Murphy (1973) decomposition of the Brier score over equal-width forecast bins.

    ``reliability = Σ n_k (f̄_k − ō_k)² / N`` (lower is better), ``resolution = Σ n_k (ō_k − ō)² / N``
    (higher is better), ``uncertainty = ō (1 − ō)``, ``within_bin = BS − (REL − RES + UNC)`` (zero
    when forecasts are equal inside each bin).
    """
    p, o = _arrays(p, o)
    n = p.size
    if n == 0:
        return {"brier": None, "reliability": None, "resolution": None, "uncertainty": None, "within_bin": None,
                "bins": bins}
    idx = _bin_index(p, bins)
    base = float(o.mean())
    reliability = resolution = 0.0
    for k in np.unique(idx):
        mask = idx == k
        nk = mask.sum()
        fk, ok = p[mask].mean(), o[mask].mean()
        reliability += nk * (fk - ok) ** 2
        resolution += nk * (ok - base) ** 2
    reliability /= n
    resolution /= n
    uncertainty = base * (1 - base)
    brier = float(brier_scores(p, o).mean())
    within = brier - (reliability - resolution + uncertainty)
    return {
        "brier": brier,
        "reliability": float(reliability),
        "resolution": float(resolution),
        "uncertainty": float(uncertainty),
        "within_bin": float(0.0 if math.isclose(within, 0.0, abs_tol=1e-15) else within),
        "bins": bins,
    }
