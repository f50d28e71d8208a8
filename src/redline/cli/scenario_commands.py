"""Scenario commands: ``demo``, ``list``, ``validate``, ``run``, ``compare``, ``trace``."""
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
from redline.limits import MAX_HORIZON, MAX_ROBUSTNESS_POINTS, MAX_RUNS

__all__ = ["demo", "list_scenarios", "validate", "run", "compare", "trace"]

JSON = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
SEED = typer.Option(0, "--seed", min=0, help="Seed of the experiment's SeedSequence.")
RUNS = typer.Option(10_000, "--runs", min=1, max=MAX_RUNS, help="Number of stochastic futures.")
HORIZON = typer.Option(None, "--horizon", min=1, max=MAX_HORIZON, help="Weeks to simulate (default: the scenario's).")
PARAM = typer.Option(None, "--param", help="Override an uncertainty or lever: NAME=VALUE (repeatable).")
STRATEGY = typer.Option(None, "--strategy", help="Give an actor a strategy: ACTOR=NAME (repeatable).")


def _status(message: str, quiet: bool):
    """A spinner on stderr for interactive use; silent in --json mode or when piped."""
    if quiet or not sys.stderr.isatty():
        from contextlib import nullcontext

        return nullcontext()
    return console.status(message)


@app.command("list")
@handle_errors
def list_scenarios(json_out: bool = JSON) -> None:
    """List the bundled scenarios."""
    from redline.scenario import bundled_scenarios, load_scenario

    rows = []
    for sid, path in bundled_scenarios().items():
        loaded = load_scenario(path)
        meta = loaded.spec.meta
        rows.append({"id": sid, "title": meta.title, "as_of": meta.as_of.isoformat(), "horizon": meta.horizon,
                     "actors": len(loaded.spec.actors), "strategies": sorted(loaded.spec.strategies)})
    if json_out:
        emit_json({"scenarios": rows})
        return
    table = Table(title="Bundled scenarios")
    for col in ("id", "title", "as of", "horizon", "strategies"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["title"], r["as_of"], f"{r['horizon']} weeks", ", ".join(r["strategies"]))
    out_console.print(table)


@app.command()
@handle_errors
def validate(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    strict: bool = typer.Option(False, "--strict", help="Treat elements with no source or assumption as errors."),
    json_out: bool = JSON,
) -> None:
    """Check a scenario: syntax, schema, references, expressions, provenance."""
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario, strict=strict)
    spec = loaded.spec
    counts = {k: len(getattr(spec, k)) for k in ("actors", "state", "actions", "processes", "red_lines", "outcomes",
                                                  "strategies", "uncertainties", "levers", "questions", "sources")}
    if json_out:
        emit_json({"scenario": loaded.id, "valid": True, "scenario_sha256": loaded.sha256, "counts": counts,
                   "warnings": loaded.warnings})
        return
    for w in loaded.warnings:
        console.print(f"warning: {w}", markup=False, highlight=False, soft_wrap=True)  # one line per warning
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)
    out_console.print(f"[green]ok[/green] {loaded.id}: {summary}; {len(loaded.warnings)} warning(s)")


