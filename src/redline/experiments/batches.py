"""Batches: a sweep's experiments simulated together, several per engine call.

An engine call pays a fixed cost per simulated week (evaluating every expression, drawing every
random call site) whatever the number of runs, so a sweep of many small experiments spends most
of its time in that overhead (the flagship: ~2.4 s per call at 348 weeks, against ~1 ms per run).
:func:`plan_batches` cuts each strategy combination's experiments (consecutive design points, which
share their strategies) into batches of at most ``max(1, batch_runs // runs)`` experiments; a
batch is one :func:`redline.escalation.run` of ``runs × experiments`` runs, experiment ``k`` of the
batch owning the contiguous runs ``k·runs .. (k+1)·runs - 1`` and its sampled parameter values
repeated over them (``params`` arrays of one value per run, which the engine accepts).

The plan depends only on the design, ``runs`` and ``batch_runs`` (stored in the sweep's identity),
never on the executor or its workers, so every executor computes the same batches with the same
random numbers, and a resumed sweep recomputes an interrupted batch exactly.

Random streams: the batch starting at experiment ``s`` is seeded by ``SeedSequence(seed,
spawn_key=(s,))`` (the seed experiment ``s`` has alone), so a batch of one experiment is exactly the
engine run of that experiment; within a batch, run ``r`` of experiment ``s + k`` is run
``k·runs + r`` of the call. A run's random numbers are a function of its site, call and run
index alone (:class:`redline.escalation.common.block_streams`), so the
experiments of a batch are independent, identically distributed as if run alone; only which
draws each one gets depends on its place in the batch. Posterior draws stay per experiment
(seeded by the experiment's own ``SeedSequence(seed, spawn_key=(i,))``), independent of batching.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from redline.errors import ParameterError
from redline.experiments.design import Design

__all__ = ["BATCH_RUNS", "Batch", "plan_batches", "batch_parameters", "check_batch_runs"]

BATCH_RUNS = 8192
"""Most runs one batch simulates (unless a single experiment has more): bounds a worker's memory.

At 8,192 runs the flagship's engine holds ~125 MiB (attribution buffers and working state,
:func:`redline.escalation.common.memory_parts`) and the per-week overhead is already below a
quarter of the batch's time (measured: 2.6 s for 300 runs, 12 s for 10,000 runs, 348 weeks)."""


@dataclass(frozen=True)
class Batch:
    """Experiments ``start .. stop - 1`` (one strategy combination), simulated in one engine call."""

    start: int
    stop: int

    @property
    def experiments(self) -> range:
        return range(self.start, self.stop)

    def __len__(self) -> int:
        return self.stop - self.start


def check_batch_runs(batch_runs: Any) -> int:
    """``batch_runs`` as a positive int."""
    if isinstance(batch_runs, bool) or not isinstance(batch_runs, (int, np.integer)) or batch_runs < 1:
        raise ParameterError(f"batch_runs must be a positive whole number, got {batch_runs!r}")
    return int(batch_runs)


def plan_batches(design: Design, runs: int, batch_runs: int = BATCH_RUNS) -> list[Batch]:
    """The design's batches, in experiment order: each combination's points cut into runs of
    at most ``max(1, batch_runs // runs)`` experiments (the last of a combination may be shorter)."""
    per = max(1, check_batch_runs(batch_runs) // max(1, int(runs)))
    n = design.n_points
    batches = []
    for combo in range(len(design.strategy_combinations)):
        base = combo * n
        batches += [Batch(base + a, base + min(a + per, n)) for a in range(0, n, per)]
    return batches


def batch_parameters(per_experiment: list[dict[str, Any]], runs: int) -> dict[str, float | np.ndarray]:
    """One ``params`` mapping for a batch from each experiment's (scalars or arrays of ``runs``).

    A parameter with the same scalar in every experiment stays a scalar (so a batch of one
    experiment passes exactly that experiment's parameters); any other becomes one array of
    ``runs × experiments`` values, each experiment's value(s) over its own runs.
    """
    names = list(dict.fromkeys(name for params in per_experiment for name in params))
    out: dict[str, float | np.ndarray] = {}
    for name in names:
        missing = [k for k, params in enumerate(per_experiment) if name not in params]
        if missing:  # every experiment of a batch sets the same names (same factors, constants, posterior)
            raise ParameterError(f"experiment {missing[0]} of a batch does not set parameter {name}")
        values = [params[name] for params in per_experiment]
        if all(np.ndim(v) == 0 for v in values) and len({float(v) for v in values}) == 1:
            out[name] = float(values[0])
            continue
        parts = []
        for v in values:
            v = np.asarray(v, dtype=float)
            if v.ndim == 0:
                parts.append(np.full(runs, float(v)))
            elif v.shape == (runs,):
                parts.append(v)
            else:
                raise ParameterError(f"parameter {name}: per-run values must have {runs} values, got shape {v.shape}")
        out[name] = np.concatenate(parts)
    return out
