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

from redline import native
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
    if x.shape[0] == 1:
        return x[0].copy()
    out = ufunc(x[0], x[1])
    for row in x[2:]:
        ufunc(out, row, out=out)
    return out


_SIGN = np.uint64(1 << 63)  # the sign bit of a float64


def _bits(x):
    """A float64 array's bits (a view), for setting signs without a comparison and a ``where``."""
    return x.view(np.uint64)


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


def _linear_derivatives(x, ideal, radius, w, negative_w, scratch):
    """:func:`_derivatives` for linear utilities, every actor active and every entry finite,
    in fewer operations; ``None`` where ``x`` is some actor's ideal point in some row (a kink,
    where :func:`_derivatives` is left to say what the slope is). Away from a kink
    ``g_i' = -sign(x - x_i)`` is the sign of ``x_i - x`` (exactly the negated difference), so
    ``w_i g_i'`` is ``w_i`` with that sign, and ``w_i (0 g_i - g_i'^2) = -w_i`` for a finite
    ``g_i``: the same numbers, summed in the same order (``negative_w`` is ``-w``)."""
    gap, term = scratch[0], scratch[1]
    np.subtract(ideal, x, out=gap)
    if (gap == 0).any():
        return None
    np.bitwise_or(_bits(w), np.bitwise_and(_bits(gap), _SIGN, out=_bits(term)), out=_bits(term))  # copysign(w, gap): w > 0
    g = np.subtract(radius, np.abs(gap, out=gap), out=gap)
    f = _row_sum(np.divide(term, g, out=term))
    return f, _row_sum(np.divide(negative_w, np.square(g, out=g), out=term))


def _newton_root(a, b, ideal, w, radius, active, utility, tolerance, everywhere=False):
    """Root of the log-objective's derivative ``f(x) = sum_i w_i g_i'(x) / g_i(x)`` inside the
    brackets ``(a, b)`` where ``f`` is smooth and decreasing (the objective is concave): Newton
    steps, replaced by bisection whenever a step leaves the bracket (a safeguarded Newton method,
    Press et al. 2007, *Numerical Recipes* 3rd ed., section 9.4). A row stops as soon as its step
    falls below ``tolerance``. ``everywhere`` says that every actor is active in every row."""
    x = 0.5 * (a + b)
    rows = np.nonzero(b > a)[0]
    # The working set's tables are cut only once fewer than half its rows still move: rows are
    # independent, so a row that has stopped is carried along (its later steps are not kept).
    xr, ar, br = x[rows], a[rows], b[rows]
    idr, rr, wr = (np.take(t, rows, axis=1) for t in (ideal, radius, w))
    off = None if everywhere else ~np.take(active, rows, axis=1)
    if off is not None and not off.any():  # every actor active in every working row: nothing to leave out
        off = None
    if utility != "linear":
        rr = rr**2
    # linear utilities with finite tables: _linear_derivatives, the same numbers in fewer steps
    negative_w = -wr if utility == "linear" and off is None and np.isfinite(rr).all() and np.isfinite(wr).all() else None
    scratch = np.empty((3,) + idr.shape)
    moving = np.ones(rows.size, bool)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for _ in range(200):
            if not moving.any():
                break
            work = scratch[:, :, :rows.size]
            slopes = None if negative_w is None else _linear_derivatives(xr, idr, rr, wr, negative_w, work)
            f, fp = _derivatives(xr, idr, rr, wr, off, utility, work) if slopes is None else slopes
            new = xr - f / fp
            up = f > 0
            ar = np.where(up, xr, ar)
            br = np.where(up, br, xr)
            new = np.where((new >= ar) & (new <= br), new, 0.5 * (ar + br))
            step = np.abs(new - xr) > tolerance
            if moving.all():  # x is written when the first rows stop and at the end
                moving = step
                if not moving.all():
                    x[rows] = new
            else:
                x[rows[moving]] = new[moving]
                moving &= step
            xr = new
            if np.count_nonzero(moving) * 2 < rows.size:
                keep = np.flatnonzero(moving)
                rows, xr, ar, br, moving = rows[keep], xr[keep], ar[keep], br[keep], moving[keep]
                idr, rr, wr = idr[:, keep], rr[:, keep], wr[:, keep]
                off = None if off is None else off[:, keep]
                negative_w = None if negative_w is None else negative_w[:, keep]
        if moving.all():  # no row had stopped (or none was left): the last steps are the roots
            x[rows] = xr
    return x


