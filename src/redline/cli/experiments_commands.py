"""Experiment commands: ``sweep``, ``sensitivity``, ``discover``."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from redline.cli.app import app
from redline.cli.common import (
    POSTERIOR,
    PRIOR,
    choose_posterior,
    console,
    emit_json,
    handle_errors,
    number_table,
    out_console,
    parse_assignments,
    parse_numbers,
)
from redline.errors import ParameterError

__all__ = ["sweep", "sensitivity", "discover"]

JSON = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")


def _vary(items: list[str] | None) -> dict | None:
    if not items:
        return None
    chosen: dict[str, tuple[float, float] | None] = {}
    for item in items:
        if "=" in item:
            name, text = (x.strip() for x in item.split("=", 1))
            parts = text.split(":")
            try:
                lo, hi = (float(p) for p in parts)
            except ValueError:
                raise ParameterError(f"--vary expects NAME or NAME=LOW:HIGH, got '{item}'") from None
            chosen[name] = (lo, hi)
        else:
            chosen[item.strip()] = None
    return chosen


def _strategies(items: list[str] | None) -> dict | None:
    if not items:
        return None
    return {actor: [s.strip() for s in names.split(",") if s.strip()]
            for actor, names in parse_assignments(items, "--strategy").items()}


@app.command()
@handle_errors
def sweep(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    design: str = typer.Option("lhs", "--design", help="lhs | sobol | morris | factorial."),
    samples: int = typer.Option(64, "--samples", help="LHS points; Sobol base N (power of two); Morris trajectories; factorial levels."),
    runs: int = typer.Option(1000, "--runs", help="Runs (stochastic futures) per experiment."),
    executor: str = typer.Option("serial", "--executor", help="serial | processes | dask."),
    address: Optional[str] = typer.Option(None, "--address", help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes for processes / local dask (default: CPU count)."),
    store: Path = typer.Option(..., "--store", help="DuckDB results file; the same command resumes an interrupted sweep."),
    seed: int = typer.Option(0, "--seed", help="Seed of the design and of every experiment's SeedSequence."),
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Weeks to simulate (default: the scenario's)."),
    vary: Optional[list[str]] = typer.Option(None, "--vary", help="Vary only NAME, or NAME=LOW:HIGH (repeatable; default: every uncertainty and lever)."),
    constant: Optional[list[str]] = typer.Option(None, "--constant", help="Hold NAME=VALUE fixed (repeatable)."),
    strategy: Optional[list[str]] = typer.Option(None, "--strategy", help="ACTOR=s1,s2: strategies to cross (default: all)."),
    per_run: bool = typer.Option(False, "--per-run", help="Also store the week of every outcome of every run."),
    parquet: Optional[Path] = typer.Option(None, "--parquet", help="Also export every table to DIR/<table>.parquet."),
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    json_out: bool = JSON,
) -> None:
    """Run a design of experiments over a scenario's uncertainties, levers and strategies."""
    from redline.experiments import perform_experiments
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    post = choose_posterior(loaded, posterior, prior, quiet=json_out)
    started = time.perf_counter()
    ds = perform_experiments(
        loaded, design, samples, runs=runs, seed=seed, horizon=horizon, uncertainties=_vary(vary),
        constants=parse_numbers(constant, "--constant"), strategies=_strategies(strategy), executor=executor, workers=workers,
        address=address, store=store, per_run=per_run, progress=sys.stderr.isatty(), posterior=post)
    elapsed = time.perf_counter() - started
    exported = []
    if parquet is not None:
        from redline.results.store import ResultsStore

        with ResultsStore.open(store) as st:
            exported = [str(p) for p in st.export_parquet(parquet)]
    failed = int((ds["status"].values == "failed").sum())
    means = {o: float(ds["probability"].sel(outcome=o).mean()) for o in ds["outcome"].values.tolist()}
    payload = {
        "scenario": ds.attrs["scenario"], "scenario_sha256": ds.attrs["scenario_sha256"], "design": ds.attrs["design"],
        "samples": ds.attrs["samples"], "seed": ds.attrs["seed"], "runs": ds.attrs["runs"],
        "horizon": ds.attrs["horizon"], "experiments": int(ds.sizes["experiment"]),
        **({"posterior": post.describe()} if post is not None else {}),
        "resumed": int(ds.attrs["resumed_experiments"]), "failed_experiments": failed,
        "factors": [f[0] for f in __import__("json").loads(ds.attrs["factors"])],
        "strategy_actors": __import__("json").loads(ds.attrs["strategy_actors"]),
        "executor": executor, "store": str(store), "parquet": exported,
        "mean_probability": means, "elapsed_s": elapsed,
        "experiments_per_s": (ds.sizes["experiment"] - ds.attrs["resumed_experiments"]) / elapsed if elapsed else None,
    }
    if json_out:
        emit_json(payload)
        return
    rows = []
    for o in ds["outcome"].values.tolist():
        p = ds["probability"].sel(outcome=o).values
        rows.append((o, f"{means[o]:.3f}", f"{float(p.min()):.3f}" if p.size else "-",
                     f"{float(p.max()):.3f}" if p.size else "-"))
    out_console.print(number_table(
        f"{payload['scenario']}: {payload['experiments']} experiments ({design}, {runs} runs each)", "outcome",
        ["mean P", "min P", "max P"], rows))
    note = f" ({payload['resumed']} resumed)" if payload["resumed"] else ""
    out_console.print(f"stored in {store}{note}; {failed} failed experiment(s); {elapsed:.1f} s")


