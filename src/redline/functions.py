"""Domain functions that scenario expressions may call, registered with the expression language.

* ``breakout_days(swu_per_year, kg_1, assay_1_percent, ..., kg_4, assay_4_percent)`` — days to
  the first significant quantity (IAEA: 25 kg U-235 in HEU) from stocks at up to four assays
  and a fleet's separative capacity, computed with :func:`redline.nuclear.breakout_days`
  (separative-work physics, natural-uranium feed unlimited). Assays may vary across runs.
* ``swu_per_kg(product_percent, feed_percent, tails_percent)`` — separative work (kg-SWU) per kg
  of product, ``V(xp) + (F/P - 1) V(xt) - (F/P) V(xf)`` (Benedict, Pigford & Levi 1981, eq. 12.61),
  e.g. 4.5% from natural (0.711%) at 0.3% tails is about 6.23 SWU/kg.
* ``feed_per_kg(product_percent, feed_percent, tails_percent)`` — kg of feed per kg of product,
  ``(xp - xt) / (xf - xt)`` from the uranium and U-235 mass balances.

All take assays in percent and are vectorised over runs; invalid assay orderings give NaN.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from redline.errors import ExpressionError
from redline.expr import register_function
from redline.nuclear import breakout_days, feed_per_product, swu_per_product
from redline.spread import spread

__all__ = ["breakout_days_expr", "swu_per_kg_expr", "feed_per_kg_expr"]


def _check_assays(percent: np.ndarray) -> None:
    bad = ~((0.0 < percent) & (percent < 100.0))
    if bad.any():
        raise ExpressionError(f"breakout_days: assay {float(percent[bad][0]):g}% is outside (0, 100)")


def _flat(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` broadcast to ``shape``, raveled (a view when it already has that shape)."""
    return values.ravel() if values.shape == shape else np.broadcast_to(values, shape).ravel()


def _stocks(kg_columns: list[np.ndarray], percents) -> dict[float, np.ndarray]:
    """``{assay fraction: kg}`` for :func:`breakout_days`; stocks written at one assay are added,
    each counted as none where negative. A lone stock is passed as it is: breakout_days clamps
    it, and clamping once gives the same bits as clamping twice."""
    by_fraction: dict[float, list[np.ndarray]] = {}
    for kg, percent in zip(kg_columns, percents):
        by_fraction.setdefault(float(percent) / 100.0, []).append(kg)
    stocks: dict[float, np.ndarray] = {}
    for fraction, columns in by_fraction.items():
        if len(columns) == 1:
            stocks[fraction] = columns[0]
        else:
            stocks[fraction] = functools.reduce(np.add, (np.maximum(kg, spread(0.0, kg)) for kg in columns))
    return stocks


def breakout_days_expr(swu_per_year, *stock_args):
    """Vectorised ``breakout_days`` for expressions (see module docstring).

    Assays may differ between runs: the runs are grouped by their distinct assay sets and each
    group is computed with its own assays (the separative-work routes depend on them).
    """
    if len(stock_args) % 2:
        raise ExpressionError("breakout_days takes swu_per_year then (kg, assay_percent) pairs")
    rate = np.asarray(swu_per_year, dtype=float)
    rate = np.maximum(rate, spread(0.0, rate))  # the same bits as with the number 0.0, faster
    kgs = [np.asarray(kg, dtype=float) for kg in stock_args[0::2]]
    assays = [np.asarray(a, dtype=float) for a in stock_args[1::2]]
    shapes = {rate.shape, *(k.shape for k in kgs), *(a.shape for a in assays if a.ndim)}
    shape = shapes.pop() if len(shapes) == 1 else np.broadcast_shapes(*shapes)
    if not kgs:
        return breakout_days({}, rate)
    rate_b = _flat(rate, shape)
    kg_b = [_flat(k, shape) for k in kgs]
    if all(a.ndim == 0 for a in assays):
        # The usual case, assays written as numbers: one assay set for every run (no grouping).
        percents = [float(a) for a in assays]
        for percent in percents:  # as _check_assays, without an array
            if not 0.0 < percent < 100.0:
                raise ExpressionError(f"breakout_days: assay {percent:g}% is outside (0, 100)")
        days = breakout_days(_stocks(kg_b, percents), rate_b)
        return days if days.shape == shape else days.reshape(shape)
    table = np.stack([np.broadcast_to(a, shape).ravel() for a in assays], axis=1)  # (n, pairs)
    _check_assays(table)
    if (table == table[:1]).all():  # per-run arrays that happen to agree: np.unique sorts rows
        return breakout_days(_stocks(kg_b, table[0]), rate_b).reshape(shape)
    distinct, group = np.unique(table, axis=0, return_inverse=True)
    group = group.ravel()
    days = np.empty(int(np.prod(shape)))
    for g, row in enumerate(distinct):
        members = group == g
        days[members] = breakout_days(_stocks([kg[members] for kg in kg_b], row), rate_b[members])
    return days.reshape(shape)


def _breakout_days_scalar(swu_per_year, *stock_args) -> float:
    value = breakout_days_expr(np.array([swu_per_year]), *(np.array([a]) for a in stock_args))
    return float(np.asarray(value).ravel()[0]) if np.size(value) else math.inf


register_function("breakout_days", breakout_days_expr, _breakout_days_scalar, nargs=(3, 9),
                  doc="days to one IAEA significant quantity from (kg, assay %) stocks and SWU/year", fresh=True)


def _fractions(product_percent, feed_percent, tails_percent):
    xp, xf, xt = (np.asarray(a, dtype=float) / 100.0 for a in (product_percent, feed_percent, tails_percent))
    ok = (0.0 < xt) & (xt < xf) & (xf < xp) & (xp < 1.0)
    # Out-of-order assays have no physical meaning: give NaN rather than a negative amount.
    safe = [np.where(ok, x, d) for x, d in ((xp, 0.5), (xf, 0.1), (xt, 0.01))]
    return ok, safe


def swu_per_kg_expr(product_percent, feed_percent, tails_percent):
    """Vectorised kg-SWU per kg of product (see module docstring)."""
    ok, (xp, xf, xt) = _fractions(product_percent, feed_percent, tails_percent)
    return np.where(ok, swu_per_product(xp, xf, xt), np.nan)


def feed_per_kg_expr(product_percent, feed_percent, tails_percent):
    """Vectorised kg of feed per kg of product (see module docstring)."""
    ok, (xp, xf, xt) = _fractions(product_percent, feed_percent, tails_percent)
    return np.where(ok, feed_per_product(xp, xf, xt), np.nan)


def _scalar(fn):
    def scalar(*args) -> float:
        return float(np.asarray(fn(*(np.array([a], dtype=float) for a in args))).ravel()[0])

    return scalar


register_function("swu_per_kg", swu_per_kg_expr, _scalar(swu_per_kg_expr), nargs=(3, 3),
                  doc="kg-SWU per kg of product from (product %, feed %, tails %)", fresh=True)
register_function("feed_per_kg", feed_per_kg_expr, _scalar(feed_per_kg_expr), nargs=(3, 3),
                  doc="kg of feed per kg of product from (product %, feed %, tails %)", fresh=True)
