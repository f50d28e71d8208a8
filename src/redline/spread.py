"""A number as an array of it, for numpy's ``maximum`` and ``minimum`` (issue [speed]).

numpy 2's ``maximum``/``minimum`` compare two contiguous float arrays with SIMD instructions but
an array and a number one element at a time: about four times slower on 10,000 values, with the
same results bit for bit (NaN, ±0, infinities and denormals included; the tests compare them).
So the engine, the expression language and the nuclear model hand them the number spread into
a read-only array of the other operand's length, shared per value.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SPREAD_FROM", "spread"]

SPREAD_FROM = 64
"""From this many values up, :func:`spread` gives a number as an array (below, the number's
own loop costs less than finding the array)."""

_spreads: dict[str, np.ndarray] = {}  # float.hex(value) -> read-only array of it (grown on demand)


def spread(value, like):
    """``value`` (a float) as a read-only array of ``like``'s length when ``like`` is a 1-D float64
    array of at least :data:`SPREAD_FROM` values, else ``value`` itself. Arrays are kept per
    value (its bits: ``-0.0`` is not ``0.0``) and shared, so the caller must never write them."""
    if not (type(like) is np.ndarray and like.ndim == 1 and like.shape[0] >= SPREAD_FROM
            and like.dtype == np.float64 and type(value) in (float, np.float64)):
        return value
    n = like.shape[0]
    key = float(value).hex()
    values = _spreads.get(key)
    if values is None or values.shape[0] < n:
        values = np.full(n, value)
        values.setflags(write=False)
        _spreads[key] = values
    return values[:n]
