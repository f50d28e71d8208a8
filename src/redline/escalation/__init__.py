"""Escalation engine: stochastic weekly simulation of a scenario over many runs.

``run(scenario, *, runs, horizon, seed, ...)`` is the engine entry point (same shape as every
redline engine; ``rng=`` is accepted for ``seed=``, the name DESIGN.md gives it). ``engine="vectorised"`` (default) advances all runs of a block together with
numpy; ``engine="reference"`` is a plain per-run interpreter of the same semantics, kept for
readability and for testing the vectorised engine against.
"""
from __future__ import annotations

import time
from pathlib import Path
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import xarray as xr

from redline import native
from redline.errors import ParameterError
from redline.budget import check_memory, memory_budget
from redline.escalation.common import (BLOCK_RUNS, ExternalChoice, SeedLike, assemble, block_spans, compile_probes, make_setup,
                                      memory_parts, solved_by_nash)
from redline.escalation.engine import simulate_block
from redline.escalation.reference import simulate_reference
from redline.limits import MAX_RUNS, check_runs
from redline.scenario import LoadedScenario, load_scenario

__all__ = ["run", "BLOCK_RUNS", "MAX_RUNS", "ExternalChoice", "SeedLike"]


def run(
    scenario: LoadedScenario | str | Path,
    *,
    runs: int,
    horizon: int | None = None,
    seed: SeedLike | None = None,
    strategies: dict[str, str] | None = None,
    params: dict[str, float | np.ndarray] | None = None,
    trajectories: bool = False,
    engine: Literal["vectorised", "reference"] = "vectorised",
    blocks: list[int] | None = None,
    probes: dict[str, tuple[str, int]] | None = None,
    choosers: dict[str, Callable[[ExternalChoice], dict]] | None = None,
    rng: SeedLike | None = None,
) -> xr.Dataset:
    """Simulate ``runs`` stochastic futures of ``scenario``.

    Parameters
    ----------
    scenario:
        a loaded scenario, a file path or a bundled id.
    runs:
        number of runs (futures).
    horizon:
        weeks to simulate (default: the scenario's).
    seed:
        an int, a ``numpy.random.SeedSequence`` or a ``Generator`` (see :data:`SeedLike`); the same
        seed gives the same numbers. Required.
    rng:
        the same argument under the name the architecture (DESIGN.md: ``run(scenario, *, runs,
        horizon, rng)``) gives it, for callers written against that signature; give one of the two.
    strategies:
        actor -> strategy name, overriding the actor's default policy.
    params:
        uncertainty or lever name -> value within the declared range: a number for every run, or
        a 1-D array with one value per run (length ``runs``; e.g. draws from a posterior). Per-run
        values are recorded in the result as ``parameter_value`` (parameter, run).
    trajectories:
        also return every week's state (memory grows with runs × variables × weeks).
    engine:
        ``"vectorised"`` or ``"reference"``.
    probes:
        name -> (expression, week): expressions evaluated inside the simulation every week (so
        window functions such as ``ever`` see every week) and recorded at their week; a week past
        the horizon extends the horizon. Used by forecast questions.

    Returns
    -------
    xarray.Dataset
        ``final_state`` (variable, run), ``outcome_week`` and ``outcome_occurred`` (outcome, run),
        ``red_line_week``/``red_line_enforced`` (red_line, run), ``action_count`` (action, run),
        ``stopped_week`` and ``failed`` (run); ``trajectory`` (week, variable, run) if asked.
        Attrs record the scenario id and hash, version, seed, spawn key, strategies, parameters
        and wall time.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    runs = check_runs(runs)
    program = loaded.program
    compiled_probes = compile_probes(program, probes)
    if compiled_probes:
        latest = max(week for _, _, week in compiled_probes)
        horizon = max(horizon or program.horizon, latest)
    if choosers and engine != "vectorised":
        raise ParameterError("external seats (choosers) run on the vectorised engine only")
    if (seed is None) == (rng is None):
        raise ParameterError("give the seed once: seed=... (or rng=..., the same argument)")
    seed = rng if seed is None else seed
    setup = make_setup(program, seed=seed, horizon=horizon, strategies=strategies, params=params, runs=runs,
                       choosers=choosers)
    setup.probes = compiled_probes
    check_memory(memory_parts(program, setup, runs, trajectories), f"simulating {runs:,} runs of '{loaded.id}'",
                 "lower the runs" + (", drop trajectories" if trajectories else "")
                 + " or the windows' last=N, or raise the budget")
    if engine == "vectorised":  # compile the kernels once per process (~0.1 s) before the clock starts
        if native.enabled() and any(solved_by_nash(d) for d in program.decisions):
            native.bargaining_enabled()
    if engine not in ("vectorised", "reference"):
        raise ParameterError(f"unknown engine '{engine}' (engines: vectorised, reference)")
    started = time.perf_counter()
    if blocks is not None:
        spans = [(b, 1) for b in blocks]
    elif engine == "vectorised":  # consecutive blocks together, as memory allows
        spans = block_spans(program, setup, runs, trajectories, memory_budget())
    else:
        spans = [(b, 1) for b in range(-(-runs // BLOCK_RUNS))]
    results = []
    for b, count in spans:
        size = min(count * BLOCK_RUNS, runs - b * BLOCK_RUNS)
        if engine == "vectorised":
            results.append(simulate_block(program, setup, size, b, trajectories))
        else:
            results.append(simulate_reference(program, setup, size, b, trajectories))
        results[-1]["block"] = b
    return assemble(results, program, setup, scenario_id=loaded.id, sha256=loaded.sha256, engine=engine,
                    started=started, trajectories=trajectories)