def _figures_dir(store: Path, out: Path | None, kind: str) -> Path:
    return out if out is not None else store.parent / f"{store.stem}-{kind}"


@app.command()
@handle_errors
def sensitivity(
    store: Path = typer.Argument(..., help="A results store written by `redline sweep`."),
    outcome: str = typer.Option(..., "--outcome", help="Outcome whose probability is analysed."),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory for figures (default: next to the store)."),
    json_out: bool = JSON,
) -> None:
    """Sensitivity indices of an outcome's probability, by the method the sweep's design allows:
    Sobol S1/ST (--design sobol), Morris mu*/sigma (morris), RBD-FAST first-order S1 (lhs, factorial).
    Warns when the sample is too small for the method."""
    from redline.analysis.sensitivity import analyse_store, plot_sensitivity

    result = analyse_store(store, outcome)
    figure = plot_sensitivity(result, _figures_dir(store, out, "sensitivity"))
    result["figure"] = str(figure) if figure else None
    if json_out:
        emit_json(result)
        return
    for group in result["groups"]:
        table = Table(title=f"{result['method']} indices of P({outcome}) — {group['label']}")
        table.add_column("factor")
        keys = result["columns"]
        for k in keys:
            table.add_column(k, justify="right")
        for row in group["indices"]:
            table.add_row(row["factor"], *(("-" if row[k] is None else f"{row[k]:.3f}") for k in keys))
        out_console.print(table)
        if group.get("note"):
            out_console.print(group["note"])
        if group.get("warning"):
            console.print(f"warning: {group['warning']}", markup=False, highlight=False, soft_wrap=True)
    out_console.print(f"figure: {result['figure']}")


@app.command()
@handle_errors
def discover(
    store: Path = typer.Argument(..., help="A results store written by `redline sweep`."),
    outcome: str = typer.Option(..., "--outcome", help="Outcome whose probability defines the cases of interest."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Cases of interest: P(outcome) >= T (default: the upper quartile)."),
    below: bool = typer.Option(False, "--below", help="Cases of interest are P(outcome) < T instead."),
    min_coverage: float = typer.Option(0.5, "--min-coverage", help="Pick the densest box on the peeling trajectory with at least this coverage."),
    max_boxes: int = typer.Option(3, "--boxes", help="Most boxes to find (covering)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory for figures (default: next to the store)."),
    json_out: bool = JSON,
) -> None:
    """Scenario discovery: PRIM boxes (Friedman & Fisher 1999) and a CART alternative."""
    from redline.analysis.discovery import discover_store, plot_discovery

    result = discover_store(store, outcome, threshold=threshold, below=below, min_coverage=min_coverage,
                            max_boxes=max_boxes)
    figure = plot_discovery(result, _figures_dir(store, out, "discovery"))
    result["figure"] = str(figure) if figure else None
    if json_out:
        emit_json(result)
        return
    out_console.print(f"cases of interest: P({outcome}) {'<' if below else '>='} {result['threshold']:.3f} "
                      f"({result['cases']} of {result['experiments']} experiments)")
    for k, box in enumerate(result["prim"]["boxes"], 1):
        table = Table(title=f"PRIM box {k}: coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass {box['mass']:.2f}")
        table.add_column("factor")
        table.add_column("restricted to")
        for name, lim in box["limits"].items():
            table.add_row(name, lim["text"])
        out_console.print(table)
    if not result["prim"]["boxes"]:
        out_console.print(result["prim"].get("note") or "PRIM found no box")
    for k, box in enumerate(result["cart"]["boxes"], 1):
        out_console.print(f"CART leaf {k}: {box['rule']} (coverage {box['coverage']:.2f}, density {box['density']:.2f})")
    out_console.print(f"figure: {result['figure']}")
