"""Simulate a scenario, and compare an actor's strategies under common random numbers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xarray as xr

from redline import escalation
from redline.calibrate.posterior import Posterior, posterior_params
from redline.errors import ParameterError, did_you_mean
from redline.escalation.common import SeedLike
from redline.results.summary import (action_summary, check_failures, clipped_probabilities, outcome_summary,
                                     paired_difference, red_line_summary)
from redline.scenario import LoadedScenario, load_scenario

__all__ = ["Comparison", "simulate", "compare"]


@dataclass
class Comparison:
    """The result of :func:`compare`: per-strategy outcome blocks, paired differences, and the runs.

    ``summary()`` is everything but the Datasets (what ``compare --json`` prints and, with
    ``kind: compare``, a result directory's ``summary.json`` holds).
    """

    scenario: str
    scenario_sha256: str
    actor: str
    runs: int
    horizon: int
    seed: Any
    params: dict[str, float]
    strategies: dict[str, dict]
    """strategy -> outcome -> ``{probability, ci95, median_week, ...}`` (:func:`outcome_summary`)."""
    differences: list[dict]
    """``{a, b, outcome, difference, ci95}`` for every pair of strategies (a listed before b)."""
    elapsed_s: float
    datasets: dict[str, xr.Dataset] = field(repr=False)
    """strategy -> the Dataset of its runs (run *i* of every strategy shares its random numbers)."""
    posterior: dict[str, Any] | None = None
    """The posterior the calibrated parameters were drawn from (its description), if any."""
    failed_runs: dict[str, int] = field(default_factory=dict)
    """strategy -> runs whose state went non-finite (left out of its probabilities)."""
    failures: dict[str, str] = field(default_factory=dict)
    """strategy -> the failure line (variable, week, expressions) when some runs failed."""
    red_lines: dict[str, dict] = field(default_factory=dict)
    """strategy -> red line -> ``{fired, enforced, mean_firings, ...}`` (:func:`red_line_summary`)."""
    actions: dict[str, dict] = field(default_factory=dict)
    """strategy -> action -> ``{mean_count, share_taken}`` (:func:`action_summary`)."""
    clipped_probabilities: dict[str, dict] = field(default_factory=dict)
    """strategy -> probability site -> run-weeks in which it left [0, 1] and was clipped."""

    def summary(self) -> dict[str, Any]:
        """Everything but the Datasets, as plain data."""
        return {"scenario": self.scenario, "scenario_sha256": self.scenario_sha256,
                "actor": self.actor, "runs": self.runs, "horizon": self.horizon, "seed": self.seed,
                "params": self.params, **({"posterior": self.posterior} if self.posterior is not None else {}),
                "strategies": self.strategies, "failed_runs": self.failed_runs, "failures": self.failures,
                "differences": self.differences, "red_lines": self.red_lines, "actions": self.actions,
                "clipped_probabilities": self.clipped_probabilities, "elapsed_s": self.elapsed_s}


def _loaded(scenario: LoadedScenario | str | Path) -> LoadedScenario:
    return scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)


def simulate(
    scenario: LoadedScenario | str | Path,
    *,
    runs: int = 10_000,
    horizon: int | None = None,
    seed: SeedLike = 0,
    strategies: dict[str, str] | None = None,
    params: dict[str, float] | None = None,
    trajectories: bool = False,
    engine: str = "vectorised",
    posterior: Posterior | None = None,
) -> xr.Dataset:
    """Run the escalation engine on a scenario (file, bundled id or loaded); see :func:`redline.escalation.run`.

    With ``posterior``, each run's calibrated parameters are drawn from it (by weight, from a stream
    of their own, so the engine's random numbers are unchanged); ``params`` still pin values.
    """
    ds = escalation.run(_loaded(scenario), runs=runs, horizon=horizon, seed=seed, strategies=strategies,
                        params=posterior_params(posterior, params, runs, seed), trajectories=trajectories, engine=engine)
    if posterior is not None:
        ds.attrs["posterior"] = json.dumps(posterior.describe())
    return ds


def compare(
    scenario: LoadedScenario | str | Path,
    *,
    actor: str,
    strategies: list[str],
    runs: int = 10_000,
    horizon: int | None = None,
    seed: SeedLike = 0,
    params: dict[str, float] | None = None,
    fixed: dict[str, str] | None = None,
    trajectories: bool = False,
    posterior: Posterior | None = None,
) -> Comparison:
    """Compare an actor's strategies under common random numbers.

    Every strategy is run with the same seed (and the same draws from ``posterior``), so each random call site draws the same numbers
    in every arm and run *i* of one arm is paired with run *i* of another. Differences are
    paired means with normal 95% intervals; a strategy compared with itself gives exactly zero.

    Returns
    -------
    Comparison
        ``strategies`` (name -> outcome block), ``differences`` (list of ``{a, b, outcome,
        difference, ci95}``), ``red_lines``, ``actions`` and ``clipped_probabilities`` (name -> the
        mechanism counts of :func:`~redline.results.summary.red_line_summary`, ``action_summary`` and
        ``clipped_probabilities``), ``datasets`` (name -> Dataset) and the run settings.
    """
    loaded = _loaded(scenario)
    if len(strategies) < 2:
        raise ParameterError("compare needs at least two strategies, e.g. --strategies a,b")
    options = loaded.program.strategies.get(actor)
    if options is None:
        raise ParameterError(f"unknown actor '{actor}'{did_you_mean(actor, loaded.program.strategies)} "
                             f"(actors: {', '.join(loaded.program.strategies)})")
    for name in strategies:
        if name not in options:
            raise ParameterError(f"unknown strategy '{name}' for {actor}{did_you_mean(name, options)} "
                                 f"(strategies: {', '.join(options) or 'none'})")
    datasets: dict[str, xr.Dataset] = {}
    for name in dict.fromkeys(strategies):
        chosen = {**(fixed or {}), actor: name}
        datasets[name] = simulate(loaded, runs=runs, horizon=horizon, seed=seed, strategies=chosen, params=params,
                                  trajectories=trajectories, posterior=posterior)
    differences = []
    outcomes = list(next(iter(datasets.values()))["outcome"].values.tolist())
    for i, a in enumerate(strategies):
        for b in strategies[i + 1:]:
            da, db = datasets[a], datasets[b]
            ok = ~(da["failed"].values | db["failed"].values)
            for outcome in outcomes:
                xa = da["outcome_occurred"].sel(outcome=outcome).values[ok]
                xb = db["outcome_occurred"].sel(outcome=outcome).values[ok]
                diff, ci = paired_difference(xa, xb)
                differences.append({"a": a, "b": b, "outcome": outcome, "difference": diff, "ci95": list(ci)})
    return Comparison(
        scenario=loaded.id,
        scenario_sha256=loaded.sha256,
        actor=actor,
        runs=runs,
        horizon=int(next(iter(datasets.values())).attrs["horizon"]),
        seed=seed,
        params=params or {},
        posterior=posterior.describe() if posterior is not None else None,
        strategies={name: outcome_summary(ds) for name, ds in datasets.items()},
        failed_runs={name: int(ds["failed"].values.sum()) for name, ds in datasets.items()},
        failures={name: f for name, ds in datasets.items() if (f := check_failures(ds))},
        differences=differences,
        red_lines={name: red_line_summary(ds) for name, ds in datasets.items()},
        actions={name: action_summary(ds) for name, ds in datasets.items()},
        clipped_probabilities={name: clipped_probabilities(ds) for name, ds in datasets.items()},
        elapsed_s=sum(float(ds.attrs["wall_time_s"]) for ds in datasets.values()),
        datasets=datasets,
    )
