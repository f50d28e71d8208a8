"""Fit a scenario's uncertainties to a record: the calibration workflow.

``calibrate(scenario, record, particles=..., seed=...)`` runs :func:`redline.calibrate.smc.abc_smc`
with the uncertainties' ranges as uniform priors; each particle is one run of a vectorised engine
call (the parameter arrays of :func:`redline.escalation.run`), and each observation's statistic is
an engine probe evaluated at the week holding its date. The simulation starts at the scenario's
``as_of`` and stops at the record's origin: nothing later is simulated or read.

Checkpoints: with ``out`` given, every finished generation is saved beside it
(``.<name>.checkpoint.npz``, atomically); a calibration started again with the same scenario,
record, seed and settings resumes from it and gives the same posterior as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from redline import __version__
from redline.calibrate.posterior import atomic_write, write_posterior
from redline.calibrate.record import Record, load_record
from redline.calibrate.smc import (
    CalibrationError,
    GenerationStats,
    Population,
    SMCState,
    UniformPrior,
    abc_smc,
    weighted_quantile,
)
from redline.errors import Location, ParameterError, ScenarioError, did_you_mean
from redline.scenario import LoadedScenario, load_scenario

__all__ = ["CalibrationResult", "calibrate", "EXECUTORS", "DEFAULT_PARTICLES", "CHUNK_RUNS", "scenario_with_record"]

EXECUTORS = ("serial", "processes", "dask")
DEFAULT_PARTICLES = 4000
CHUNK_RUNS = 16384
"""Runs per engine call in a batch; the chunking is fixed, so any executor gives the same numbers."""
PREDICTIVE_RUNS = 4000


@dataclass
class CalibrationResult:
    """A finished calibration: the posterior, its diagnostics and its posterior predictive checks."""

    scenario: str
    scenario_sha256: str
    record: str
    record_sha256: str
    seed: int
    particles: int
    names: list[str]
    theta: np.ndarray
    weights: np.ndarray
    parameters: dict[str, dict[str, Any]]
    generations: list[dict[str, Any]]
    checks: dict[str, dict[str, Any]]
    predictive: dict[str, list[float]]
    final: bool
    stop_reason: str
    pinned: dict[str, float]
    resumed_generations: int
    posterior: str | None
    elapsed_s: float
    executor: str

    def metadata(self) -> dict[str, Any]:
        """The posterior file's metadata (no wall times, so the same seed writes the same bytes)."""
        return {
            "scenario": self.scenario, "scenario_sha256": self.scenario_sha256, "record": self.record,
            "record_sha256": self.record_sha256, "seed": self.seed, "particles": self.particles,
            "version": __version__, "method": "ABC-SMC (Toni et al. 2009; Beaumont et al. 2009; adaptive tolerances, "
                                               "Del Moral, Doucet & Jasra 2012)",
            "parameters": self.parameters, "pinned": self.pinned, "final": self.final, "stop_reason": self.stop_reason,
            "generations": [{k: v for k, v in g.items() if k != "seconds"} for g in self.generations],
            "checks": self.checks, "predictive": self.predictive,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "scenario_sha256": self.scenario_sha256, "record": self.record,
            "record_sha256": self.record_sha256, "seed": self.seed, "particles": self.particles,
            "parameters": self.parameters, "generations": self.generations, "checks": self.checks,
            "final": self.final, "stop_reason": self.stop_reason, "pinned": self.pinned,
            "resumed_generations": self.resumed_generations, "executor": self.executor,
            "posterior": self.posterior, "elapsed_s": self.elapsed_s,
        }


def scenario_with_record(loaded: LoadedScenario, record: Record) -> LoadedScenario:
    """The scenario with the record's events added to its own ``events`` (forced in every run)."""
    if not record.events:
        return loaded
    if "events" not in type(loaded.spec).model_fields:
        raise ScenarioError("this version of redline has no scheduled events; remove the record's `events`",
                            record.document.locate(("events",)))
    from redline.scenario import scenario_from_dict

    doc = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    doc["events"] = list(doc.get("events") or []) + [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in e.items()} for e in record.events]
    try:
        return scenario_from_dict(doc, name=str(record.path or "<record>"))
    except ScenarioError as err:
        raise ScenarioError(f"the record's events do not fit the scenario: {err.message}",
                            record.document.locate(("events",))) from None


