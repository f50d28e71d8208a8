"""Forecast commands: ``forecast`` (probabilities of dated questions) and ``backtest`` (scores)."""
from __future__ import annotations

import sys
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
    out_console,
    parse_assignments,
)
from redline.errors import ParameterError
from redline.limits import MAX_HORIZON, MAX_RUNS

__all__ = ["forecast", "backtest"]

JSON = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")
SEED = typer.Option(0, "--seed", min=0, help="Seed of the experiment's SeedSequence (and of the bootstrap).")
RUNS = typer.Option(10_000, "--runs", min=1, max=MAX_RUNS, help="Number of stochastic futures.")
STRATEGY = typer.Option(None, "--strategy", help="Give an actor a strategy: ACTOR=NAME (repeatable).")
RECORD = typer.Option(None, "--record", help="Forecast from this record's origin with only the runs consistent with it.")
NO_FACTS = typer.Option(False, "--no-record-facts",
                        help="Do not count only the runs that reproduce the exact facts of the record shipped beside "
                             "the scenario (<name>.record.yaml).")


def _status(message: str, quiet: bool):
    if quiet or not sys.stderr.isatty():
        from contextlib import nullcontext

        return nullcontext()
    return console.status(message)


def _facts(loaded, quiet: bool):
    """The record beside the scenario, whose exact observations filter the runs (said so on stderr)."""
    from redline.calibrate import load_record
    from redline.forecast.baselines import record_beside

    beside = record_beside(loaded)
    if beside is None:
        return None
    if not quiet:
        console.print(f"counting only runs that reproduce the exact facts of {beside.name}; --no-record-facts to "
                      "count every run", highlight=False)
    return load_record(beside, loaded)


def _run(scenario: str, questions_file: Optional[Path], strategy, runs: int, seed: int, quiet: bool,
         posterior: Optional[Path] = None, prior: bool = False, record: Optional[Path] = None,
         no_facts: bool = False):
    from redline.errors import ScenarioError
    from redline.forecast import forecast as run_forecast
    from redline.forecast import load_questions, questions_from_scenario
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    if questions_file is not None:
        questions = load_questions(questions_file)
    else:
        questions = questions_from_scenario(loaded)
        if not questions:
            raise ScenarioError(f"scenario '{loaded.id}' has no questions: section; pass --questions FILE")
    strategies = parse_assignments(strategy, "--strategy")
    # A record conditions parameters and state itself: the posterior beside the scenario is not used then.
    post = None if (posterior is None and record is not None) else choose_posterior(loaded, posterior, prior, quiet=quiet)
    rec = None
    if record is not None:
        from redline.calibrate import load_record

        rec = load_record(record, loaded)
    facts = None if (no_facts or rec is not None) else _facts(loaded, quiet)
    with _status(f"simulating {runs:,} runs of {loaded.id} for {len(questions)} question(s)", quiet):
        return run_forecast(loaded, questions, runs=runs, seed=seed, strategies=strategies, posterior=post, record=rec,
                            facts=facts)


def _record_baselines(scenario: str, questions_file: Path, seed: int) -> dict[str, dict[str, float]]:
    """The ``record_poisson`` baseline when a record sits beside the scenario file."""
    from redline.calibrate import load_record
    from redline.forecast import load_questions
    from redline.forecast.baselines import fit_record, record_beside, record_poisson
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    path = record_beside(loaded)
    if path is None:
        return {}
    record = load_record(path, loaded)
    fit = fit_record(loaded, record.origin, record.spec.observations)
    return {"record_poisson": record_poisson(loaded, load_questions(questions_file), fit, seed=seed)}


def _p(value, ci) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} ({ci[0]:.3f}–{ci[1]:.3f})"


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        out_console.print(f"note: {note}", markup=False, highlight=False)


@app.command()
@handle_errors
def forecast(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="A question file (default: the scenario's questions: section)."),
    strategy: Optional[list[str]] = STRATEGY,
    runs: int = RUNS,
    seed: int = SEED,
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    record: Optional[Path] = RECORD,
    no_record_facts: bool = NO_FACTS,
    json_out: bool = JSON,
) -> None:
    """Probability of each dated question, with a 95% Wilson interval, from simulated futures."""
    result = _run(scenario, questions, strategy, runs, seed, json_out, posterior, prior, record, no_record_facts)
    if json_out:
        emit_json(result.to_dict())
        return
    table = Table(title=f"{result.scenario} as of {result.as_of}: {result.runs:,} runs, seed {result.seed}")
    for col in ("question", "closes", "week", "P (95% CI)", "outcome"):
        table.add_column(col, justify="left" if col in ("question", "closes") else "right")
    for q in result.questions:
        outcome = "-" if q.outcome is None else ("yes" if q.outcome else "no")
        p = _p(q.probability, q.ci95) if q.status == "forecast" else "closed before as_of"
        table.add_row(q.id, q.close_date.isoformat(), "-" if q.close_week is None else str(q.close_week), p, outcome)
    out_console.print(table)
    _print_notes(result.notes)