@app.command()
@handle_errors
def run(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    runs: int = RUNS,
    horizon: Optional[int] = HORIZON,
    seed: int = SEED,
    strategy: Optional[list[str]] = STRATEGY,
    param: Optional[list[str]] = PARAM,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the result (netCDF + summary.json) to this directory."),
    trajectories: bool = typer.Option(False, "--trajectories", help="Keep every week's state (more memory)."),
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    json_out: bool = JSON,
) -> None:
    """Run a scenario as many stochastic futures; print outcome probabilities with 95% CIs."""
    from redline.results import summarize
    from redline.experiments.compare import simulate
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    _mention_warnings(loaded)
    if out is not None:
        from redline.results import check_out_dir

        check_out_dir(out)  # before minutes of simulation, not after
    strategies = parse_assignments(strategy, "--strategy")
    params = parse_numbers(param, "--param")
    post = choose_posterior(loaded, posterior, prior)
    with _status(f"simulating {runs:,} runs of {loaded.id}", json_out):
        ds = simulate(loaded, runs=runs, horizon=horizon, seed=seed, strategies=strategies, params=params,
                      trajectories=trajectories or out is not None, posterior=post)
    summary = summarize(ds)
    if post is not None:
        summary["posterior"] = post.describe()
    if out is not None:
        from redline.results import save_result

        save_result(out, {"run": ds}, {"kind": "run", **summary, "scenario_path": str(loaded.path)})
        summary["out"] = str(out)
    if json_out:
        emit_json(summary)
        return
    _print_outcomes(f"{loaded.id}: {runs:,} runs × {summary['horizon']} weeks, seed {seed}", {"": summary["outcomes"]})
    if summary["regimes"]:
        regimes = Table(title="Regimes")
        for col in ("regime", "P entered (95% CI)", "median first week", "share of weeks"):
            regimes.add_column(col, justify="right" if col != "regime" else "left")
        for name, r in summary["regimes"].items():
            regimes.add_row(name, f"{r['probability_entered']:.3f} ({r['ci95'][0]:.3f}–{r['ci95'][1]:.3f})",
                            "-" if r["median_first_week"] is None else f"{r['median_first_week']:.0f}",
                            f"{r['share_of_weeks']:.3f}")
        out_console.print(regimes)
    _print_mechanisms({"": (summary["red_lines"], summary["actions"])})
    _warn_clipped(loaded, summary["clipped_probabilities"], runs)
    table = Table(title="Final state")
    for col in ("variable", "mean", "p05", "p95"):
        table.add_column(col, justify="right" if col != "variable" else "left")
    for name, s in summary["final_state"].items():
        table.add_row(name, *(f"{s[k]:.4g}" if s[k] is not None else "-" for k in ("mean", "p05", "p95")))
    out_console.print(table)
    out_console.print(f"simulated in {summary['elapsed_s']:.2f} s"
                      + (f"; {summary['failed_runs']} failed run(s)" if summary["failed_runs"] else "")
                      + (f"; {summary['frozen_runs']:,} run(s) frozen early by an absorbing outcome"
                         if summary["frozen_runs"] else ""))
    if summary["failure"]:
        console.print(f"warning: {summary['failure']}", markup=False, highlight=False)


def _print_mechanisms(blocks: dict[str, tuple[dict, dict]]) -> None:
    """Per red line the share of runs in which it fired and was carried out (and mean firings),
    per action its mean count per run; one column per strategy (``""``: a single run)."""
    first_red, first_actions = next(iter(blocks.values()))

    def fired(r: dict) -> str:
        firings = "-" if r.get("mean_firings") is None else f"{r['mean_firings']:.2f}"
        return f"{r['fired']:.3f} / {r['enforced']:.3f} / {firings}"

    if first_red:
        out_console.print(number_table(
            "Red lines: share of runs fired / carried out, mean firings per run", "red line",
            [name or "fired / carried out / firings" for name in blocks],
            ([rid, *(fired(red[rid]) for red, _ in blocks.values())] for rid in first_red)))
    if first_actions:
        out_console.print(number_table(
            "Actions: mean times taken per run (share of runs taking it)", "action",
            [name or "mean (share)" for name in blocks],
            ([aid, *(f"{acts[aid]['mean_count']:.2f} ({acts[aid]['share_taken']:.3f})" for _, acts in blocks.values())]
             for aid in first_actions)))


def _mention_warnings(loaded) -> None:
    """The scenario's validate warnings, on stderr, before a run uses it (the first in full)."""
    if loaded.warnings:
        more = f" (and {len(loaded.warnings) - 1} more: redline validate)" if len(loaded.warnings) > 1 else ""
        console.print(f"warning: {loaded.warnings[0]}{more}", markup=False, highlight=False, soft_wrap=True)


