"""The Python API: load, simulate, compare — the same operations as the CLI."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import xarray as xr

from redline import escalation
from redline.analysis.summary import (action_summary, clipped_probabilities, outcome_summary, paired_difference,
                                     red_line_summary)
from redline.calibrate.posterior import Posterior, posterior_params
from redline.errors import ParameterError, did_you_mean
from redline.scenario import LoadedScenario, load_scenario

__all__ = ["simulate", "compare"]


def _loaded(scenario: LoadedScenario | str | Path) -> LoadedScenario:
    return scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)


def simulate(
    scenario: LoadedScenario | str | Path,
    *,
    runs: int = 10_000,
    horizon: int | None = None,
    seed: Any = 0,
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
    ds = escalation.run(_loaded(scenario), runs=runs, horizon=horizon, rng=seed, strategies=strategies,
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
    seed: Any = 0,
    params: dict[str, float] | None = None,
    fixed: dict[str, str] | None = None,
    trajectories: bool = False,
    posterior: Posterior | None = None,
) -> dict:
    """Compare an actor's strategies under common random numbers.

    Every strategy is run with the same seed (and the same draws from ``posterior``), so each random call site draws the same numbers
    in every arm and run *i* of one arm is paired with run *i* of another. Differences are
    paired means with normal 95% intervals; a strategy compared with itself gives exactly zero.

    Returns
    -------
    dict
        ``strategies`` (name -> outcome block), ``differences`` (list of ``{a, b, outcome,
        difference, ci95}``), ``red_lines`` and ``actions`` (name -> the mechanism counts of
        :func:`~redline.analysis.summary.red_line_summary` and ``action_summary``), and
        ``datasets`` (name -> Dataset).
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
    return {
        "scenario": loaded.id,
        "scenario_sha256": loaded.sha256,
        "actor": actor,
        "runs": runs,
        "horizon": int(next(iter(datasets.values())).attrs["horizon"]),
        "seed": seed,
        "params": params or {},
        **({"posterior": posterior.describe()} if posterior is not None else {}),
        "strategies": {name: outcome_summary(ds) for name, ds in datasets.items()},
        "differences": differences,
        "red_lines": {name: red_line_summary(ds) for name, ds in datasets.items()},
        "actions": {name: action_summary(ds) for name, ds in datasets.items()},
        "clipped_probabilities": {name: clipped_probabilities(ds) for name, ds in datasets.items()},
        "elapsed_s": sum(float(ds.attrs["wall_time_s"]) for ds in datasets.values()),
        "datasets": datasets,
    }