# --------------------------------------------------------------------------------------------
# Simulation of a batch of particles, in fixed chunks, on any executor.

_WORKER_SCENARIOS: dict[str, LoadedScenario] = {}


def _worker_scenario(payload: dict) -> LoadedScenario:
    loaded = _WORKER_SCENARIOS.get(payload["key"])
    if loaded is None:
        from redline.scenario import scenario_from_dict

        loaded = scenario_from_dict(payload["doc"], name=payload["name"])
        _WORKER_SCENARIOS[payload["key"]] = loaded
    return loaded


def _simulate_chunk(payload: dict, theta: np.ndarray, entropy: int, spawn_key: tuple) -> np.ndarray:
    """Statistics (runs, observations) of one chunk of particles; NaN rows for failed runs."""
    from redline import escalation

    loaded = _worker_scenario(payload)
    n = theta.shape[0]
    params = {name: theta[:, k] for k, name in enumerate(payload["names"])}
    params.update(payload["pinned"])
    ds = escalation.run(loaded, runs=n, horizon=payload["horizon"], seed=np.random.SeedSequence(entropy, spawn_key=spawn_key),
                       params=params, probes={k: tuple(v) for k, v in payload["probes"].items()})
    stats = ds["probe_value"].sel(probe=payload["order"]).values.T.copy()
    stats[ds["failed"].values] = np.nan
    return stats


class _Simulator:
    """``simulate(theta, seed_sequence)`` for the SMC, spreading fixed chunks over an executor."""

    def __init__(self, loaded: LoadedScenario, record: Record, names: list[str], pinned: dict[str, float],
                 executor: str, workers: int | None):
        self.loaded = loaded
        doc = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        order = [o.id for o in record.observations]
        self.payload = {"key": loaded.sha256, "doc": doc, "name": str(loaded.path or loaded.id), "names": names,
                        "pinned": pinned, "horizon": max(record.weeks.values()), "probes": record.probes(),
                        "order": order}
        _WORKER_SCENARIOS[loaded.sha256] = loaded
        self.executor = executor
        self.workers = int(workers) if workers else (os.cpu_count() or 1)
        self.pool = self.client = self.cluster = None
        self.runs = 0

    def __enter__(self):
        if self.executor == "processes":
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        elif self.executor == "dask":
            from redline.experiments.executors import dask_client

            self.client, self.cluster = dask_client(self.workers, None)
            self.shared = self.client.scatter(self.payload, broadcast=True)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __call__(self, theta: np.ndarray, ss: np.random.SeedSequence) -> np.ndarray:
        chunks = [(theta[s:s + CHUNK_RUNS], ss.entropy, tuple(ss.spawn_key) + (k,))
                  for k, s in enumerate(range(0, theta.shape[0], CHUNK_RUNS))]
        self.runs += theta.shape[0]
        if self.pool is not None:
            futures = [self.pool.submit(_simulate_chunk, self.payload, *c) for c in chunks]
            parts = [f.result() for f in futures]
        elif self.client is not None:
            futures = [self.client.submit(_simulate_chunk, self.shared, *c, pure=False) for c in chunks]
            parts = self.client.gather(futures)
        else:
            parts = [_simulate_chunk(self.payload, *c) for c in chunks]
        return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------------------------
# Checks on the prior predictive (generation 0): the record's statistics must be computable.