def _score(block) -> str:
    if block is None or block.get("score") is None:
        return "-"
    ci = block.get("ci95")
    return f"{block['score']:.3f}" + (f" ({ci[0]:.3f}–{ci[1]:.3f})" if ci else "")


@app.command()
@handle_errors
def backtest(
    questions: Path = typer.Argument(..., help="A question file with resolved outcomes."),
    scenario: str = typer.Option(..., "--scenario", help="A scenario file or bundled id."),
    strategy: Optional[list[str]] = STRATEGY,
    runs: int = RUNS,
    seed: int = SEED,
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write the calibration diagram to this file (.png/.svg/.pdf)."),
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    record: Optional[Path] = RECORD,
    no_record_facts: bool = NO_FACTS,
    json_out: bool = JSON,
) -> None:
    """Brier and log scores of the forecasts on resolved questions, beside baselines."""
    from redline.forecast import backtest as run_backtest

    forecast_result = _run(scenario, questions, strategy, runs, seed, json_out, posterior, prior, record,
                           no_record_facts)
    result = run_backtest(forecast_result, baselines=_record_baselines(scenario, questions, seed))
    if plot is not None:
        try:
            from redline.report.figures import backtest_calibration_plot, save_figure
        except ImportError:
            raise ParameterError("the calibration plot needs matplotlib: pip install 'redline[report]'") from None
        result["plot"] = str(save_figure(backtest_calibration_plot(result), plot))
    if json_out:
        emit_json(result)
        return
    table = Table(title=f"{result['scenario']}: {result['n_scored']} of {result['n_questions']} questions scored "
                        f"({result['runs']:,} runs, seed {result['seed']})")
    extra = [n for n in result["baselines"] if n not in ("always_0.5", "base_rate_loo", "public_forecast")]
    for col in ("question", "outcome", "model P", "Brier: model", "0.5", "base rate (LOO)", *extra, "public"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for r in result["questions"]:
        b = r["baselines"]
        pub = b.get("public_forecast")
        table.add_row(r["id"], "yes" if r["outcome"] else "no", f"{r['probability']:.3f}",
                      f"{r['brier']['score']:.3f}", f"{b['always_0.5']['brier']:.3f}",
                      f"{b['base_rate_loo']['brier']:.3f}", *(f"{b[n]['brier']:.3f}" for n in extra),
                      "-" if pub is None else f"{pub['brier']:.3f}")
    out_console.print(table)
    overall = Table(title="Overall (lower is better; 95% bootstrap CIs over questions)")
    for col in ("forecaster", "questions", "Brier", "log score"):
        overall.add_column(col, justify="left" if col == "forecaster" else "right")
    overall.add_row("model", str(result["brier"]["n"]), _score(result["brier"]), _score(result["log_score"]))
    for name, block in result["baselines"].items():
        overall.add_row(name, str(block["brier"]["n"]), _score(block["brier"]), _score(block["log_score"]))
        if name == "public_forecast":
            same = block["model_on_same_questions"]
            overall.add_row("model (same questions)", str(same["brier"]["n"]), _score(same["brier"]),
                            _score(same["log_score"]))
    out_console.print(overall)
    d = result["decomposition"]
    if d["brier"] is not None:
        line = (f"Murphy decomposition: Brier {d['brier']:.3f} = reliability {d['reliability']:.3f} − resolution "
                f"{d['resolution']:.3f} + uncertainty {d['uncertainty']:.3f}")
        if d["within_bin"]:
            line += f" + within-bin {d['within_bin']:+.3f}"
        out_console.print(line, markup=False, highlight=False)
    out_console.print(f"log score floor: probabilities clipped to [{result['scoring']['log_floor']}, "
                      f"{1 - result['scoring']['log_floor']}]", markup=False, highlight=False)
    for u in result["unscored"]:
        out_console.print(f"not scored: {u['id']}: {u['reason']}", markup=False, highlight=False)
    _print_notes(result["notes"])
    if plot is not None:
        out_console.print(f"calibration diagram: {result['plot']}", markup=False, highlight=False)
