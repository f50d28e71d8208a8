"""What a report is drawn from: a run or comparison directory, a sweep store or a backtest,
read into one :class:`ReportInput` whose optional parts become optional report sections."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from redline.errors import RedlineError
from redline.results import load_result
from redline.results.store import ResultsStore
from redline.scenario import load_scenario, scenario_from_text

__all__ = ["ReportInput", "load_input", "from_datasets", "with_analyses"]


@dataclass
class ReportInput:
    """Everything a report can show; every part but ``kind`` may be empty.

    Attributes
    ----------
    kind: ``run``, ``compare``, ``sweep`` or ``backtest``.
    summary: the result's JSON summary (``run --json`` / ``compare --json`` payload, or the store's).
    datasets: strategy (or ``run``) -> result Dataset, for probabilities, curves and fan charts.
    loaded: the scenario, when it can be found, for the picture and the provenance table.
    sensitivity: output -> {input: index} (e.g. Sobol total-order indices).
    prim_boxes: list of ``{"limits": {input: [lo, hi]}, "coverage", "density", "label"}``.
    input_ranges: input -> (low, high), the full ranges PRIM boxes sit in.
    calibration: ``{"forecasts": [...], "outcomes": [...], "labels": [...], "scores": {...}}``.
    posterior: a :class:`redline.calibrate.Posterior` (a calibration's weighted particles, with its
        generations and posterior predictive checks in its metadata).
    notes: warnings to print at the top of the report (e.g. scenario changed since the run).
    """

    kind: str
    summary: dict[str, Any] = field(default_factory=dict)
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)
    loaded: Any = None
    sensitivity: dict[str, dict[str, float]] | None = None
    prim_boxes: list[dict[str, Any]] | None = None
    input_ranges: dict[str, tuple[float, float]] | None = None
    calibration: dict[str, Any] | None = None
    posterior: Any = None
    notes: list[str] = field(default_factory=list)
    source: str = ""


def _scenario_for(summary: dict[str, Any], notes: list[str], base: Path | None = None):
    """Find the scenario a result came from: its recorded path, else its bundled id."""
    candidates = []
    if summary.get("scenario_path"):
        candidates.append(Path(summary["scenario_path"]))
    if summary.get("scenario"):
        candidates.append(summary["scenario"])
    for ref in candidates:
        try:
            loaded = load_scenario(ref)
        except (RedlineError, OSError):
            continue
        sha = summary.get("scenario_sha256")
        if sha and sha != loaded.sha256:
            notes.append(f"the scenario file '{ref}' has changed since this result was computed "
                         "(hash differs); the picture and provenance show the current file")
        return loaded
    if candidates:
        notes.append("the scenario this result came from was not found; no picture or provenance table")
    return None


def from_datasets(datasets: dict[str, xr.Dataset], summary: dict[str, Any], *, kind: str | None = None,
                  loaded: Any = None, **extra: Any) -> ReportInput:
    """A report input from in-memory results (the web app and ``redline demo`` use this)."""
    notes: list[str] = []
    if loaded is None:
        loaded = _scenario_for(summary, notes)
    kind = kind or summary.get("kind") or ("compare" if len(datasets) > 1 else "run")
    return ReportInput(kind=kind, summary=summary, datasets=datasets, loaded=loaded, notes=notes, **extra)


def _optional_parts(summary: dict[str, Any]) -> dict[str, Any]:
    """Sensitivity, PRIM and calibration blocks when a summary carries them (sweeps, backtests)."""
    parts: dict[str, Any] = {}
    sens = summary.get("sensitivity")
    if isinstance(sens, dict) and sens:
        # accept {output: {input: x}} or {output: {"ST": {input: x}, ...}} (SALib-style)
        clean = {}
        for out, block in sens.items():
            if isinstance(block, dict) and isinstance(block.get("ST"), dict):
                block = block["ST"]
            if isinstance(block, dict):
                clean[out] = {k: float(v) for k, v in block.items() if isinstance(v, (int, float))}
        parts["sensitivity"] = {k: v for k, v in clean.items() if v} or None
    boxes = summary.get("prim_boxes") or summary.get("prim") or summary.get("boxes")
    if isinstance(boxes, dict):
        boxes = [boxes]
    if isinstance(boxes, list) and boxes and all(isinstance(b, dict) and "limits" in b for b in boxes):
        parts["prim_boxes"] = boxes
    ranges = summary.get("input_ranges")
    if isinstance(ranges, dict):
        parts["input_ranges"] = {k: tuple(v) for k, v in ranges.items()}
    cal = summary.get("calibration")
    if not isinstance(cal, dict):  # e.g. the backtest's own table of bins: rebuild from the questions
        cal = None
    if cal is None and isinstance(summary.get("questions"), list):
        rows = [q for q in summary["questions"] if isinstance(q, dict)
                and q.get("outcome") is not None and q.get("probability") is not None]
        if rows:
            cal = {"forecasts": [q["probability"] for q in rows], "outcomes": [bool(q["outcome"]) for q in rows],
                   "labels": [str(q.get("id", i)) for i, q in enumerate(rows)],
                   "scores": summary.get("scores") or {k: summary[k] for k in ("brier", "log_score") if k in summary}}
    if isinstance(cal, dict) and cal.get("forecasts"):
        parts["calibration"] = cal
    return parts


def load_input(path: str | Path) -> ReportInput:
    """Read a result directory (``run``/``compare``/``backtest`` summary.json), or a sweep store
    (a DuckDB file), into a :class:`ReportInput`.

    Raises
    ------
    RedlineError
        when the path is neither.
    """
    path = Path(path)
    if path.is_file() and _is_posterior(path):
        return _load_posterior(path)
    if path.is_dir():
        summary, datasets = load_result(path)
        order = summary.get("strategies")
        if isinstance(order, dict) and set(order) == set(datasets):  # the order the user asked for, not A-Z
            datasets = {name: datasets[name] for name in order}
        notes: list[str] = []
        loaded = _scenario_for(summary, notes)
        kind = summary.get("kind") or ("compare" if len(datasets) > 1 else "run")
        return ReportInput(kind=kind, summary=summary, datasets=datasets, loaded=loaded, notes=notes,
                           source=str(path), posterior=_posterior_used(summary, notes), **_optional_parts(summary))
    if path.is_file() and path.suffix == ".json":
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RedlineError(f"{path}: not a readable JSON result ({err})") from None
        if not isinstance(summary, dict):
            raise RedlineError(f"{path}: a JSON result must be an object")
        notes = []
        loaded = _scenario_for(summary, notes)
        return ReportInput(kind=summary.get("kind", "backtest"), summary=summary, loaded=loaded, notes=notes,
                           source=str(path), posterior=_posterior_used(summary, notes), **_optional_parts(summary))
    if path.is_file():
        return _load_store(path)
    raise RedlineError(f"'{path}' is not a result directory, a JSON result or a sweep store")


def _load_store(path: Path) -> ReportInput:
    """A sweep store written by ``redline sweep`` (:mod:`redline.results.store`): outcome probabilities
    across the design per strategy combination (attach sensitivity indices and PRIM boxes with
    :func:`with_analyses`)."""
    try:
        store = ResultsStore.open(path)
    except RedlineError:
        raise
    except Exception as err:  # not DuckDB, or not a store: say so in one line
        raise RedlineError(f"'{path}' is not a result directory, a JSON result or a sweep store ({err})") from None
    with store as st:
        identity = dict(st.identity)
        scenario_path, scenario_text = st.scenario_source()
        outcomes = st.table("outcomes")
        design = st.table("design")
        names = st.outcome_names()
    d = identity.get("design")
    if isinstance(d, str):
        d = json.loads(d)
    notes = ["a sweep: each probability is the mean over the design's experiments, and its interval the 5–95% "
             "range across experiments (not a sampling interval)"]
    strategy_cols = [c for c in design.columns if str(c).startswith("strategy:")]
    label = design.set_index("experiment")[strategy_cols].astype(str).agg(
        lambda r: ", ".join(f"{c.split(':', 1)[1]}={v}" for c, v in r.items()), axis=1) if strategy_cols else None
    blocks: dict[str, dict] = {}
    merged = outcomes.assign(label=outcomes["experiment"].map(label) if label is not None else "all experiments")
    for lbl, frame in merged.groupby("label", sort=False):
        block = {}
        for outcome in names:
            p = frame.loc[frame["outcome"] == outcome, "probability"].to_numpy(float)
            p = p[~np.isnan(p)]
            weeks = frame.loc[frame["outcome"] == outcome, "median_week"].to_numpy(float)
            weeks = weeks[~np.isnan(weeks)]
            block[outcome] = {"probability": float(p.mean()) if p.size else None,
                              "ci95": [float(np.percentile(p, 5)), float(np.percentile(p, 95))] if p.size else [None, None],
                              "median_week": float(np.median(weeks)) if weeks.size else None}
        blocks[str(lbl)] = block
    summary: dict[str, Any] = {"kind": "sweep", "scenario": identity.get("scenario"),
                               "scenario_sha256": identity.get("scenario_sha256"),
                               "runs": int(identity["runs"]) if identity.get("runs") else None,
                               "horizon": int(identity["horizon"]) if identity.get("horizon") else None,
                               "seed": (d or {}).get("seed"), "strategies": blocks,
                               "experiments": int(len(design))}
    factors = (d or {}).get("factors") or []
    ranges = {f[0]: (float(f[2]), float(f[3])) for f in factors if len(f) >= 4}
    loaded = None
    if scenario_text is not None:  # the scenario as the sweep ran it, kept in the store
        try:
            loaded = scenario_from_text(scenario_text, name=scenario_path or f"{path} (scenario)")
        except RedlineError as err:
            notes.append(f"the scenario kept in the store no longer loads ({err})")
    if loaded is None:
        summary["scenario_path"] = scenario_path
        loaded = _scenario_for(summary, notes)
    elif summary.get("scenario_sha256") and loaded.sha256 != summary["scenario_sha256"]:
        notes.append("the scenario kept in the store differs from the one the sweep's identity names (hash differs)")
    if scenario_path:
        summary["scenario_path"] = scenario_path
    return ReportInput(kind="sweep", summary=summary, loaded=loaded, notes=notes, source=str(path),
                       input_ranges=ranges or None)


def with_analyses(data: ReportInput, analyses: dict[str, Any]) -> ReportInput:
    """``data`` with computed analyses attached: ``sensitivity``, ``prim_boxes`` and ``notes`` as
    returned by :func:`redline.analysis.sweep_analyses` (the report draws them, it does not run them)."""
    return replace(data, sensitivity=analyses.get("sensitivity") or data.sensitivity,
                   prim_boxes=analyses.get("prim_boxes") or data.prim_boxes,
                   notes=[*data.notes, *analyses.get("notes", [])])



def _is_posterior(path: Path) -> bool:
    """Whether a file is a Parquet posterior (its first bytes are Parquet's magic number)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def _load_posterior(path: Path) -> ReportInput:
    """A posterior written by ``redline calibrate``: priors and posteriors, generations, checks."""
    from redline.calibrate import read_posterior

    post = read_posterior(path)
    meta = post.metadata
    summary = {k: meta.get(k) for k in ("scenario", "scenario_sha256", "seed", "particles", "record", "version")}
    notes: list[str] = []
    loaded = _scenario_for(summary, notes)
    if not meta.get("final", True):
        notes.append(f"this posterior stopped short of matching the record exactly: {meta.get('stop_reason')}")
    return ReportInput(kind="posterior", summary=summary, loaded=loaded, notes=notes, source=str(path), posterior=post)


def _posterior_used(summary: dict[str, Any], notes: list[str]):
    """The posterior a result's runs drew their parameters from, when its file is still there."""
    used = summary.get("posterior")
    if not isinstance(used, dict) or not used.get("path"):
        return None
    from redline.calibrate import read_posterior

    try:
        post = read_posterior(used["path"])
    except RedlineError:
        notes.append(f"the posterior these runs used ({used['path']}) cannot be read; its figures are left out")
        return None
    if used.get("sha256") and post.sha256 != used["sha256"]:
        notes.append(f"the posterior file {used['path']} has changed since these runs; its figures show the current file")
    return post
