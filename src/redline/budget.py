"""Memory budget: every resource that grows with the input is sized before it is allocated.

A request whose estimate exceeds the budget is a :class:`~redline.errors.ResourceError` (the CLI
exits 2 with one line) that says how much it would need, so that a small file cannot ask for
gigabytes (window buffers, trajectories, experiment designs, decision options, graph layouts).

The budget is ``$REDLINE_MEMORY_BUDGET`` (bytes, or a number with K/M/G/T), else half of the
machine's physical memory (at least 256 MiB).
"""
from __future__ import annotations

import os

from redline.errors import ResourceError

__all__ = ["BUDGET_ENV", "MAX_SEED", "check_seed", "memory_budget", "check_memory", "format_bytes"]

MAX_SEED = 2**63 - 1
"""Largest seed: seeds are stored as 64-bit signed integers (netCDF attributes, DuckDB)."""


def check_seed(seed, option: str = "seed") -> int:
    """``seed`` as an int if it is a whole number in 0..MAX_SEED."""
    import numpy as np

    from redline.errors import ParameterError

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(f"{option} must be a whole number in 0..2^63-1 ({MAX_SEED}), got {seed!r}")
    return int(seed)

BUDGET_ENV = "REDLINE_MEMORY_BUDGET"
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def memory_budget() -> int:
    """The memory budget in bytes (see the module docstring)."""
    text = os.environ.get(BUDGET_ENV, "").strip().upper().removesuffix("IB").removesuffix("B")
    if text:
        unit = text[-1] if text[-1] in _UNITS else ""
        number = text[: -1] if unit else text
        try:
            value = float(number) * _UNITS[unit]
        except ValueError:
            raise ResourceError(f"${BUDGET_ENV}={os.environ[BUDGET_ENV]!r} is not a size (e.g. 2G, 512M)") from None
        if not value > 0:
            raise ResourceError(f"${BUDGET_ENV} must be positive, got {os.environ[BUDGET_ENV]!r}")
        return int(value)
    return max(_physical_memory() // 2, 256 << 20)


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style text for a byte count."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_memory(parts: dict[str, float], what: str, advice: str = "") -> int:
    """Raise :class:`ResourceError` if the sum of ``parts`` (name -> bytes) exceeds the budget.

    Returns the total in bytes. The message names the total, the largest parts and the budget.
    """
    total = int(sum(parts.values()))
    budget = memory_budget()
    if total > budget:
        largest = sorted(((v, k) for k, v in parts.items() if v), reverse=True)[:3]
        detail = ", ".join(f"{k} {format_bytes(v)}" for v, k in largest)
        raise ResourceError(
            f"{what} would need about {format_bytes(total)} of memory ({detail}), more than the budget of "
            f"{format_bytes(budget)} (${BUDGET_ENV})" + (f"; {advice}" if advice else ""))
    return total
