"""Asymmetric Nash bargaining solution on one issue dimension.

The outcome ``x`` maximises the weighted product of utility gains over the disagreement point,
``prod_i (u_i(x) - u_i(d_i)) ** w_i`` with ``w_i = s_i c_i`` (Nash 1950; the asymmetric form of
Kalai 1977), as used for EU legislative bargaining by Achen (2006) and Schneider, Finke & Bailer
(2010).

References
----------
Nash, J. F. (1950). The bargaining problem. *Econometrica* 18(2): 155-162. doi:10.2307/1907266.

Kalai, E. (1977). Nonsymmetric Nash solutions and replications of 2-person bargaining.
*International Journal of Game Theory* 6(3): 129-133.

Achen, C. H. (2006). Institutional realism and bargaining models. In Thomson et al. (eds.),
*The European Union Decides*, Cambridge UP, ch. 4.

Schneider, G., Finke, D. & Bailer, S. (2010). Bargaining power in the European Union: an
evaluation of competing game-theoretic models. *Political Studies* 58(1).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from redline.bargaining._core import Actors, BargainingError, BargainingResult

__all__ = ["predict"]


def _gain_slope(x, ideal, utility):
    if utility == "linear":
        return -np.sign(x[:, None] - ideal)
    return -2.0 * (x[:, None] - ideal)


def _utility(x, ideal, utility):
    d = x[..., None] - ideal if np.ndim(x) == 1 else x - ideal
    return -np.abs(d) if utility == "linear" else -(d ** 2)


def predict(
    actors: Actors,
    *,
    disagreement: Literal["worst", "status_quo"] = "worst",
    utility: Literal["linear", "quadratic"] = "linear",
    iterations: int = 80,
) -> BargainingResult:
    """Weighted Nash bargaining solution, vectorised over the batch axis.

    Parameters
    ----------
    actors : Actors
        Table shaped (batch, actors). Weights are salience × capability.
    disagreement : {"worst", "status_quo"}
        ``"status_quo"``: every actor's disagreement utility is that of ``actors.status_quo``
        (rows without one fall back to ``"worst"``); agreement needs every weighted actor to
        gain, and where no point makes all of them gain the prediction is the status quo.
        ``"worst"``: each actor's disagreement point is the end of the issue's range (its
        extreme positions, and the status quo if known) farthest from its ideal, so any point
        inside the range is acceptable to all.
    utility : {"linear", "quadratic"}
        ``u_i(x) = -|x - x_i|`` or ``-(x - x_i)**2``.
    iterations : int
        At most this many bisection steps on the (monotone) derivative of the concave
        log-objective; it stops early once every interval is 2**-45 of the widest initial one.

    Returns
    -------
    BargainingResult
        ``prediction`` (batch,); ``diagnostics["agreement"]`` marks rows where some point makes
        every weighted actor better off.
    """
    if disagreement not in ("worst", "status_quo"):
        raise BargainingError(f"disagreement must be 'worst' or 'status_quo', got '{disagreement}'")
    if utility not in ("linear", "quadratic"):
        raise BargainingError(f"utility must be 'linear' or 'quadratic', got '{utility}'")
    w = actors.weights
    active = actors.present & (w > 0)
    ideal = np.where(active, actors.positions, 0.0)
    batch = ideal.shape[0]
    sq = np.full(batch, np.nan) if actors.status_quo is None else actors.status_quo
    lo = np.where(active, ideal, np.inf).min(axis=1)
    hi = np.where(active, ideal, -np.inf).max(axis=1)
    lo = np.fmin(lo, sq)
    hi = np.fmax(hi, sq)
    use_sq = np.isfinite(sq) if disagreement == "status_quo" else np.zeros(batch, bool)
    far_end = np.where(np.abs(ideal - lo[:, None]) >= np.abs(ideal - hi[:, None]), lo[:, None], hi[:, None])
    d_point = np.where(use_sq[:, None], sq[:, None], far_end)
    u_d = _utility(d_point, ideal, utility)
    # Each actor gains exactly on the open interval centred on its ideal with radius |d - x_i|.
    radius = np.abs(d_point - ideal)
    left = np.where(active, ideal - radius, -np.inf).max(axis=1)
    right = np.where(active, ideal + radius, np.inf).min(axis=1)
    agreement = right > left
    a, b = np.where(agreement, left, 0.0), np.where(agreement, right, 1.0)
    # Stop once every interval is below 2**-45 of the widest starting one (far under any
    # meaningful difference of positions); the remaining steps would change nothing visible.
    tolerance = float(np.max(b - a, initial=0.0)) * 2.0**-45
    for _ in range(iterations):
        if float(np.max(b - a, initial=0.0)) <= tolerance:
            break
        mid = 0.5 * (a + b)
        gain = _utility(mid, ideal, utility) - u_d
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(active, w * _gain_slope(mid, ideal, utility) / gain, 0.0).sum(axis=1)
        up = slope > 0
        a = np.where(up, mid, a)
        b = np.where(up, b, mid)
    x = 0.5 * (a + b)
    fallback = np.where(np.isfinite(sq), sq, np.nan)
    prediction = np.where(agreement, x, fallback)
    prediction = np.where(hi == lo, lo, prediction)  # everyone (and the status quo) agrees already
    return BargainingResult("nash_bargaining", prediction,
                            params=dict(disagreement=disagreement, utility=utility),
                            diagnostics={"agreement": agreement})