def _one_sided(x, ideal, w, radius, from_left, weightless, out, negative_w=None, signed=None):
    """The log-objective's derivative just below (``from_left``) or just above ``x``, for
    piecewise-linear utilities: an actor whose ideal point is ``x`` counts as above it from the
    left and below it from the right. ``weightless`` marks ``w <= 0``; ``out`` (and ``signed``,
    if given) are scratch tables; ``negative_w`` is ``-w`` if the caller has it. Only the sum's
    sign is meant (the callers compare it with 0), so a term below ``x`` is ``-w / gap``, which
    is ``-(w / gap)`` up to the sign of a NaN."""
    d = np.subtract(ideal, x, out=out)
    signed = np.empty(d.shape) if signed is None else signed
    if from_left:  # below: d < 0, the sign bit of d + 0.0 (which turns -0.0 into 0.0)
        sign, flipped = np.add(d, 0.0, out=signed), w
    else:  # below: d <= 0, where the sign bit of 0.0 - d is clear; -w flipped back elsewhere
        sign, flipped = np.subtract(0.0, d, out=signed), -w if negative_w is None else negative_w
    np.bitwise_xor(_bits(flipped), np.bitwise_and(_bits(sign), _SIGN, out=_bits(signed)), out=_bits(signed))
    np.abs(d, out=d)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inv = np.divide(signed, np.subtract(radius, d, out=d), out=d)
    if weightless is not None:
        np.copyto(inv, 0.0, where=weightless)
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


def _linear_kinks(ideal, w, radius, active, left, right, scratch, everywhere=False):
    """For piecewise-linear utilities the optimum is either at an actor's ideal point (a kink,
    where the one-sided derivatives of the log-objective straddle zero) or inside the smooth
    segment between two consecutive kinks. The derivative decreases, so a binary search over the
    sorted ideal points finds which (O(actors log actors) per row). Returns the optimum where it
    is a kink, and the segment that holds it otherwise, as brackets ``(a, b)``: ``a == b`` at a
    kink. ``scratch`` is a table shaped like ``ideal``; ``everywhere`` says that every actor is
    active in every row."""
    batch = ideal.shape[1]
    inside = (ideal > left) & (ideal < right)
    if not everywhere:
        inside &= active
    count = _column_count(inside)
    # Only an actor inside in some row has a rank below ``count`` anywhere; the others' infinite
    # points would sort last, where no row looks (up to 6 actors, where the sort is the network).
    ranked = np.flatnonzero(inside.any(axis=1)) if ideal.shape[0] <= 6 else np.arange(ideal.shape[0])
    actors = ranked.size
    if actors == 0:
        return left, right
    points = np.empty((actors, batch))
    for row, j in zip(points, ranked):
        _where(row, inside[j], ideal[j], np.inf)
    points = _sort_columns(points, points == 0).ravel()
    at = np.arange(batch)  # ``points[r * batch + at]`` is each batch row's point of rank r
    weightless = None if everywhere else ~(w > 0)  # an active actor has a weight
    if weightless is not None and not weightless.any():
        weightless = None
    negative_w, signed = -w, np.empty(ideal.shape)
    lo, hi = np.zeros(batch, count.dtype), count.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) >> 1
        # every row is evaluated (rows are independent); closed rows' answers are not used
        x = points.take(np.minimum(mid, actors - 1) * batch + at)
        right_of_root = _one_sided(x, ideal, w, radius, False, weightless, scratch, negative_w, signed) <= 0
        hi = np.where(open_ & right_of_root, mid, hi)
        lo = np.where(open_ & ~right_of_root, mid + 1, lo)
    found = lo < count
    first = points.take(np.minimum(lo, actors - 1) * batch + at)
    everywhere_found = bool(found.all())
    candidate = first if everywhere_found else np.where(found, first, np.nan)
    missing = np.isnan(candidate)
    safe = np.where(missing, 0.5 * (left + right), candidate) if missing.any() else candidate
    kink = ~missing & (_one_sided(safe, ideal, w, radius, True, weightless, scratch, negative_w, signed) >= 0)
    b = first if everywhere_found else np.where(found, first, right)  # the candidate itself at a kink
    a = np.where(kink, candidate, np.where(lo > 0, points.take(np.maximum(lo - 1, 0) * batch + at), left))
    return a, b


