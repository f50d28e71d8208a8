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

__all__ = ["predict", "predict_parties", "predict_tables"]


# The solver works on tables shaped (actors, batch): one contiguous row per actor, so that a sum,
# minimum or maximum over actors is a few whole-array operations (numpy's reduction over a short
# inner axis is slow). The helpers below give exactly the numbers numpy's reductions give on the
# (batch, actors) layout the models document, so every prediction is unchanged to the bit.


def _row_sum(x):
    """``x.T.sum(axis=1)`` for an (actors, batch) table, the same numbers: below 8 actors numpy
    adds a row's terms one after the other from 0.0, which actor-by-actor addition reproduces;
    from 8 on numpy sums pairwise, so the table is laid out as numpy would see it."""
    if x.shape[0] >= 8:
        return np.ascontiguousarray(x.T).sum(axis=1)
    if x.shape[0] == 0:
        return np.zeros(x.shape[1:])
    total = 0.0 + x[0]
    for row in x[1:]:
        np.add(total, row, out=total)
    return total


def _row_extreme(x, ufunc):
    """``ufunc.reduce(x.T, axis=1)`` for an (actors, batch) table and ``np.minimum`` or
    ``np.maximum``: actor by actor up to 8 actors (the same numbers, signed zeros included);
    beyond, as numpy does it on the (batch, actors) layout."""
    if not 1 <= x.shape[0] <= 8:
        return ufunc.reduce(np.ascontiguousarray(x.T), axis=1)
    out = x[0].copy()
    for row in x[1:]:
        ufunc(out, row, out=out)
    return out


def _derivatives(x, ideal, radius, w, off, utility, scratch):
    """The log-objective's derivative ``sum_i w_i g_i' / g_i`` at ``x`` (batch,) and its slope
    ``sum_i w_i (g_i'' g_i - g_i'^2) / g_i^2``, actors marked ``off`` left out; ``g_i`` is actor
    i's gain over its disagreement point (for quadratic utilities ``radius`` holds the squared
    radii). Written into three scratch tables shaped like ``ideal``, operation for operation as
    the formulas read, so the numbers are those of the plain expressions."""
    d, slope, term = scratch
    np.subtract(x, ideal, out=d)
    if utility == "linear":  # g = radius - |d|, g' = -sign(d), g'' = 0
        np.sign(d, out=slope)
        np.negative(slope, out=slope)
        g = np.subtract(radius, np.abs(d, out=d), out=d)
        curvature = 0.0
    else:  # g = radius**2 - d**2, g' = -2 d, g'' = -2
        np.multiply(-2.0, d, out=slope)
        g = np.subtract(radius, np.square(d, out=d), out=d)
        curvature = -2.0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        np.divide(np.multiply(w, slope, out=term), g, out=term)
        if off is not None:
            np.copyto(term, 0.0, where=off)
        f = _row_sum(term)
        np.multiply(curvature, g, out=term)
        np.subtract(term, np.square(slope, out=slope), out=term)
        np.multiply(w, term, out=term)
        np.divide(term, np.square(g, out=g), out=term)
        if off is not None:
            np.copyto(term, 0.0, where=off)
        return f, _row_sum(term)


def _newton_root(a, b, ideal, w, radius, active, utility, tolerance):
    """Root of the log-objective's derivative ``f(x) = sum_i w_i g_i'(x) / g_i(x)`` inside the
    brackets ``(a, b)`` where ``f`` is smooth and decreasing (the objective is concave): Newton
    steps, replaced by bisection whenever a step leaves the bracket (a safeguarded Newton method,
    Press et al. 2007, *Numerical Recipes* 3rd ed., section 9.4). A row stops as soon as its step
    falls below ``tolerance``."""
    x = 0.5 * (a + b)
    rows = np.nonzero(b > a)[0]
    # The working set's tables are cut only once fewer than half its rows still move: rows are
    # independent, so a row that has stopped is carried along (its later steps are not kept).
    xr, ar, br = x[rows], a[rows], b[rows]
    idr, rr, wr = (np.take(t, rows, axis=1, out=np.empty((t.shape[0], rows.size))) for t in (ideal, radius, w))
    off = ~np.take(active, rows, axis=1)
    if not off.any():  # every actor active in every working row: nothing to leave out
        off = None
    if utility != "linear":
        rr = rr**2
    scratch = np.empty((3,) + idr.shape)
    moving = np.ones(rows.size, bool)
    for _ in range(200):
        if not moving.any():
            break
        f, fp = _derivatives(xr, idr, rr, wr, off, utility, scratch[:, :, :rows.size])
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            new = xr - f / fp
            ar = np.where(f > 0, xr, ar)
            br = np.where(f > 0, br, xr)
            new = np.where((new >= ar) & (new <= br), new, 0.5 * (ar + br))
            step = np.abs(new - xr) > tolerance
        if moving.all():
            x[rows] = new
            moving = step
        else:
            x[rows[moving]] = new[moving]
            moving &= step
        xr = new
        if np.count_nonzero(moving) * 2 < rows.size:
            keep = np.flatnonzero(moving)
            rows, xr, ar, br, moving = rows[keep], xr[keep], ar[keep], br[keep], moving[keep]
            idr, rr, wr = idr[:, keep], rr[:, keep], wr[:, keep]
            off = None if off is None else off[:, keep]
    return x


