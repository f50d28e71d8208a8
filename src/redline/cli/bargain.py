"""``redline bargain``: bargaining / expected-utility models on an actors table or DEU III."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from redline.cli.app import app
from redline.cli.common import emit_json, handle_errors, out_console
from redline.errors import ParameterError

__all__ = ["bargain"]


@app.command()
@handle_errors
def bargain(
    file: Optional[Path] = typer.Argument(None, help="Actors table (CSV/TSV/YAML): actor, position, salience, capability[, status_quo]."),
    model: str = typer.Option("bdm", "--model", "-m", help="mean | median | nash | bdm | fitted (or full names)."),
    rounds: int = typer.Option(10, "--rounds", help="Rounds of the expected-utility model."),
    q: float = typer.Option(1.0, "--q", help="Expected-utility model: probability the status quo persists (Q)."),
    salience_scale: Optional[float] = typer.Option(None, "--salience-scale", help="Upper end of the salience scale (default 1; e.g. 100)."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="Score every model on a bundled data set: deu3."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples for the benchmark CIs."),
    seed: int = typer.Option(20261125, "--seed", help="Seed of the benchmark bootstrap and CV folds."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Predict a collective decision from actors' positions, saliences and capabilities."""
    from redline import bargaining
    from redline.bargaining.benchmark import deu3_benchmark

    if benchmark is not None:
        if benchmark.lower() != "deu3":
            raise ParameterError(f"unknown benchmark '{benchmark}'; known: deu3")
        if n_boot < 100:
            raise ParameterError(f"--n-boot must be at least 100, got {n_boot}")
        result = deu3_benchmark(n_boot=n_boot, seed=seed)
        if json_out:
            emit_json(result)
            return
        from rich.table import Table

        table = Table(title=f"DEU III: MAE on {result['n_issues']} issues (0-100 scale), bootstrap 95% CI")
        for col in ("model", "n", "MAE", "95% CI", "MAE common", "vs weighted mean"):
            table.add_column(col)
        for m in result["models"] + result["baselines"]:
            diff = m.get("diff_vs_weighted_mean")
            table.add_row(m["model"], str(m["n_issues"]), f"{m['mae']:.2f}",
                          f"{m['ci95'][0]:.2f}–{m['ci95'][1]:.2f}", f"{m['mae_common']:.2f}",
                          "" if diff is None else f"{diff:+.2f} [{m['diff_ci95'][0]:+.2f}, {m['diff_ci95'][1]:+.2f}]")
        out_console.print(table)
        return
    if file is None:
        raise ParameterError("give an actors table FILE or --benchmark deu3")
    fn = bargaining.model_function(model)
    actors = bargaining.read_actors(file, salience_scale=salience_scale)
    options = {}
    if fn is bargaining.expected_utility.predict:
        if rounds < 0:
            raise ParameterError(f"--rounds must be non-negative, got {rounds}")
        options = dict(rounds=rounds, q=q)
    result = fn(actors, **options)
    payload = result.to_dict(actors.names)
    payload["prediction"] = float(result.prediction[0])
    if result.rounds is not None:
        payload["rounds"] = [
            {"round": k, "median": float(result.round_medians[k, 0]), "mean": float(result.round_means[k, 0]),
             "positions": dict(zip(actors.names, result.rounds[k, 0].tolist()))}
            for k in range(result.rounds.shape[0])
        ]
    payload["file"] = str(file)
    payload["actors"] = list(actors.names)
    if json_out:
        emit_json(payload)
        return
    out_console.print(f"{result.model}: predicted outcome [bold]{payload['prediction']:.3f}[/bold]")
    if result.rounds is not None:
        from rich.table import Table

        table = Table(title="rounds (salience x capability weighted median and mean)")
        for col in ("round", "median", "mean"):
            table.add_column(col)
        for r in payload["rounds"]:
            table.add_row(str(r["round"]), f"{r['median']:.3f}", f"{r['mean']:.3f}")
        out_console.print(table)
