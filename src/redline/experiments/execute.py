"""Running a design: experiments in batches on a serial, multi-process or Dask executor.

Experiments that share a strategy combination are simulated several at a time, in one engine call
(:mod:`redline.experiments.batches`): the batches are fixed by the design, ``runs`` and
``batch_runs``, so where a batch runs changes nothing in its numbers. Each experiment is then
summarised from its own runs, exactly as if it had been run alone. Workers receive the scenario's
YAML text (not a compiled object) and compile it once per process.
"""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import yaml
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from redline import __version__
from redline.errors import ParameterError, RedlineError
from redline.escalation import run
from redline.escalation.common import describe_failure
from redline.experiments.batches import BATCH_RUNS, Batch, batch_parameters, check_batch_runs, plan_batches
from redline.experiments.design import Design, experiment_seed, make_design
from redline.experiments.executors import EXECUTORS, make_executor
from redline.limits import check_horizon, check_runs
from redline.results.store import ResultsStore, summarise_runs
from redline.scenario import LoadedScenario, load_scenario
from redline.scenario.load import scenario_from_text

__all__ = ["BATCH_RUNS", "EXECUTORS", "perform_experiments", "run_batch", "run_experiment", "design_frame"]

_STDERR = Console(stderr=True)  # progress goes to stderr: stdout stays clean for --json


_SCENARIOS: dict[str, LoadedScenario] = {}


def _scenario(payload: dict) -> LoadedScenario:
    loaded = _SCENARIOS.get(payload["sha256"])
    if loaded is None:
        loaded = scenario_from_text(payload["text"], name=payload["name"])
        if loaded.sha256 != payload["sha256"]:  # pragma: no cover - a worker with another redline
            raise RedlineError(f"worker compiled {payload['name']} to a different scenario hash")
        _SCENARIOS[payload["sha256"]] = loaded
    return loaded


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _failed(payload: dict, experiment: int, error: str, elapsed_s: float) -> dict:
    return {"experiment": int(experiment), "runs": int(payload["runs"]), "worker": _worker(), "status": "failed",
            "failed_runs": int(payload["runs"]), "error": error, "outcomes": [], "states": [], "runs_table": None,
            "elapsed_s": elapsed_s}


def _experiment_params(payload: dict, experiment: int, params: dict) -> dict:
    """An experiment's parameters: its factors and constants over its posterior draws (if any),
    drawn from the experiment's own seed so that batching does not change them."""
    if payload.get("posterior") is None:
        return dict(params)
    draws = _posterior(payload["posterior"]).draw(payload["runs"], experiment_seed(payload["seed"], experiment))
    return {**draws, **params}  # the factors and constants win over the posterior's draws


def _summarise(payload: dict, experiment: int, ds: xr.Dataset, elapsed_s: float) -> dict:
    """The record of one experiment from its own runs (a slice of its batch's Dataset)."""
    failed = ds["failed"].values
    ds.attrs = {k: v for k, v in ds.attrs.items() if k != "failure"}
    if failed.any():  # the batch's failure line counts every experiment's runs: recount this one's
        ds.attrs["failure"] = describe_failure(_scenario(payload).program, ds["final_state"].values, failed,
                                               ds["stopped_week"].values)
    try:
        outs, states, runs_table = summarise_runs(ds, payload["per_run"])
    except Exception as err:  # e.g. every run of this experiment failed: recorded, not raised
        return _failed(payload, experiment, f"{type(err).__name__}: {err}", elapsed_s)
    if runs_table is not None:
        runs_table["experiment"] = np.int64(experiment)
    return {"experiment": int(experiment), "runs": int(payload["runs"]), "worker": _worker(), "status": "ok",
            "failed_runs": int(failed.sum()), "error": None, "outcomes": outs, "states": states,
            "runs_table": runs_table, "elapsed_s": elapsed_s}


def run_batch(payload: dict, tasks: list[tuple[int, dict, dict]]) -> list[dict]:
    """Simulate a batch's experiments (consecutive ids, same strategies) in one engine call and
    summarise each from its own runs; errors are recorded with the experiments, never raised.

    The call is seeded by the first experiment's seed (:mod:`redline.experiments.batches`). If it
    raises, each experiment is run alone (seeded by its own id) so that one experiment that cannot
    run costs only itself; failures are deterministic, so every executor does the same.
    """
    started = time.perf_counter()
    runs = int(payload["runs"])
    first = tasks[0][0]
    try:
        strategies = tasks[0][2]
        if any(s != strategies for _, _, s in tasks) or [i for i, _, _ in tasks] != list(range(first, first + len(tasks))):
            raise RedlineError("a batch needs consecutive experiments with the same strategies")
        params = batch_parameters([_experiment_params(payload, i, p) for i, p, _ in tasks], runs)
        ds = run(_scenario(payload), runs=runs * len(tasks), horizon=payload["horizon"],
                 seed=experiment_seed(payload["seed"], first), strategies=strategies, params=params)
    except Exception as err:  # recorded with the experiment(s): a sweep never drops one silently
        if len(tasks) > 1:
            return [record for task in tasks for record in run_batch(payload, [task])]
        return [_failed(payload, first, f"{type(err).__name__}: {err}", time.perf_counter() - started)]
    share = (time.perf_counter() - started) / len(tasks)
    return [_summarise(payload, i, ds.isel(run=slice(k * runs, (k + 1) * runs)), share)
            for k, (i, _, _) in enumerate(tasks)]