def _one_sided(x, ideal, w, radius, from_left, weightless, out):
    """The log-objective's derivative just below (``from_left``) or just above ``x``, for
    piecewise-linear utilities: an actor whose ideal point is ``x`` counts as above it from the
    left and below it from the right. ``weightless`` marks ``w <= 0``; ``out`` is a scratch table."""
    d = np.subtract(ideal, x, out=out)
    below = d < 0 if from_left else d <= 0
    np.abs(d, out=d)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inv = np.divide(w, np.subtract(radius, d, out=d), out=d)
    if weightless is not None:
        np.copyto(inv, 0.0, where=weightless)
    np.negative(inv, out=inv, where=below)
    return _row_sum(inv)


def _sort_columns(table, zero):
    """``np.sort(table, axis=0)`` for an (actors, batch) table without NaN; ``zero`` marks the
    entries that are 0.0 or -0.0. Up to 6 actors an odd-even transposition network of minima and
    maxima (Knuth, *The Art of Computer Programming* vol. 3, section 5.3.4) sorts every column at
    once; it may order 0.0 and -0.0 otherwise than numpy's sort, so a table with both signs in one
    column goes to numpy."""
    actors = table.shape[0]
    if actors > 6 or (zero.any() and (np.signbit(table) & zero).any(axis=0)[(~np.signbit(table) & zero).any(axis=0)].any()):
        return np.sort(table, axis=0)
    spare = np.empty(table.shape[1:])
    for turn in range(actors):
        for i in range(turn % 2, actors - 1, 2):
            np.minimum(table[i], table[i + 1], out=spare)
            np.maximum(table[i], table[i + 1], out=table[i + 1])
            table[i] = spare
    return table


def _linear_kinks(ideal, w, radius, active, left, right, scratch):
    """For piecewise-linear utilities the optimum is either at an actor's ideal point (a kink,
    where the one-sided derivatives of the log-objective straddle zero) or inside the smooth
    segment between two consecutive kinks. The derivative decreases, so a binary search over the
    sorted ideal points finds which (O(actors log actors) per row). Returns the optimum where it
    is a kink (else NaN) and the segment ``(a, b)`` that holds it otherwise. ``scratch`` is a
    table shaped like ``ideal``."""
    actors, batch = ideal.shape
    inside = active & (ideal > left) & (ideal < right)
    points = _sort_columns(_where(np.empty(ideal.shape), inside, ideal, np.inf), inside & (ideal == 0)).ravel()
    count = inside.sum(axis=0)
    at = np.arange(batch)  # ``points[r * batch + at]`` is each batch row's point of rank r
    weightless = ~(w > 0)
    if not weightless.any():
        weightless = None
    lo, hi = np.zeros_like(count), count.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        # every row is evaluated (rows are independent); closed rows' answers are not used
        x = points[np.minimum(mid, actors - 1) * batch + at]
        right_of_root = _one_sided(x, ideal, w, radius, False, weightless, scratch) <= 0
        hi = np.where(open_ & right_of_root, mid, hi)
        lo = np.where(open_ & ~right_of_root, mid + 1, lo)
    first = np.minimum(lo, actors - 1)
    candidate = np.where(lo < count, points[first * batch + at], np.nan)
    safe = np.where(np.isnan(candidate), 0.5 * (left + right), candidate)
    kink = ~np.isnan(candidate) & (_one_sided(safe, ideal, w, radius, True, weightless, scratch) >= 0)
    at_kink = np.where(kink, candidate, np.nan)
    a = np.where(lo > 0, points[np.maximum(lo - 1, 0) * batch + at], left)
    b = np.where(lo < count, points[first * batch + at], right)
    return at_kink, a, b


