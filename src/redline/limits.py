"""Limits on what one simulation may ask for — the single place they are written.

The library's checks (scenario schema, engine, experiments, forecasts) and the interfaces'
option bounds (CLI ``--runs``/``--horizon``, the web app's fields) all read these names.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from redline.errors import ParameterError

__all__ = ["MAX_HORIZON", "MAX_RUNS", "MAX_WEB_RUNS", "MAX_ROBUSTNESS_POINTS", "check_horizon", "check_runs",
           "check_points"]

MAX_HORIZON = 1040
"""Weeks one run may simulate (20 years): the scenario's ``horizon`` and every override."""

MAX_RUNS = 2_000_000
"""Runs one simulation may ask for (memory is bounded by the engine's blocks, time is not)."""

MAX_WEB_RUNS = 50_000
"""Runs one request of the local web app may ask for: a job runs in a worker thread of a server
shared by every browser session, and keeps fan-chart trajectories; the CLI allows :data:`MAX_RUNS`."""

MAX_ROBUSTNESS_POINTS = 10_000
"""Points of the uncertainty space one robustness check may sample (each runs a paired comparison)."""


def check_runs(runs: Any, *, low: int = 1) -> int:
    """``runs`` as an int if it is a whole number in ``low..MAX_RUNS`` (numpy integers included)."""
    if isinstance(runs, (bool, np.bool_)) or not isinstance(runs, (int, np.integer)) or not low <= runs <= MAX_RUNS:
        raise ParameterError(f"runs must be a whole number in {low:,}..{MAX_RUNS:,}, got {runs!r}")
    return int(runs)


def check_horizon(horizon: Any) -> int:
    """``horizon`` as an int if it is in ``1..MAX_HORIZON`` weeks."""
    horizon = int(horizon)
    if not 1 <= horizon <= MAX_HORIZON:
        raise ParameterError(f"horizon {horizon} is outside 1..{MAX_HORIZON} weeks")
    return horizon


def check_points(points: Any) -> int:
    """``points`` as an int if it is a whole number in ``1..MAX_ROBUSTNESS_POINTS``."""
    if isinstance(points, (bool, np.bool_)) or not isinstance(points, (int, np.integer)) \
            or not 1 <= points <= MAX_ROBUSTNESS_POINTS:
        raise ParameterError(f"robustness points must be a whole number in 1..{MAX_ROBUSTNESS_POINTS:,}, got {points!r}")
    return int(points)
