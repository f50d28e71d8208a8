"""Domain functions that scenario expressions may call, registered with the expression language.

* ``breakout_days(swu_per_year, kg_1, assay_1_percent, ..., kg_4, assay_4_percent)`` — days to
  the first significant quantity (IAEA: 25 kg U-235 in HEU) from stocks at up to four assays
  and a fleet's separative capacity, computed with :func:`redline.nuclear.breakout_days`
  (separative-work physics, natural-uranium feed unlimited). Assays must not vary across runs.
"""
from __future__ import annotations

import math

import numpy as np

from redline.errors import ExpressionError
from redline.expr import register_function

__all__ = ["breakout_days_expr"]


def _stocks(args) -> dict[float, np.ndarray]:
    stocks: dict[float, np.ndarray] = {}
    for kg, assay in zip(args[0::2], args[1::2]):
        percent = float(np.asarray(assay, dtype=float).flat[0])
        if not 0.0 < percent < 100.0:
            raise ExpressionError(f"breakout_days: assay {percent:g}% is outside (0, 100)")
        fraction = percent / 100.0
        mass = np.maximum(np.asarray(kg, dtype=float), 0.0)
        stocks[fraction] = stocks.get(fraction, 0.0) + mass
    return stocks


def breakout_days_expr(swu_per_year, *stock_args):
    """Vectorised ``breakout_days`` for expressions (see module docstring)."""
    from redline.nuclear import breakout_days

    if len(stock_args) % 2:
        raise ExpressionError("breakout_days takes swu_per_year then (kg, assay_percent) pairs")
    return breakout_days(_stocks(stock_args), np.maximum(np.asarray(swu_per_year, dtype=float), 0.0))


def _breakout_days_scalar(swu_per_year, *stock_args) -> float:
    value = breakout_days_expr(np.array([swu_per_year]), *(np.array([a]) for a in stock_args))
    return float(np.asarray(value).ravel()[0]) if np.size(value) else math.inf


register_function("breakout_days", breakout_days_expr, _breakout_days_scalar, nargs=(3, 9),
                  doc="days to one IAEA significant quantity from (kg, assay %) stocks and SWU/year")