def _pool_identical(ideal, w, active):
    """Actors at the same ideal point in every row (and active in the same rows) act as one
    actor with their summed weight: equal ideal points give equal disagreement points and
    gains, and ``w_1 log g + w_2 log g = (w_1 + w_2) log g``, so the solution is unchanged
    (up to rounding). Blocs that share a position formula cost the solver one row."""
    groups = _groups(ideal, active)
    if len(groups) == ideal.shape[0]:
        return ideal, w, active
    keep = [g[0] for g in groups]
    return ideal[keep], _pooled_weights(w, groups), active[keep]


def _groups(ideals, actives) -> list[list[int]]:
    """The actors :func:`_pool_identical` pools (``ideals``, ``actives``: one 1-D array per
    actor, the rows of a table or a list), in order: each joins the first earlier group whose
    first actor has the same ideal points and active rows."""
    if len(ideals) < 2 or ideals[0].shape[0] == 0:
        return [[j] for j in range(len(ideals))]
    groups: list[list[int]] = []
    for j, ideal in enumerate(ideals):
        for group in groups:
            k = group[0]
            # The first column rules most pairs out; only candidates are compared whole.
            if ideal[0] == ideals[k][0] and np.array_equal(ideal, ideals[k]) and np.array_equal(actives[j], actives[k]):
                group.append(j)
                break
        else:
            groups.append([j])
    return groups


def _pooled_weights(weights, groups: list[list[int]]) -> np.ndarray:
    """One row per group of ``weights`` (one 1-D array per actor, the rows of a table or a
    list): a lone actor's weights, or the group's weights summed (:func:`_row_sum`)."""
    pooled = np.empty((len(groups), weights[0].shape[0]))
    for row, g in zip(pooled, groups):
        row[...] = weights[g[0]] if len(g) == 1 else _row_sum(np.array([weights[j] for j in g]))
    return pooled


def _where(out, condition, x, y):
    """``np.where(condition, x, y)`` written into ``out`` (the same numbers; numpy's ``where``
    with a broadcast operand is several times slower than two masked copies)."""
    np.copyto(out, x)
    np.copyto(out, y, where=~condition)
    return out


def _active_tables(positions, weights, active):
    """Ideal points and weights with 0 where ``active`` is false (``weights`` is overwritten)."""
    off = ~active
    ideal = positions.copy()
    np.copyto(ideal, 0.0, where=off)
    np.copyto(weights, 0.0, where=off)
    return ideal, weights, active


def _solve(ideal, w, active, status_quo, disagreement, utility):
    """The Nash bargaining solution per batch row from (actors, batch) tables of ideal points
    and weights (both 0 where ``active`` is false); returns the prediction and the agreement mask."""
    ideal, w, active = _pool_identical(ideal, w, active)
    batch = ideal.shape[1]
    table, other = np.empty(ideal.shape), np.empty(ideal.shape)
    lo = _row_extreme(_where(table, active, ideal, np.inf), np.minimum)
    hi = _row_extreme(_where(table, active, ideal, -np.inf), np.maximum)
    if status_quo is None:
        sq = np.full(batch, np.nan)
    else:
        sq = status_quo
        lo = np.fmin(lo, sq)
        hi = np.fmax(hi, sq)
    lo_is_far = np.abs(np.subtract(ideal, lo, out=table), out=table) >= np.abs(np.subtract(ideal, hi, out=other), out=other)
    d_point = _where(table, lo_is_far, lo, hi)
    if disagreement == "status_quo" and status_quo is not None:
        np.copyto(d_point, sq, where=np.isfinite(sq))
    # Each actor gains exactly on the open interval centred on its ideal with radius |d - x_i|.
    radius = np.abs(np.subtract(d_point, ideal, out=table), out=table)
    left = _row_extreme(_where(other, active, np.subtract(ideal, radius, out=other), -np.inf), np.maximum)
    right = _row_extreme(_where(other, active, np.add(ideal, radius, out=other), np.inf), np.minimum)
    agreement = right > left
    left, right = np.where(agreement, left, 0.0), np.where(agreement, right, 1.0)
    width = float(np.max(right - left, initial=0.0))
    if utility == "linear":
        at_kink, a, b = _linear_kinks(ideal, w, radius, active, left, right, other)
    else:
        at_kink, a, b = np.full(batch, np.nan), left, right
    smooth = np.isnan(at_kink)
    a, b = np.where(smooth, a, at_kink), np.where(smooth, b, at_kink)  # a kink is already exact
    x = _newton_root(a, b, ideal, w, radius, active, utility, tolerance=width * 2.0**-45)
    fallback = np.where(np.isfinite(sq), sq, np.nan)
    prediction = np.where(agreement, x, fallback)
    prediction = np.where(hi == lo, lo, prediction)  # everyone (and the status quo) agrees already
    return prediction, agreement