def run_experiment(payload: dict, experiment: int, params: dict, strategies: dict) -> dict:
    """Run one experiment alone (a batch of one, seeded by its own id) and summarise it; an error
    is recorded, not raised."""
    return run_batch(payload, [(experiment, params, strategies)])[0]


def _posterior(block: dict):
    from redline.calibrate import Posterior

    return Posterior(Path(block["path"]), block["sha256"], list(block["names"]), np.asarray(block["theta"]),
                     np.asarray(block["weights"]), {})


def design_frame(design: Design, defaults: dict[str, float], batches: list[Batch] | None = None,
                 runs: int = 0) -> pd.DataFrame:
    """One row per experiment: strategy combination, point, every parameter, seed, and where its
    runs are simulated: ``spawn_key`` of its batch's engine call (``[first experiment of the
    batch]``) and ``first_run``, its first run in that call (default: one experiment per batch)."""
    n = design.n_experiments
    cols: dict[str, Any] = {"experiment": np.arange(n, dtype=np.int64)}
    combo = np.arange(n) // design.n_points
    point = np.arange(n) % design.n_points
    cols["combination"] = combo.astype(np.int64)
    cols["point"] = point.astype(np.int64)
    for k, actor in enumerate(design.strategy_actors):
        cols[f"strategy:{actor}"] = [design.strategy_combinations[c][k] for c in combo]
    factor_names = [f.name for f in design.factors]
    for j, name in enumerate(factor_names):
        cols[name] = design.points[point, j].astype(float)
    for name in sorted(defaults):
        if name not in factor_names:
            cols[name] = np.full(n, float(design.constants.get(name, defaults[name])))
    cols["seed"] = np.full(n, design.seed, dtype=np.int64)
    key = np.arange(n, dtype=np.int64)
    first_run = np.zeros(n, dtype=np.int64)
    for b in batches or ():
        key[b.start:b.stop] = b.start
        first_run[b.start:b.stop] = np.arange(len(b), dtype=np.int64) * int(runs)
    cols["spawn_key"] = [json.dumps([int(k)]) for k in key]
    cols["first_run"] = first_run
    return pd.DataFrame(cols)


def _progress(total: int, done: int, enabled: bool):

    class _Rate(TextColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return TextColumn("{task.description}").render(task).__class__(
                f"{speed:,.1f} exp/s" if speed else "- exp/s")

    progress = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), _Rate(""),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=_STDERR,
                        disable=not enabled, transient=False)
    return progress


