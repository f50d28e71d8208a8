"""Analysis of simulation results: summaries, comparisons, cumulative probabilities."""
from __future__ import annotations

from redline.analysis.summary import (
    cumulative_incidence,
    outcome_summary,
    paired_difference,
    state_summary,
    summarize,
    wilson_interval,
)

__all__ = [
    "cumulative_incidence",
    "outcome_summary",
    "paired_difference",
    "state_summary",
    "summarize",
    "wilson_interval",
]