def _check_statistics(record: Record, stats: np.ndarray) -> None:
    ok_rows = ~np.all(np.isnan(stats), axis=1)  # failed runs are all-NaN rows
    for j, o in enumerate(record.observations):
        column = stats[ok_rows, j]
        bad = ~np.isfinite(column)
        if bad.any():
            raise ScenarioError(
                f"statistic of '{o.id}' is not finite in {int(bad.sum())} of {column.size} simulated histories "
                f"(e.g. {column[bad][0]}): give an expression that is a number in every run",
                record.locations[o.id])
        if o.sd is None and column.size and np.any(column != np.round(column)):
            raise ScenarioError(
                f"observation '{o.id}' has no sd, so it must be matched exactly, but its statistic takes "
                f"non-whole values (e.g. {column[column != np.round(column)][0]:.4g}): give it an sd",
                record.locations[o.id])


# --------------------------------------------------------------------------------------------
# Checkpoints.

def _checkpoint_path(out: Path) -> Path:
    return out.parent / f".{out.name}.checkpoint.npz"


def _save_checkpoint(path: Path, identity: str, state: SMCState) -> None:
    pop = state.population
    header = json.dumps({"identity": identity, "generation": state.generation, "epsilon": state.epsilon,
                         "beta": state.beta, "finished": state.finished, "stop_reason": state.stop_reason,
                         "step_scale": state.step_scale,
                         "history": [g.to_dict() for g in state.history]})

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.frombuffer(header.encode(), dtype=np.uint8), scale=state.scale, theta=pop.theta,
                     weights=pop.weights, distance=pop.distance, sq_noise=pop.sq_noise, stats=pop.stats)

    atomic_write(path, write)


def _load_checkpoint(path: Path, identity: str) -> SMCState | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if header.get("identity") != identity:
                return None
            pop = Population(z["theta"], z["weights"], z["distance"], z["sq_noise"], z["stats"])
            scale = z["scale"]
    except (OSError, ValueError, KeyError):
        return None  # a damaged checkpoint: start again
    history = [GenerationStats(g["generation"], g["epsilon"], math.inf if g["temperature"] is None else g["temperature"],
                               g["acceptance_rate"], g["ess"], g["particles"], g["simulations"], g["seconds"])
               for g in header["history"]]
    return SMCState(header["generation"], header["epsilon"], header["beta"], scale, pop, history,
                    header["finished"], header["stop_reason"], header.get("step_scale"))


