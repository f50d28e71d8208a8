"""``redline calibrate``: fit a scenario's uncertainties to a dated record (ABC-SMC)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from redline.cli.app import app
from redline.cli.common import console, emit_json, handle_errors, out_console, parse_numbers

__all__ = ["calibrate"]


@app.command()
@handle_errors
def calibrate(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    record: Path = typer.Option(..., "--record", help="The record: dated observations (and events) up to an origin."),
    out: Path = typer.Option(..., "--out", help="The posterior file to write (Parquet; e.g. NAME.posterior.parquet)."),
    particles: int = typer.Option(4000, "--particles", min=10, max=1_000_000, help="Accepted particles per generation."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every random number."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="Pin a parameter: NAME=VALUE (not calibrated)."),
    executor: str = typer.Option("serial", "--executor", help="serial, processes or dask (same numbers on each)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Workers for processes/dask."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore a checkpoint left by an interrupted calibration."),
    approximate: bool = typer.Option(False, "--approximate",
                                     help="Keep a posterior that stopped short of matching the record exactly."),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
) -> None:
    """Fit the scenario's uncertainties to a record by ABC-SMC; write the posterior (weighted particles)."""
    from redline.calibrate import calibrate as calibrate_api
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    pinned = parse_numbers(param, "--param")
    def progress(g) -> None:
        if not json_out:
            console.print(f"generation {g.generation}: tolerance {g.epsilon:.3g}, temperature "
                          f"{g.temperature:.3g}, acceptance {g.acceptance_rate:.3f}, ESS {g.ess:,.0f}, "
                          f"{g.simulations:,} simulations, {g.seconds:.1f} s", highlight=False)

    result = calibrate_api(loaded, record, particles=particles, seed=seed, out=out, params=pinned, executor=executor,
                           workers=workers, resume=not fresh, approximate=approximate,
                           on_generation=progress)
    payload = result.to_dict()
    if json_out:
        emit_json(payload)
        return
    if result.resumed_generations:
        out_console.print(f"resumed after generation {result.resumed_generations - 1} from a checkpoint")
    table = Table(title=f"{loaded.id}: posterior from {record.name} ({result.particles:,} particles, seed {seed})")
    for col in ("parameter", "prior", "mean", "median", "90% interval"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, p in result.parameters.items():
        table.add_row(name, f"[{p['prior'][0]:.4g}, {p['prior'][1]:.4g}]", f"{p['mean']:.4g}", f"{p['median']:.4g}",
                      f"[{p['ci90'][0]:.4g}, {p['ci90'][1]:.4g}]")
    out_console.print(table)
    checks = Table(title="Posterior predictive checks (fresh runs from the posterior)")
    for col in ("observation", "observed", "predictive mean", "90% interval", "within"):
        checks.add_column(col, justify="left" if col == "observation" else "right")
    for oid, c in result.checks.items():
        interval = "-" if c["ci90"] is None else f"[{c['ci90'][0]:.4g}, {c['ci90'][1]:.4g}]"
        mean = "-" if c["predictive_mean"] is None else f"{c['predictive_mean']:.4g}"
        checks.add_row(oid, f"{c['observed']:.4g}", mean, interval, "yes" if c["within"] else "[red]no[/red]")
    out_console.print(checks)
    if not result.final:
        out_console.print(f"[yellow]not the exact target[/yellow]: {result.stop_reason}; the posterior is approximate "
                          "(widen sd or raise --particles)")
    out_console.print(f"wrote {result.posterior} in {result.elapsed_s:.1f} s "
                      f"({len(result.generations)} generations, {sum(g['simulations'] for g in result.generations):,} "
                      "simulated histories)")