def _column_count(table):
    """``table.sum(axis=0)`` for a boolean (actors, batch) table (as int64; byte-wise below 256
    actors, which is several times faster)."""
    if table.shape[0] >= 256:
        return table.sum(axis=0)
    return np.add.reduce(table.view(np.uint8), axis=0, dtype=np.uint8).astype(np.int64)


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
    actor, the rows of a table or a list; a row of one entry stands for that value in every batch
    row), in order: each joins the first earlier group whose first actor has the same ideal points
    and active rows."""
    if len(ideals) < 2 or ideals[0].shape[0] == 0:
        return [[j] for j in range(len(ideals))]
    groups: list[list[int]] = []
    for j, ideal in enumerate(ideals):
        for group in groups:
            k = group[0]
            # The first column rules most pairs out; only candidates are compared whole.
            if ideal[0] == ideals[k][0] and _equal(ideal, ideals[k]) and _equal(actives[j], actives[k]):
                group.append(j)
                break
        else:
            groups.append([j])
    return groups


def _equal(a, b) -> bool:
    """``np.array_equal`` for rows without NaN, a row of one entry standing for that value in
    every batch row: the same object is equal to itself without a look at its values."""
    return a is b or bool((a == b).all())


def _pooled_weights(weights, groups: list[list[int]], batch: int | None = None) -> np.ndarray:
    """One row per group of ``weights`` (one 1-D array per actor, the rows of a table or a
    list; a row of one entry stands for that value in every batch row): a lone actor's weights,
    or the group's weights summed as :func:`_row_sum` sums them: below 8 members one after the
    other from 0.0 (numbers stay one number until a member's row is added), from 8 on numpy's
    pairwise sum over whole rows."""
    pooled = np.empty((len(groups), weights[0].shape[0] if batch is None else batch))
    for row, g in zip(pooled, groups):
        if len(g) == 1:
            row[...] = weights[g[0]]
        elif len(g) < 8:
            total = np.add(0.0, weights[g[0]])
            for j in g[1:]:
                total = np.add(total, weights[j], out=total if total.shape >= weights[j].shape else None)
            row[...] = total
        else:
            row[...] = _row_sum(np.array([np.broadcast_to(weights[j], row.shape) for j in g]))
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
    everywhere = bool(active.all())  # every actor active in every row: no entry to mask
    # without a status quo: compiled, one row at a time (the same numbers), where a kernel is at hand
    brackets = native.nash_brackets(ideal, active, everywhere) if status_quo is None else None
    if brackets is None:
        brackets = _brackets(ideal, active, status_quo, disagreement, everywhere)
    radius, left, right, lo, hi = brackets
    agreement = right > left
    everyone_gains = bool(agreement.all())
    if not everyone_gains:
        left, right = np.where(agreement, left, 0.0), np.where(agreement, right, 1.0)
    width = float(np.max(right - left, initial=0.0))
    tolerance = width * 2.0**-45
    x = native.nash_linear_roots(ideal, w, radius, active, left, right, tolerance, everywhere) \
        if utility == "linear" else None
    if x is None:
        if utility == "linear":  # a kink is already exact: its bracket is (at_kink, at_kink)
            a, b = _linear_kinks(ideal, w, radius, active, left, right, np.empty(ideal.shape), everywhere)
        else:
            a, b = left, right
        x = _newton_root(a, b, ideal, w, radius, active, utility, tolerance=tolerance, everywhere=everywhere)
    if not everyone_gains:
        fallback = np.nan if status_quo is None else np.where(np.isfinite(status_quo), status_quo, np.nan)
        x = np.where(agreement, x, fallback)
    agreed = hi == lo
    if agreed.any():  # everyone (and the status quo) agrees already
        x = np.where(agreed, lo, x)
    return x, agreement


def _brackets(ideal, active, status_quo, disagreement, everywhere):
    """Each actor's radius of gain (a table) and each batch row's bracket ``(left, right)`` where
    every active actor gains, and the ends ``(lo, hi)`` of the issue's range: the active actors'
    extreme ideal points, widened to the status quo if known."""
    table, other = np.empty(ideal.shape), np.empty(ideal.shape)
    if everywhere:
        lo, hi = _row_extreme(ideal, np.minimum), _row_extreme(ideal, np.maximum)
    else:
        lo = _row_extreme(_where(table, active, ideal, np.inf), np.minimum)
        hi = _row_extreme(_where(table, active, ideal, -np.inf), np.maximum)
    if status_quo is not None:
        lo = np.fmin(lo, status_quo)
        hi = np.fmax(hi, status_quo)
    to_lo, to_hi = np.abs(np.subtract(ideal, lo, out=table), out=table), np.abs(np.subtract(ideal, hi, out=other), out=other)
    if disagreement == "status_quo" and status_quo is not None:
        d_point = np.where(to_lo >= to_hi, lo, hi)
        np.copyto(d_point, status_quo, where=np.isfinite(status_quo))
        # Each actor gains exactly on the open interval centred on its ideal with radius |d - x_i|.
        radius = np.abs(np.subtract(d_point, ideal, out=d_point), out=d_point)
    elif np.isfinite(lo).all() and np.isfinite(hi).all():  # the far end's distance, already at hand
        # (|x - y| = |y - x| exactly); no NaN among the distances, so the larger one is it
        radius = np.maximum(to_lo, to_hi, out=to_lo)
    else:
        radius = np.where(to_lo >= to_hi, to_lo, to_hi)
    if everywhere:
        left = _row_extreme(np.subtract(ideal, radius, out=other), np.maximum)
        right = _row_extreme(np.add(ideal, radius, out=other), np.minimum)
    else:
        left = _row_extreme(_where(other, active, np.subtract(ideal, radius, out=other), -np.inf), np.maximum)
        right = _row_extreme(_where(other, active, np.add(ideal, radius, out=other), np.inf), np.minimum)
    return radius, left, right, lo, hi


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
    batch: int | None = None,
) -> np.ndarray:
    """:func:`predict_tables` for one 1-D array per party (each over the same batch), with the
    parties that :func:`_pool_identical` would pool (the same ideal points and active rows in
    every batch row) pooled before any table is built: the tables hold one row per group
    instead of one per party. The groups, their order and their summed weights are those of
    :func:`_pool_identical`, so the prediction is the same to the bit. The same conditions on
    ``saliences`` and ``capabilities`` as for :func:`predict_tables`; a ``NaN`` weight goes to
    :func:`predict_tables` itself.

    A number the same in every batch row may come as an array of one entry if ``batch`` (the
    number of batch rows, at least 1) is given, or spread over the batch (stride 0): either way
    the preparation works on it once, not once per batch row."""
    _check_options(disagreement, utility)
    batch = positions[0].shape[0] if batch is None else batch
    products: dict[tuple[int, int], np.ndarray] = {}  # the same (salience, capability) pair: one product
    weights = []
    for s, c in zip(saliences, capabilities):
        w = products.get((id(s), id(c)))
        if w is None:
            w = products[id(s), id(c)] = np.multiply(_narrow(s), _narrow(c))
        weights.append(w)
    positive = {id(w): bool((w > 0).all()) for w in products.values()}  # then no NaN either
    if any(not positive[id(w)] and np.isnan(w).any() for w in products.values()):
        return predict_tables(*(np.array([np.broadcast_to(x, (batch,)) for x in rows], dtype=float).reshape(-1, batch)
                                for rows in (positions, saliences, capabilities)),
                              disagreement=disagreement, utility=utility)
    parties: dict[tuple[int, int], tuple] = {}  # the same (position, weight) pair: one ideal and active row
    ideals, actives = [], []
    for j, (position, w) in enumerate(zip(positions, weights)):
        held = parties.get((id(position), id(w)))
        if held is None:
            held = parties[id(position), id(w)] = _active_party(_narrow(position), w, positive[id(w)])
        ideals.append(held[0])
        actives.append(held[1])
        weights[j] = held[2]
    groups = _groups(ideals, actives)
    shape = (len(groups), batch)
    ideal, active = np.empty(shape), np.empty(shape, bool)
    for g, ideal_row, active_row in zip(groups, ideal, active):
        ideal_row[...], active_row[...] = ideals[g[0]], actives[g[0]]
    return _solve(ideal, _pooled_weights(weights, groups, batch), active, None, disagreement, utility)[0]


def _narrow(x):
    """A party's row as the solver's preparation takes it: a number spread over two or more batch
    rows (stride 0, as the simulation passes its constants) as one entry, which stands for it in
    every row (the operations are elementwise, so the numbers are the same), else the row."""
    x = np.asarray(x)
    return x[:1] if x.ndim == 1 and x.shape[0] > 1 and x.strides == (0,) else x


_EVERYWHERE = np.ones(1, bool)


def _active_party(position, w, positive: bool):
    """A party's ideal points, active rows and weights, as :func:`_active_tables` makes them: 0
    where the party holds no position or has no weight (``positive``: every weight is). A party
    active in every row keeps its arrays (nothing to set to 0) and is marked active by one entry."""
    nan = np.isnan(position)
    if positive and not nan.any():
        return position, _EVERYWHERE, w
    active = np.logical_not(nan) & (w > 0)
    off = ~active
    return np.where(off, 0.0, position), active, np.where(off, 0.0, w)