def _warn_clipped(loaded, clipped: dict[str, int], runs: int, label: str = "") -> None:
    """One warning per probability expression that left [0, 1] during the runs, at its place."""
    for site, count in clipped.items():
        console.print(f"warning: {_site_location(loaded, site)}: probability {site} was outside [0, 1] in "
                      f"{count:,} run-week(s) of {runs:,} runs{label} and was clipped; see `redline validate`",
                      markup=False, highlight=False, soft_wrap=True)


def _site_location(loaded, site: str) -> str:
    path = tuple(int(p) if p.isdigit() else p for p in site.split("."))
    try:
        return str(loaded.document.locate(path))
    except Exception:  # noqa: BLE001 - a site the document cannot place: name the file
        return str(loaded.path or loaded.id)


def _print_outcomes(title: str, blocks: dict[str, dict]) -> None:
    outcomes = list(next(iter(blocks.values())))
    failed = {name: next(iter(block.values()), {}).get("failed_runs", 0) for name, block in blocks.items()}
    table = Table(title=title)
    table.add_column("outcome")
    for name in blocks:
        table.add_column(f"{name} P (95% CI)" if name else "P (95% CI)", justify="right")
        table.add_column("median week", justify="right")
    for o in outcomes:
        cells = []
        for block in blocks.values():
            s = block[o]
            cells.append(f"{s['probability']:.3f} ({s['ci95'][0]:.3f}–{s['ci95'][1]:.3f})")
            cells.append("-" if s["median_week"] is None else f"{s['median_week']:.0f}")
        table.add_row(o, *cells)
    if any(failed.values()):
        # Probabilities are over the runs that finished: say how many did not, beside the numbers.
        table.caption = "; ".join(
            f"{name + ': ' if name else ''}{n} failed run(s), probabilities over the other "
            f"{next(iter(blocks[name].values()))['runs']}" for name, n in failed.items() if n)
    out_console.print(table)


@app.command()
@handle_errors
def compare(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    actor: str = typer.Option(..., "--actor", help="The actor whose strategies are compared."),
    strategies: str = typer.Option(..., "--strategies", help="Comma-separated strategy names, e.g. a,b."),
    runs: int = RUNS,
    horizon: Optional[int] = HORIZON,
    seed: int = SEED,
    strategy: Optional[list[str]] = STRATEGY,
    param: Optional[list[str]] = PARAM,
    robustness: int = typer.Option(0, "--robustness", min=0, max=MAX_ROBUSTNESS_POINTS,
                                   help="Also sample N points of the parameter space and report where each "
                                        "difference holds: drawn from the posterior the comparison uses, else a "
                                        "Latin hypercube over the priors (--prior)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the comparison to this directory."),
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    json_out: bool = JSON,
) -> None:
    """Compare an actor's strategies with common random numbers: outcome differences with 95% CIs."""
    from redline.experiments.compare import compare as compare_api
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    _mention_warnings(loaded)
    if out is not None:
        from redline.results import check_out_dir

        check_out_dir(out)
    names = [s.strip() for s in strategies.split(",") if s.strip()]
    fixed = parse_assignments(strategy, "--strategy")
    params = parse_numbers(param, "--param")
    post = choose_posterior(loaded, posterior, prior)
    started = time.perf_counter()
    with _status(f"comparing {', '.join(names)} over {runs:,} runs", json_out):
        comparison = compare_api(loaded, actor=actor, strategies=names, runs=runs, horizon=horizon, seed=seed,
                                 params=params, fixed=fixed, trajectories=out is not None, posterior=post)
    result = comparison.summary()
    if robustness:
        from redline.cli.demo import THESIS_COMPONENTS
        from redline.experiments.robustness import robustness_check

        result["robustness"] = robustness_check(loaded, actor=actor, strategies=names, points=robustness,
                                                runs=min(runs, 4000), horizon=horizon, seed=seed, fixed=fixed,
                                                components=THESIS_COMPONENTS.get(loaded.id, ()),
                                                progress=not json_out, posterior=post, params=params)
    result["wall_s"] = time.perf_counter() - started
    if out is not None:
        from redline.results import save_result

        save_result(out, comparison.datasets, {"kind": "compare", **result, "scenario_path": str(loaded.path)})
    if json_out:
        emit_json(result)
        return
    _print_outcomes(f"{loaded.id}: {actor} strategies, {runs:,} paired runs, seed {seed}", result["strategies"])
    table = Table(title="Differences (common random numbers)")
    for col in ("a − b", "outcome", "difference", "95% CI"):
        table.add_column(col, justify="right" if col in ("difference", "95% CI") else "left")
    for d in result["differences"]:
        table.add_row(f"{d['a']} − {d['b']}", d["outcome"], f"{d['difference']:+.3f}",
                      f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]")
    out_console.print(table)
    _print_mechanisms({name: (result["red_lines"][name], result["actions"][name]) for name in result["strategies"]})
    for name, clipped in result["clipped_probabilities"].items():
        _warn_clipped(loaded, clipped, runs, f" under {name}")
    if robustness:
        _print_robustness(result["robustness"])


