"""Summaries of simulation results: outcome probabilities with intervals, state quantiles,
paired strategy differences, cumulative incidence over weeks."""
from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

from redline.errors import SimulationError

__all__ = [
    "wilson_interval",
    "check_failures",
    "paired_difference",
    "summarize",
    "outcome_summary",
    "state_summary",
    "regime_summary",
    "red_line_summary",
    "action_summary",
    "clipped_probabilities",
    "frozen_runs",
    "cumulative_incidence",
    "Z95",
]

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927, JASA 22(158), doi:10.2307/2276774)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def paired_difference(a: np.ndarray, b: np.ndarray, z: float = Z95) -> tuple[float, tuple[float, float]]:
    """Mean of ``a - b`` over paired runs (common random numbers) with a normal 95% interval.

    Pairing removes the variance the two arms share, which is what makes common random numbers
    pay (Law & Kelton, Simulation Modeling and Analysis, ch. 11). Identical arms give exactly
    zero with a zero-width interval.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    mean = float(d.mean()) if n else 0.0
    if n < 2:
        return mean, (mean, mean)
    sd = float(d.std(ddof=1))
    half = z * sd / math.sqrt(n)
    return mean, (mean - half, mean + half)


def check_failures(ds: xr.Dataset) -> str | None:
    """The result's failure line (how many runs went non-finite, where), or None if none did.

    Raises
    ------
    SimulationError
        when every run failed: there is no probability to report.
    """
    failed = ds["failed"].values
    if not failed.any():
        return None
    message = ds.attrs.get("failure") or f"{int(failed.sum())} of {failed.size} run(s) failed"
    if failed.all():
        raise SimulationError(f"every run failed, so there is no probability to report: {message}")
    return message


def _incidence(weeks: np.ndarray, n: int, *, probability: str = "probability",
               median: str = "median_week") -> tuple[int, dict]:
    """How many of ``n`` runs saw an event (its week is not NaN), and the block that reports it:
    the share with its Wilson ``ci95`` and the median week among the runs that saw it."""
    happened = ~np.isnan(weeks)
    k = int(happened.sum())
    lo, hi = wilson_interval(k, n)
    return k, {probability: k / n if n else float("nan"), "ci95": [lo, hi],
               median: float(np.median(weeks[happened])) if k else None}


def outcome_summary(ds: xr.Dataset) -> dict[str, dict]:
    """Per outcome: ``probability``, ``ci95`` (Wilson), ``median_week`` (among runs where it happened).

    Probabilities are over the runs that finished; ``runs`` counts those and ``failed_runs`` the
    runs whose state went non-finite (shown wherever the probability is). Every run failing is a
    :class:`~redline.errors.SimulationError` naming the expression.
    """
    check_failures(ds)
    ok = ~ds["failed"].values
    n = int(ok.sum())
    n_failed = int(ok.size - n)
    dated = json.loads(ds.attrs.get("outcome_on_weeks", "{}"))
    stopped = ds["stopped_week"].values[ok]
    result = {}
    horizon = int(ds.attrs.get("horizon", 0)) or None
    for name in ds["outcome"].values.tolist():
        if name in dated and horizon is not None and dated[name] > horizon:
            # dated past this run's horizon: never checked, so no probability (not a silent 0)
            continue
        k, block = _incidence(ds["outcome_week"].sel(outcome=name).values[ok], n)
        result[name] = {**block, "count": k, "runs": n, "failed_runs": n_failed}
        if name in dated:
            # A dated outcome (e.g. an election) cannot happen in runs that ended before its week;
            # say how many, and the probability among runs that reached it.
            cut = int(np.count_nonzero(stopped < dated[name]))
            reached = n - cut
            result[name]["week"] = dated[name]
            result[name]["runs_ended_before"] = cut
            result[name]["probability_if_reached"] = k / reached if reached else None
    return result


def regime_summary(ds: xr.Dataset) -> dict[str, dict]:
    """Per regime: ``probability_entered`` (Wilson ``ci95``; a regime in force at the start counts
    as entered in week 0), ``median_first_week`` among runs that entered it, and ``share_of_weeks``
    (weeks in force over weeks simulated, pooled over runs)."""
    if "regime" not in ds.coords:
        return {}
    ok = ~ds["failed"].values
    n = int(ok.sum())
    horizon = int(ds.attrs["horizon"])
    stopped = ds["stopped_week"].values[ok]
    simulated = np.where(np.isnan(stopped), horizon, stopped)
    result = {}
    for name in ds["regime"].values.tolist():
        _, block = _incidence(ds["regime_week"].sel(regime=name).values[ok], n,
                              probability="probability_entered", median="median_first_week")
        weeks = ds["regime_weeks"].sel(regime=name).values[ok]
        result[name] = {**block, "share_of_weeks": float(weeks.sum() / simulated.sum()) if n else None}
    return result


def red_line_summary(ds: xr.Dataset) -> dict[str, dict]:
    """Per red line: the share of runs in which it ``fired`` (its condition held while it could
    fire) with a Wilson ``ci95``, the share in which it was ``enforced`` (its owner carried out a
    response at least once), and ``mean_firings`` per run (above ``fired`` for a red line that may
    fire again)."""
    if "red_line" not in ds.coords or ds.sizes.get("red_line", 0) == 0:
        return {}
    ok = ~ds["failed"].values
    n = int(ok.sum())
    result = {}
    for name in ds["red_line"].values.tolist():
        fired = ~np.isnan(ds["red_line_week"].sel(red_line=name).values[ok])
        enforced = ds["red_line_enforced"].sel(red_line=name).values[ok]
        k, e = int(fired.sum()), int(enforced.sum())
        entry = {
            "fired": k / n if n else float("nan"),
            "fired_ci95": list(wilson_interval(k, n)),
            "enforced": e / n if n else float("nan"),
            "enforced_ci95": list(wilson_interval(e, n)),
            "median_first_week": float(np.median(ds["red_line_week"].sel(red_line=name).values[ok][fired])) if k else None,
        }
        if "red_line_firings" in ds:
            entry["mean_firings"] = float(ds["red_line_firings"].sel(red_line=name).values[ok].mean()) if n else None
        result[name] = entry
    return result


def action_summary(ds: xr.Dataset) -> dict[str, dict]:
    """Per action (and per level of a graded action, as ``action.level``): ``mean_count`` (times
    taken per run, by its actor's policy, an event or a red line) and ``share_taken`` (runs in
    which it was taken at least once)."""
    ok = ~ds["failed"].values
    n = int(ok.sum())
    result = {}
    for var, dim in (("action_count", "action"), ("option_count", "option")):
        if var not in ds:
            continue
        counts = ds[var].values[:, ok]
        for i, name in enumerate(ds[dim].values.tolist()):
            c = counts[i]
            result[name] = {"mean_count": float(c.mean()) if n else None,
                            "share_taken": float(np.count_nonzero(c) / n) if n else None}
    return result


def clipped_probabilities(ds: xr.Dataset) -> dict[str, int]:
    """Run-weeks in which a probability expression's value left [0, 1] and was clipped, by the
    expression's site (e.g. ``strategies.loud.policy.probabilities.strike``)."""
    return {k: int(v) for k, v in json.loads(ds.attrs.get("clipped_probabilities", "{}")).items()}


