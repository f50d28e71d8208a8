"""The Nash bargaining solver as it stood before it moved to (actors, batch) tables (commit e0aea59
of src/redline/bargaining/nash.py, unchanged but for returning ``(prediction, agreement)``).

Kept only as the reference that tests/test_nash_layout.py compares the current solver with, bit for
bit: the layout change was meant to make it faster without changing a single number.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from redline.bargaining._core import Actors


def _row_sum(x):
    """``x.sum(axis=1)`` for a (batch, actors) table, the same numbers: below 8 columns numpy
    adds a row's terms one after the other from 0.0, which column-by-column addition reproduces
    at a tenth of the cost (numpy's reduction over a short inner axis is slow)."""
    if x.shape[1] >= 8:
        return x.sum(axis=1)
    total = 0.0
    for j in range(x.shape[1]):
        total = total + x[:, j]
    return np.broadcast_to(total, x.shape[:1]) if np.ndim(total) == 0 else total


def _gains(x, ideal, radius, utility):
    """Gains over the disagreement point at ``x`` (batch,), their slopes and curvatures (batch, actors)."""
    d = x[:, None] - ideal
    if utility == "linear":
        return radius - np.abs(d), -np.sign(d), 0.0
    return radius**2 - d**2, -2.0 * d, -2.0


def _newton_root(a, b, ideal, w, radius, active, utility, tolerance):
    """Root of the log-objective's derivative ``f(x) = sum_i w_i g_i'(x) / g_i(x)`` inside the
    brackets ``(a, b)`` where ``f`` is smooth and decreasing (the objective is concave): Newton
    steps, replaced by bisection whenever a step leaves the bracket (a safeguarded Newton method,
    Press et al. 2007, *Numerical Recipes* 3rd ed., section 9.4). Rows leave the working set as
    soon as their step falls below ``tolerance``."""
    x = 0.5 * (a + b)
    rows = np.nonzero(b > a)[0]
    # The working rows' tables are cut once and again only when some row has converged.
    xr, ar, br = x[rows], a[rows], b[rows]
    idr, rr, on, wr = ideal[rows], radius[rows], active[rows], w[rows]
    for _ in range(200):
        if rows.size == 0:
            break
        g, slope, curvature = _gains(xr, idr, rr, utility)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = _row_sum(np.where(on, wr * slope / g, 0.0))
            fp = _row_sum(np.where(on, wr * (curvature * g - slope**2) / g**2, 0.0))
            new = xr - f / fp
        ar = np.where(f > 0, xr, ar)
        br = np.where(f > 0, br, xr)
        new = np.where((new >= ar) & (new <= br), new, 0.5 * (ar + br))
        x[rows] = new
        moving = np.abs(new - xr) > tolerance
        if moving.all():
            xr = new
            continue
        keep = np.flatnonzero(moving)
        rows, xr, ar, br = rows[keep], new[keep], ar[keep], br[keep]
        idr, rr, on, wr = idr[keep], rr[keep], on[keep], wr[keep]
    return x


def _one_sided(x, ideal, w, radius, from_left):
    """The log-objective's derivative just below (``from_left``) or just above ``x``, for
    piecewise-linear utilities: an actor whose ideal point is ``x`` counts as above it from the
    left and below it from the right."""
    d = ideal - x[:, None]
    above = d >= 0 if from_left else d > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(w > 0, w / (radius - np.abs(d)), 0.0)
    return _row_sum(np.where(above, inv, -inv))


def _linear_kinks(ideal, w, radius, active, left, right):
    """For piecewise-linear utilities the optimum is either at an actor's ideal point (a kink,
    where the one-sided derivatives of the log-objective straddle zero) or inside the smooth
    segment between two consecutive kinks. The derivative decreases, so a binary search over the
    sorted ideal points finds which (O(actors log actors) per row). Returns the optimum where it
    is a kink (else NaN) and the segment ``(a, b)`` that holds it otherwise."""
    inside = active & (ideal > left[:, None]) & (ideal < right[:, None])
    points = np.sort(np.where(inside, ideal, np.inf), axis=1)
    count = inside.sum(axis=1)
    rows = np.arange(points.shape[0])
    lo, hi = np.zeros_like(count), count.copy()
    while True:
        open_ = np.nonzero(lo < hi)[0]
        if open_.size == 0:
            break
        mid = (lo[open_] + hi[open_]) // 2
        if open_.size == rows.size:  # every row still searching: no copies of the tables
            right_of_root = _one_sided(points[rows, mid], ideal, w, radius, False) <= 0
        else:
            right_of_root = _one_sided(points[open_, mid], ideal[open_], w[open_], radius[open_], False) <= 0
        hi[open_] = np.where(right_of_root, mid, hi[open_])
        lo[open_] = np.where(right_of_root, lo[open_], mid + 1)
    first = np.minimum(lo, points.shape[1] - 1)
    candidate = np.where(lo < count, points[rows, first], np.nan)
    safe = np.where(np.isnan(candidate), 0.5 * (left + right), candidate)
    kink = ~np.isnan(candidate) & (_one_sided(safe, ideal, w, radius, True) >= 0)
    at_kink = np.where(kink, candidate, np.nan)
    a = np.where(lo > 0, points[rows, np.maximum(lo - 1, 0)], left)
    b = np.where(lo < count, points[rows, first], right)
    return at_kink, a, b


def _pool_identical(ideal, w, active):
    """Actors at the same ideal point in every row (and active in the same rows) act as one
    actor with their summed weight: equal ideal points give equal disagreement points and
    gains, and ``w_1 log g + w_2 log g = (w_1 + w_2) log g``, so the solution is unchanged
    (up to rounding). Blocs that share a position formula cost the solver one column."""
    columns = ideal.shape[1]
    if columns < 2 or ideal.shape[0] == 0:
        return ideal, w, active
    groups: list[list[int]] = []
    for j in range(columns):
        for group in groups:
            k = group[0]
            # The first row rules most pairs out; only candidates are compared whole.
            if ideal[0, j] == ideal[0, k] and np.array_equal(ideal[:, j], ideal[:, k]) \
                    and np.array_equal(active[:, j], active[:, k]):
                group.append(j)
                break
        else:
            groups.append([j])
    if len(groups) == columns:
        return ideal, w, active
    keep = [g[0] for g in groups]
    pooled = np.stack([w[:, g[0]] if len(g) == 1 else w[:, g].sum(axis=1) for g in groups], axis=1)
    return ideal[:, keep], pooled, active[:, keep]


def predict(
    actors: Actors,
    *,
    disagreement: Literal["worst", "status_quo"] = "worst",
    utility: Literal["linear", "quadratic"] = "linear",
) -> tuple[np.ndarray, np.ndarray]:
    """The prediction and the agreement mask, as nash.predict computed them before the layout change."""
    active = actors.present & (actors.weights > 0)
    w = np.where(active, actors.weights, 0.0)
    ideal = np.where(active, actors.positions, 0.0)
    ideal, w, active = _pool_identical(ideal, w, active)
    batch = ideal.shape[0]
    sq = np.full(batch, np.nan) if actors.status_quo is None else actors.status_quo
    lo = np.where(active, ideal, np.inf).min(axis=1)
    hi = np.where(active, ideal, -np.inf).max(axis=1)
    lo = np.fmin(lo, sq)
    hi = np.fmax(hi, sq)
    use_sq = np.isfinite(sq) if disagreement == "status_quo" else np.zeros(batch, bool)
    far_end = np.where(np.abs(ideal - lo[:, None]) >= np.abs(ideal - hi[:, None]), lo[:, None], hi[:, None])
    d_point = np.where(use_sq[:, None], sq[:, None], far_end)
    # Each actor gains exactly on the open interval centred on its ideal with radius |d - x_i|.
    radius = np.abs(d_point - ideal)
    left = np.where(active, ideal - radius, -np.inf).max(axis=1)
    right = np.where(active, ideal + radius, np.inf).min(axis=1)
    agreement = right > left
    left, right = np.where(agreement, left, 0.0), np.where(agreement, right, 1.0)
    width = float(np.max(right - left, initial=0.0))
    if utility == "linear":
        at_kink, a, b = _linear_kinks(ideal, w, radius, active, left, right)
    else:
        at_kink, a, b = np.full(batch, np.nan), left, right
    smooth = np.isnan(at_kink)
    a, b = np.where(smooth, a, at_kink), np.where(smooth, b, at_kink)  # a kink is already exact
    x = _newton_root(a, b, ideal, w, radius, active, utility, tolerance=width * 2.0**-45)
    fallback = np.where(np.isfinite(sq), sq, np.nan)
    prediction = np.where(agreement, x, fallback)
    prediction = np.where(hi == lo, lo, prediction)  # everyone (and the status quo) agrees already
    return prediction, agreement
