"""Results: summaries of simulated runs, result files on disk, and the sweep store.

* :mod:`redline.results.summary` — outcome probabilities with Wilson intervals, state quantiles,
  paired differences, cumulative incidence;
* :mod:`redline.results.files` — a result directory (netCDF + ``summary.json``) written atomically;
* :mod:`redline.results.store` — the DuckDB store a sweep writes and resumes from.

This layer sits above the engine (it reads its Datasets) and below the workflows.
"""
from __future__ import annotations

from redline.results.files import (
    atomic_write_bytes,
    atomic_write_text,
    check_out_dir,
    load_result,
    save_result,
    to_jsonable,
)
from redline.results.store import RESULT_TABLES, ResultsStore, summarise_runs
from redline.results.summary import (
    Z95,
    check_failures,
    cumulative_incidence,
    outcome_summary,
    paired_difference,
    state_summary,
    summarize,
    wilson_interval,
)

__all__ = [
    "RESULT_TABLES",
    "ResultsStore",
    "Z95",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_failures",
    "check_out_dir",
    "cumulative_incidence",
    "load_result",
    "outcome_summary",
    "paired_difference",
    "save_result",
    "state_summary",
    "summarise_runs",
    "summarize",
    "to_jsonable",
]