def frozen_runs(ds: xr.Dataset) -> int:
    """Runs that an absorbing outcome ended before the horizon (their state froze there)."""
    stopped = ds["stopped_week"].values
    return int(np.count_nonzero(~np.isnan(stopped) & ~ds["failed"].values & (stopped < int(ds.attrs["horizon"]))))


def state_summary(ds: xr.Dataset) -> dict[str, dict]:
    """Per state variable at the end of each run: ``mean``, ``p05``, ``p95``."""
    ok = ~ds["failed"].values
    values = ds["final_state"].values[:, ok]
    result = {}
    for i, name in enumerate(ds["variable"].values.tolist()):
        v = values[i]
        if v.size == 0:
            result[name] = {"mean": None, "p05": None, "p95": None}
            continue
        p05, p95 = np.percentile(v, [5, 95])
        result[name] = {"mean": float(v.mean()), "p05": float(p05), "p95": float(p95)}
    return result


def summarize(ds: xr.Dataset) -> dict:
    """The ``run --json`` payload for one result Dataset."""
    attrs = ds.attrs
    return {
        "scenario": attrs["scenario"],
        "scenario_sha256": attrs["scenario_sha256"],
        "version": attrs["version"],
        "engine": attrs["engine"],
        "runs": int(attrs["runs"]),
        "failed_runs": int(ds["failed"].values.sum()),
        "failure": check_failures(ds),
        "horizon": int(attrs["horizon"]),
        "seed": attrs["seed"],
        "spawn_key": json.loads(attrs["spawn_key"]),
        "strategies": json.loads(attrs["strategies"]),
        "policies": json.loads(attrs["policies"]),
        "params": json.loads(attrs["params"]),
        "frozen_runs": frozen_runs(ds),
        "outcomes": outcome_summary(ds),
        "outcomes_beyond_horizon": sorted(name for name, week in json.loads(attrs.get("outcome_on_weeks", "{}")).items()
                                          if week > int(attrs["horizon"])),
        "regimes": regime_summary(ds),
        "red_lines": red_line_summary(ds),
        "actions": action_summary(ds),
        "clipped_probabilities": clipped_probabilities(ds),
        "final_state": state_summary(ds),
        "elapsed_s": float(attrs["wall_time_s"]),
    }


def cumulative_incidence(ds: xr.Dataset) -> xr.DataArray:
    """P(outcome has happened by week w), for w = 1..horizon, as an (outcome, week) DataArray."""
    horizon = int(ds.attrs["horizon"])
    ok = ~ds["failed"].values
    n = max(int(ok.sum()), 1)
    weeks = ds["outcome_week"].values[:, ok]
    rows = []
    for row in weeks:
        hit = row[~np.isnan(row)].astype(int)
        counts = np.bincount(hit, minlength=horizon + 1)[1 : horizon + 1]
        rows.append(np.cumsum(counts) / n)
    data = np.array(rows).reshape(len(rows), horizon)
    return xr.DataArray(data, dims=("outcome", "week"),
                        coords={"outcome": ds["outcome"].values, "week": np.arange(1, horizon + 1)},
                        name="cumulative_probability")