def perform_experiments(
    scenario: LoadedScenario | str | Path,
    design: str | Design = "lhs",
    samples: int = 64,
    *,
    runs: int = 1000,
    seed: int = 0,
    horizon: int | None = None,
    uncertainties: dict | list | None = None,
    constants: dict[str, float] | None = None,
    strategies: dict[str, list[str]] | None = None,
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    store: str | Path | None = None,
    per_run: bool = False,
    progress: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
    posterior: Any = None,
    batch_runs: int = BATCH_RUNS,
) -> xr.Dataset:
    """Run every experiment of a design and return their outcome summaries.

    Parameters
    ----------
    scenario:
        loaded scenario, file or bundled id.
    design, samples, seed, uncertainties, constants, strategies:
        see :func:`redline.experiments.make_design` (or pass a ready :class:`Design`).
    runs:
        runs (stochastic futures) per experiment.
    horizon:
        weeks (default: the scenario's).
    executor:
        ``"serial"``, ``"processes"`` (local pool) or ``"dask"`` (``address`` of a running
        scheduler, or a ``LocalCluster`` of ``workers`` processes when no address is given).
    workers:
        processes for ``processes`` / local Dask (default: CPU count).
    store:
        DuckDB file to write to and resume from (see :mod:`redline.results.store`).
    per_run:
        also store the week of every outcome of every run.
    progress:
        show a rich progress bar (experiments done, rate, ETA) on stderr; it advances a batch at a time.
    posterior:
        a :class:`redline.calibrate.Posterior`: each run draws the parameters the design does not
        set (neither factor nor constant) from it.
    batch_runs:
        most runs simulated in one engine call (:data:`~redline.experiments.batches.BATCH_RUNS`):
        experiments of one strategy combination are batched ``max(1, batch_runs // runs)`` at a
        time. Part of the sweep's identity (it decides the random numbers).

    Returns
    -------
    xarray.Dataset
        dims ``experiment``, ``outcome``, ``variable``: ``probability``, ``count``, ``ci_low``,
        ``ci_high``, ``median_week`` (experiment, outcome); ``state_mean`` (experiment, variable);
        ``status``, ``error``, ``failed_runs`` and one variable per parameter and strategy actor
        (experiment). Attrs: scenario, hash, design, samples, seed, runs, horizon, factors, ...

    Notes
    -----
    The same arguments give bit-identical numbers under every executor, worker count and
    interruption: the batches (:func:`~redline.experiments.batches.plan_batches`) depend only on
    the design, ``runs`` and ``batch_runs``, and the batch starting at experiment ``s`` is seeded by
    ``SeedSequence(seed).spawn(n)[s]``; an experiment's posterior draws by its own ``[i]``.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    if executor not in EXECUTORS:  # before anything else is checked, as before
        make_executor(executor, workers=1)
    runs = check_runs(runs)
    horizon = check_horizon(loaded.program.horizon if horizon is None else horizon)
    if address and executor != "dask":
        raise ParameterError("--address needs --executor dask")
    workers = int(workers) if workers else (os.cpu_count() or 1)
    if workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {workers}")
    runner = make_executor(executor, workers=workers, address=address)
    d = design if isinstance(design, Design) else make_design(
        loaded, design, samples, seed=seed, uncertainties=uncertainties, constants=constants, strategies=strategies)
    outcomes = [o.id for o in loaded.program.outcomes]
    variables = list(loaded.program.variables)
    batch_runs = check_batch_runs(batch_runs)
    batches = plan_batches(d, runs, batch_runs)
    identity = {"scenario": loaded.id, "scenario_sha256": loaded.sha256, "runs": int(runs), "horizon": horizon,
                "per_run": bool(per_run), "design": d.identity(), "batch_runs": batch_runs}
    if posterior is not None:
        identity["posterior_sha256"] = posterior.sha256
    frame = design_frame(d, loaded.program.parameters, batches, runs)
    text = _scenario_text(loaded)
    payload = {"text": text, "name": str(loaded.path or loaded.id), "sha256": loaded.sha256, "runs": int(runs),
               "horizon": horizon, "seed": d.seed, "per_run": bool(per_run),
               "posterior": None if posterior is None else {
                   "path": str(posterior.path), "sha256": posterior.sha256, "names": list(posterior.names),
                   "theta": posterior.theta, "weights": posterior.weights}}
    _SCENARIOS.setdefault(loaded.sha256, loaded)  # the serial executor runs here: no recompilation

    records: dict[int, dict] = {}
    st = None
    with runner:  # a Dask client connects here, before the store: an unreachable scheduler leaves nothing behind
        started = time.perf_counter()
        try:
            if store is not None:
                st = ResultsStore.create_or_resume(store, identity, frame, outcomes, variables)
                st.record_scenario(str(Path(loaded.path).resolve()) if loaded.path is not None else None, text)
            done = st.finished() if st is not None else set()
            # a batch is written in one transaction, so it is either done or to be run whole
            # (run whole even if partly done: its numbers do not depend on what was stored)
            todo = [b for b in batches if any(i not in done for i in b.experiments)]
            tasks = [[(i, *d.experiment(i)) for i in b.experiments] for b in todo]
            bar = _progress(d.n_experiments, len(done), progress)
            with bar:
                task = bar.add_task("", total=d.n_experiments, completed=len(done))
                finished = len(done)
                if tasks:
                    for batch_records in runner.map(run_batch, payload, tasks):
                        batch_records = sorted((r for r in batch_records if r["experiment"] not in done),
                                               key=lambda r: r["experiment"])
                        if st is not None:
                            st.write(batch_records, executor)
                        else:
                            records.update((r["experiment"], r) for r in batch_records)
                        finished += len(batch_records)
                        bar.update(task, completed=finished)
                        if on_chunk is not None:
                            on_chunk(finished, d.n_experiments)
            if st is not None:
                st.finalise()
                result = _dataset_from_store(st, d, outcomes, variables)
            else:
                result = _dataset_from_records(d, [records[i] for i in sorted(records)], frame, outcomes, variables)
        finally:
            if st is not None:
                st.close()
    result.attrs.update({
        "scenario": loaded.id, "scenario_sha256": loaded.sha256, "version": __version__, "design": d.design,
        "samples": d.samples, "seed": d.seed, "runs": int(runs), "horizon": horizon,
        "n_experiments": d.n_experiments, "seeding": "SeedSequence(seed).spawn(n_experiments)[first experiment of the batch]",
        "batch_runs": batch_runs, "batches": len(batches),
        "factors": json.dumps([[f.name, f.kind, f.low, f.high] for f in d.factors]),
        "constants": json.dumps(d.constants, sort_keys=True),
        "strategy_actors": json.dumps(d.strategy_actors),
        "executor": executor, "resumed_experiments": len(done), "store": str(store) if store else "",
        "posterior": json.dumps(posterior.describe()) if posterior is not None else "",
        "wall_time_s": time.perf_counter() - started,
    })
    return result


def _scenario_text(loaded: LoadedScenario) -> str:
    if loaded.path is not None:
        return Path(loaded.path).read_text(encoding="utf-8")
    return yaml.safe_dump(loaded.spec.model_dump(mode="json", exclude_none=True), sort_keys=False)


def _dataset_from_store(st, d: Design, outcomes: list[str], variables: list[str]) -> xr.Dataset:
    frame = st.table("design")
    exps = st.table("experiments")
    outs = st.table("outcomes")
    states = st.table("final_state")
    return _assemble(d, frame, exps, outs, states, outcomes, variables)


def _dataset_from_records(d: Design, records: list[dict], frame: pd.DataFrame, outcomes, variables) -> xr.Dataset:
    exps = pd.DataFrame([(r["experiment"], r["status"], r["runs"], r["failed_runs"], r["error"]) for r in records],
                        columns=["experiment", "status", "runs", "failed_runs", "error"])
    outs = pd.DataFrame([(r["experiment"], *row) for r in records for row in r["outcomes"]],
                        columns=["experiment", "outcome", "runs", "count", "probability", "ci_low", "ci_high",
                                 "median_week", "mean_week"])
    states = pd.DataFrame([(r["experiment"], *row) for r in records for row in r["states"]],
                          columns=["experiment", "variable", "mean", "p05", "p95"])
    return _assemble(d, frame, exps, outs, states, outcomes, variables)


def _assemble(d: Design, frame: pd.DataFrame, exps: pd.DataFrame, outs: pd.DataFrame, states: pd.DataFrame,
              outcomes: list[str], variables: list[str]) -> xr.Dataset:
    n = d.n_experiments
    o_index = {o: k for k, o in enumerate(outcomes)}
    v_index = {v: k for k, v in enumerate(variables)}

    def grid(df, key, index, column, width):
        arr = np.full((n, width), np.nan)
        if len(df):
            arr[df["experiment"].to_numpy(int), df[key].map(index).to_numpy(int)] = pd.to_numeric(
                df[column], errors="coerce").to_numpy(float)
        return arr

    status = np.full(n, "pending", dtype=object)
    error = np.full(n, "", dtype=object)
    failed_runs = np.zeros(n, dtype=np.int64)
    if len(exps):
        idx = exps["experiment"].to_numpy(int)
        status[idx] = exps["status"].to_numpy(object)
        error[idx] = exps["error"].fillna("").to_numpy(object)
        failed_runs[idx] = exps["failed_runs"].to_numpy(np.int64)
    data = {
        "probability": (("experiment", "outcome"), grid(outs, "outcome", o_index, "probability", len(outcomes))),
        "count": (("experiment", "outcome"), grid(outs, "outcome", o_index, "count", len(outcomes))),
        "ci_low": (("experiment", "outcome"), grid(outs, "outcome", o_index, "ci_low", len(outcomes))),
        "ci_high": (("experiment", "outcome"), grid(outs, "outcome", o_index, "ci_high", len(outcomes))),
        "median_week": (("experiment", "outcome"), grid(outs, "outcome", o_index, "median_week", len(outcomes))),
        "state_mean": (("experiment", "variable"), grid(states, "variable", v_index, "mean", len(variables))),
        "status": (("experiment",), status.astype(str)),
        "error": (("experiment",), error.astype(str)),
        "failed_runs": (("experiment",), failed_runs),
    }
    for f in d.factors:
        data[f.name] = (("experiment",), frame[f.name].to_numpy(float))
    for actor in d.strategy_actors:
        data[f"strategy:{actor}"] = (("experiment",), frame[f"strategy:{actor}"].to_numpy(str))
    return xr.Dataset(data, coords={"experiment": np.arange(n), "outcome": outcomes, "variable": variables})