def _check_options(disagreement, utility):
    if disagreement not in ("worst", "status_quo"):
        raise BargainingError(f"disagreement must be 'worst' or 'status_quo', got '{disagreement}'")
    if utility not in ("linear", "quadratic"):
        raise BargainingError(f"utility must be 'linear' or 'quadratic', got '{utility}'")


def predict(
    actors: Actors,
    *,
    disagreement: Literal["worst", "status_quo"] = "worst",
    utility: Literal["linear", "quadratic"] = "linear",
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

    Returns
    -------
    BargainingResult
        ``prediction`` (batch,); ``diagnostics["agreement"]`` marks rows where some point makes
        every weighted actor better off.
    """
    _check_options(disagreement, utility)
    weights = actors.weights
    active = actors.present & (weights > 0)
    tables = _active_tables(np.ascontiguousarray(actors.positions.T), np.ascontiguousarray(weights.T),
                            np.ascontiguousarray(active.T))
    prediction, agreement = _solve(*tables, actors.status_quo, disagreement, utility)
    return BargainingResult("nash_bargaining", prediction,
                            params=dict(disagreement=disagreement, utility=utility),
                            diagnostics={"agreement": agreement})


def predict_tables(
    positions: np.ndarray,
    saliences: np.ndarray,
    capabilities: np.ndarray,
    *,
    disagreement: Literal["worst", "status_quo"] = "worst",
    utility: Literal["linear", "quadratic"] = "linear",
) -> np.ndarray:
    """:func:`predict`'s ``prediction`` for tables laid out (actors, batch), with no status quo.

    For a caller that holds one row per actor (e.g. the simulation, one value per run): it
    spares the (batch, actors) copies and the :class:`Actors` range checks, so ``saliences``
    must already lie in [0, 1] (or be ``NaN``) and ``capabilities`` be non-negative (or
    ``NaN``). A ``NaN`` salience or capability is left to :meth:`Actors.from_arrays`, which
    refuses it where the actor holds a position, as for any caller.
    """
    _check_options(disagreement, utility)
    w = np.multiply(saliences, capabilities)
    if np.isnan(w).any():
        actors = Actors.from_arrays(positions.T, saliences.T, capabilities.T)
        return predict(actors, disagreement=disagreement, utility=utility).prediction
    active = np.isnan(positions)
    np.logical_not(active, out=active)
    active &= w > 0
    return _solve(*_active_tables(positions, w, active), None, disagreement, utility)[0]


def predict_parties(
    positions: list[np.ndarray],
    saliences: list[np.ndarray],
    capabilities: list[np.ndarray],
    *,
    disagreement: Literal["worst", "status_quo"] = "worst",
    utility: Literal["linear", "quadratic"] = "linear",
) -> np.ndarray:
    """:func:`predict_tables` for one 1-D array per party (each over the same batch), with the
    parties that :func:`_pool_identical` would pool (the same ideal points and active rows in
    every batch row) pooled before any table is built: the tables hold one row per group
    instead of one per party. The groups, their order and their summed weights are those of
    :func:`_pool_identical`, so the prediction is the same to the bit. The same conditions on
    ``saliences`` and ``capabilities`` as for :func:`predict_tables`; a ``NaN`` weight goes to
    :func:`predict_tables` itself."""
    _check_options(disagreement, utility)
    weights = [np.multiply(s, c) for s, c in zip(saliences, capabilities)]
    if any(np.isnan(w).any() for w in weights):
        return predict_tables(np.array(positions, dtype=float), np.array(saliences, dtype=float),
                              np.array(capabilities, dtype=float), disagreement=disagreement, utility=utility)
    ideals, actives = [], []
    for position, w in zip(positions, weights):  # as _active_tables, one party at a time
        active = np.isnan(position)
        np.logical_not(active, out=active)
        active &= w > 0
        off = ~active
        ideal = np.array(position, dtype=float)
        np.copyto(ideal, 0.0, where=off)
        np.copyto(w, 0.0, where=off)
        ideals.append(ideal)
        actives.append(active)
    groups = _groups(ideals, actives)
    shape = (len(groups), positions[0].shape[0])
    pooled = _pooled_weights(weights, groups)
    ideal = np.array([ideals[g[0]] for g in groups], dtype=float).reshape(shape)
    active = np.array([actives[g[0]] for g in groups], dtype=bool).reshape(shape)
    return _solve(ideal, pooled, active, None, disagreement, utility)[0]