def _print_robustness(rob: dict) -> None:
    """Per thesis component the share of sampled points where it holds (and is significant), the mean
    difference and the sub-range where it fails most; the title names the space sampled."""
    from redline.experiments.robustness import space_title

    def fails(c: dict) -> str:
        if not c["fails_where"]:
            return "-"
        f = c["fails_where"][0]
        return f"{f['uncertainty']} in [{f['range'][0]:.3g}, {f['range'][1]:.3g}]: {f['failure_share']:.2f}"

    out_console.print(number_table(
        f"Robustness over {rob['points']:,} points of {space_title(rob)}, {rob['runs']:,} paired runs each",
        "component", ["holds", "significant", "mean difference", "fails most where"],
        ([c["id"], f"{c['share_holds']:.2f}", f"{c['share_significant']:.2f}", f"{c['mean_difference']:+.3f}",
          fails(c)] for c in rob["components"])))


@app.command()
@handle_errors
def trace(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    claims: Optional[Path] = typer.Option(None, "--claims", help="A claims YAML file (id, start, end, claim)."),
    source: Optional[str] = typer.Option(None, "--source", help="The source id the claims' offsets refer to."),
    json_out: bool = JSON,
) -> None:
    """List every element with its source or assumption, and the coverage of a claims file."""
    from redline.provenance import trace_scenario
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    result = trace_scenario(loaded, claims_file=claims, source_id=source)
    if json_out:
        emit_json(result)
        return
    table = Table(title=f"Provenance of {loaded.id}")
    for col in ("element", "kind", "source / assumption"):
        table.add_column(col)
    for eid, e in result["elements"].items():
        if e.get("source"):
            s = e["source"]
            where = f"{s['id']}" + (f" [{s['start']}:{s['end']}]" if s.get("start") is not None else "")
            if e.get("quote"):
                where += f" “{e['quote']}”"
        else:
            where = f"assumption: {e['assumption']}" if e.get("assumption") else "[red]none[/red]"
        table.add_row(eid, e["kind"], where)
    out_console.print(table)
    if claims is not None:
        covered = sum(1 for v in result["claims"].values() if v)
        out_console.print(f"claims covered: {covered}/{len(result['claims'])}"
                          + (f"; uncovered: {', '.join(result['uncovered'])}" if result["uncovered"] else ""))


@app.command()
@handle_errors
def demo(
    out: Path = typer.Option(Path("out"), "--out", help="Directory for the report and figures."),
    runs: int = typer.Option(5000, "--runs", min=100, max=MAX_RUNS, help="Runs per strategy (and per forecast)."),
    seed: int = SEED,
    json_out: bool = JSON,
) -> None:
    """The main job: the calibrated flagship analysis end to end (forecasts, strategies, the thesis split), report in out/."""
    from redline.cli.demo import run_demo

    result = run_demo(out=out, runs=runs, seed=seed, progress=not json_out)
    if json_out:
        emit_json(result)
        return
    html = [f for f in result["files"] if f.endswith(".html")]
    out_console.print(f"[green]wrote[/green] {result['report']}" + (f" and {html[0]}" if html else "")
                      + f" ({len(result['files'])} files) in {result['elapsed_s']:.1f} s")