def _clean_temporaries(out: Path) -> None:
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        try:
            pid = int(stale.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid() or not _alive(pid):
            stale.unlink(missing_ok=True)
    for stale in out.parent.glob(f"..{out.name}.checkpoint.npz.tmp-*"):
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------------------------
# The workflow.

def _summaries(names: list[str], theta: np.ndarray, weights: np.ndarray, ranges: dict) -> dict[str, dict]:
    out = {}
    for k, name in enumerate(names):
        col = theta[:, k]
        q05, q50, q95 = weighted_quantile(col, weights, [0.05, 0.5, 0.95])
        out[name] = {"mean": float(weights @ col), "median": float(q50), "ci90": [float(q05), float(q95)],
                     "sd": float(np.sqrt(weights @ np.square(col - weights @ col))),
                     "prior": [float(ranges[name][0]), float(ranges[name][1])]}
    return out


def _predictive(record: Record, simulate: _Simulator, names: list[str], theta: np.ndarray, weights: np.ndarray,
                seed: int, runs: int) -> tuple[dict, dict]:
    """Posterior predictive: fresh histories from parameters drawn by weight, per observation."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(10**6, 0, 0))))
    cdf = np.cumsum(weights)
    idx = np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(runs)), weights.size - 1)
    stats = simulate(theta[idx], np.random.SeedSequence(seed, spawn_key=(10**6, 0, 1)))
    checks, samples = {}, {}
    for j, o in enumerate(record.observations):
        col = stats[:, j]
        col = col[np.isfinite(col)]
        if not col.size:
            checks[o.id] = {"observed": o.value, "predictive_mean": None, "ci90": None, "within": False,
                            "sd": o.sd, "date": o.date.isoformat(), "statistic": str(o.statistic)}
            continue
        lo, hi = np.quantile(col, [0.05, 0.95])
        checks[o.id] = {"observed": o.value, "predictive_mean": float(col.mean()), "ci90": [float(lo), float(hi)],
                        "within": bool(lo <= o.value <= hi), "sd": o.sd, "date": o.date.isoformat(),
                        "statistic": str(o.statistic)}
        samples[o.id] = [float(v) for v in col[:1000]]
    return checks, samples


def calibrate(
    scenario: LoadedScenario | str | Path,
    record: Record | str | Path,
    *,
    particles: int = DEFAULT_PARTICLES,
    seed: int = 0,
    out: str | Path | None = None,
    params: dict[str, float] | None = None,
    executor: str = "serial",
    workers: int | None = None,
    alpha: float = 0.5,
    max_generations: int = 40,
    min_acceptance: float = 0.05,
    resume: bool = True,
    approximate: bool = False,
    on_generation: Callable[[GenerationStats], None] | None = None,
) -> CalibrationResult:
    """Fit the scenario's uncertainties to a record by ABC-SMC and (with ``out``) write the posterior.

    Parameters
    ----------
    scenario:
        loaded scenario, file or bundled id.
    record:
        a record file (see :mod:`redline.calibrate.record`) or a loaded :class:`Record`.
    particles:
        accepted particles per generation (each is one simulated history).
    seed:
        seed of every random number (the same seed gives the same posterior on every executor).
    out:
        the posterior file to write (Parquet, atomically); checkpoints go beside it.
    params:
        parameters pinned at a value (``--param``): not calibrated.
    executor, workers:
        ``serial``, ``processes`` or ``dask`` (a local cluster), and how many workers.
    alpha, max_generations, min_acceptance:
        see :func:`redline.calibrate.smc.abc_smc`.
    resume:
        continue from a checkpoint of the same calibration if one is beside ``out``.
    approximate:
        accept a posterior that stopped short of the exact target (tolerance 0, temperature 1);
        by default that is a :class:`CalibrationError` with advice.

    Raises
    ------
    CalibrationError
        no particle accepted in a generation (with advice); exit code 2 on the command line.
    ScenarioError
        a bad record (located), a statistic that is not finite.
    """
    started = time.perf_counter()
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    rec = record if isinstance(record, Record) else load_record(record, loaded)
    if executor not in EXECUTORS:
        raise ParameterError(f"unknown executor '{executor}'{did_you_mean(executor, EXECUTORS)} "
                             f"(executors: {', '.join(EXECUTORS)})")
    if isinstance(particles, bool) or not isinstance(particles, (int, np.integer)) or not 10 <= particles <= 1_000_000:
        raise ParameterError(f"--particles must be a whole number in 10..1,000,000, got {particles!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"--seed must be a non-negative whole number, got {seed!r}")
    program = loaded.program
    pinned = {}
    for name, value in (params or {}).items():
        if name not in program.parameter_ranges:
            raise ParameterError(f"unknown parameter '{name}'{did_you_mean(name, program.parameter_ranges)}")
        lo, hi = program.parameter_ranges[name]
        if not lo <= float(value) <= hi:
            raise ParameterError(f"parameter {name}={value:g} is outside its range [{lo:g}, {hi:g}]")
        pinned[name] = float(value)
    names = [n for n in loaded.spec.uncertainties if n not in pinned]
    if not names:
        raise ParameterError(f"{loaded.id} has no uncertainty left to calibrate")
    ranges = program.parameter_ranges
    prior = UniformPrior(tuple(names), np.array([ranges[n][0] for n in names], dtype=float),
                         np.array([ranges[n][1] for n in names], dtype=float))
    fitted = scenario_with_record(loaded, rec)
    observed = np.array([o.value for o in rec.observations], dtype=float)
    sd = np.array([np.nan if o.sd is None else o.sd for o in rec.observations], dtype=float)
    identity = hashlib.sha256(json.dumps({
        "scenario": loaded.sha256, "record": rec.sha256, "seed": int(seed), "particles": int(particles),
        "pinned": pinned, "alpha": alpha, "min_acceptance": min_acceptance, "version": __version__,
        "chunk": CHUNK_RUNS}, sort_keys=True).encode()).hexdigest()
    out_path = Path(out) if out is not None else None
    state = None
    if out_path is not None:
        _clean_temporaries(out_path)
        if resume:
            state = _load_checkpoint(_checkpoint_path(out_path), identity)
    resumed = state.generation + 1 if state is not None else 0
    checked = state is not None

    with _Simulator(fitted, rec, names, pinned, executor, workers) as simulator:
        def simulate(theta: np.ndarray, ss: np.random.SeedSequence) -> np.ndarray:
            nonlocal checked
            stats = simulator(theta, ss)
            if not checked:
                _check_statistics(rec, stats)
                checked = True
            return stats

        last: list[SMCState | None] = [state]

        def after_generation(s: SMCState) -> None:
            last[0] = s
            if out_path is not None:
                _save_checkpoint(_checkpoint_path(out_path), identity, s)
            if on_generation is not None:
                on_generation(s.history[-1])

        try:
            state = abc_smc(prior, simulate, observed, sd, particles=int(particles), seed=int(seed), alpha=alpha,
                            max_generations=max_generations, min_acceptance=min_acceptance, state=state,
                            on_generation=after_generation)
        except CalibrationError as err:
            if not (approximate and last[0] is not None and last[0].generation > 0):
                raise CalibrationError(f"{err.message}: {_advice(rec, last[0], observed, sd)}",
                                       Location(str(rec.path or "<record>"))) from None
            state = last[0]
            state.finished, state.stop_reason = True, err.message
        if not (state.epsilon == 0.0 and state.beta == 1.0) and not approximate:
            if out_path is not None:
                _checkpoint_path(out_path).unlink(missing_ok=True)
            raise CalibrationError(
                f"the fit stopped short of matching the record (tolerance {state.epsilon:.3g}, temperature "
                f"{(1 / state.beta) if state.beta > 0 else math.inf:.3g}): {state.stop_reason}; "
                f"{_advice(rec, state, observed, sd)}; --approximate keeps the posterior reached",
                Location(str(rec.path or "<record>")))
        pop = state.population
        checks, samples = _predictive(rec, simulator, names, pop.theta, pop.weights, int(seed),
                                      min(PREDICTIVE_RUNS, max(1000, int(particles))))
    final = state.epsilon == 0.0 and state.beta == 1.0
    result = CalibrationResult(
        scenario=loaded.id, scenario_sha256=loaded.sha256, record=str(rec.path or "<record>"), record_sha256=rec.sha256,
        seed=int(seed), particles=int(pop.weights.size), names=names, theta=pop.theta, weights=pop.weights,
        parameters=_summaries(names, pop.theta, pop.weights, ranges),
        generations=[g.to_dict() for g in state.history], checks=checks, predictive=samples, final=final,
        stop_reason=state.stop_reason, pinned=pinned, resumed_generations=resumed, posterior=None,
        elapsed_s=0.0, executor=executor)
    if out_path is not None:
        write_posterior(out_path, names, pop.theta, pop.weights, result.metadata())
        _checkpoint_path(out_path).unlink(missing_ok=True)
        result.posterior = str(out_path)
    result.elapsed_s = time.perf_counter() - started
    return result


def _advice(record: Record, state: SMCState | None, observed: np.ndarray, sd: np.ndarray) -> str:
    """What to change when nothing is accepted: the observations the particles miss most."""
    hint = ""
    if state is not None:
        misfit = np.abs(state.population.stats - observed)
        scale = np.where(np.isnan(sd), state.scale, sd)
        worst = np.argsort(-(state.population.weights @ (misfit / scale)))[:3]
        hint = " (farthest from the simulations: " + ", ".join(
            f"{record.observations[j].id} observed {observed[j]:g}, simulated mean "
            f"{float(state.population.weights @ state.population.stats[:, j]):.3g}" for j in worst) + ")"
    return ("the record is out of the model's reach at this tolerance; give the observations that must match "
            f"exactly an sd or widen the sd of the farthest{hint}, or raise --particles")
