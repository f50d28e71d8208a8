"""The analyses a sweep's report shows: sensitivity indices and the densest PRIM box per outcome.

Computed here, from the store, and handed to the report (:func:`redline.report.inputs.with_analyses`):
the report draws analyses, it does not run them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from redline.analysis.discovery import discover_store
from redline.analysis.sensitivity import analyse_store
from redline.errors import RedlineError
from redline.results.store import ResultsStore

__all__ = ["sweep_analyses"]


def sweep_analyses(store: str | Path) -> dict[str, Any]:
    """Per outcome of the sweep in ``store``: sensitivity indices (total-order where the design
    allows, else its first column) and the densest PRIM box.

    Returns ``sensitivity`` (label -> {factor: index}), ``prim_boxes`` (at most 4 of
    ``{limits, coverage, density, label}``) and ``notes`` (analyses that could not run, and why).
    """
    with ResultsStore.open(store) as st:
        names = st.outcome_names()
    sensitivity: dict[str, dict[str, float]] = {}
    boxes: list[dict] = []
    notes: list[str] = []
    for outcome in names:
        try:
            result = analyse_store(store, outcome)
        except RedlineError as err:
            notes.append(f"sensitivity of {outcome}: {err}")
            continue
        column = "ST" if "ST" in result["columns"] else result["columns"][0]
        for group in result["groups"]:
            values = {r["factor"]: r[column] for r in group["indices"]
                      if r.get(column) is not None and np.isfinite(r[column])}
            if values and any(abs(v) > 1e-9 for v in values.values()):
                key = outcome if len(result["groups"]) == 1 else f"{outcome} ({group['label']})"
                sensitivity[key + f" [{column}]"] = values
        try:
            found = discover_store(store, outcome)
        except RedlineError as err:
            notes.append(f"scenario discovery for {outcome}: {err}")
            continue
        for k, box in enumerate(found.get("prim", {}).get("boxes", [])[:1], 1):  # the densest box per outcome
            limits = {n: [lim["low"], lim["high"]] for n, lim in box["limits"].items()
                      if lim.get("low") is not None and lim.get("high") is not None}
            if limits:
                boxes.append({"limits": limits, "coverage": box["coverage"], "density": box["density"],
                              "label": f"P({outcome}) ≥ {found['threshold']:.2f}, box {k}"})
    return {"sensitivity": sensitivity or None, "prim_boxes": boxes[:4] or None, "notes": notes}
