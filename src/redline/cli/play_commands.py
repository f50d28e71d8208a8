"""Seat commands: ``play`` (a person, an agent or a language model plays an actor) and ``replay``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from redline.cli.app import app
from redline.cli.common import (POSTERIOR, PRIOR, choose_posterior, console, emit_json, handle_errors, number_table,
                                 out_console, parse_assignments, parse_numbers)
from redline.limits import MAX_HORIZON, MAX_RUNS

__all__ = ["play", "replay"]


def _make_seats(loaded, specs: list[str], *, timeout: float, batch: int) -> dict:
    from redline.errors import ParameterError
    from redline.play import CommandAgent, HttpAgent, LLMAgent, parse_seat_spec, visible_names
    from redline.play.prompt import system_prompt
    from redline.play.terminal import TerminalSeat

    if not specs:
        raise ParameterError("play needs at least one --seat ACTOR=human|agent:cmd:COMMAND|agent:http://...|llm:URL:MODEL")
    parsed = [parse_seat_spec(s) for s in specs]
    for actor, _, _ in parsed:
        visible_names(loaded, actor)  # unknown actors fail here, before any agent is started
    if len({a for a, _, _ in parsed}) != len(parsed):
        raise ParameterError("--seat names the same actor twice")
    seats = {}
    try:
        for actor, kind, details in parsed:
            if kind == "human":
                seats[actor] = TerminalSeat(actor)
            elif kind == "cmd":
                seats[actor] = CommandAgent(details["command"], timeout=timeout)
            elif kind == "http":
                seats[actor] = HttpAgent(details["url"], timeout=timeout)
            else:
                prompt = system_prompt(loaded, actor, visible_names(loaded, actor))
                seats[actor] = LLMAgent(details["url"], details["model"], prompt, timeout=timeout, batch=batch)
    except BaseException:
        for seat in seats.values():
            seat.close()
        raise
    return seats


@app.command()
@handle_errors
def play(
    scenario: str = typer.Argument(..., help="A scenario file or bundled id."),
    seat: Optional[list[str]] = typer.Option(
        None, "--seat", help="ACTOR=human | ACTOR=agent:cmd:COMMAND | ACTOR=agent:http://HOST:PORT/PATH | "
                             "ACTOR=llm:http://HOST:PORT/PATH:MODEL (repeatable)."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, max=MAX_RUNS,
                                       help="Runs played at once (default: 1 with a human seat, else 1000)."),
    horizon: Optional[int] = typer.Option(None, "--horizon", min=1, max=MAX_HORIZON, help="Weeks (default: the scenario's)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the experiment's SeedSequence."),
    strategy: Optional[list[str]] = typer.Option(None, "--strategy", help="Give another actor a strategy: ACTOR=NAME."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="Override an uncertainty or lever: NAME=VALUE."),
    log: Optional[Path] = typer.Option(None, "--log", help="Record every observation and choice (JSON Lines)."),
    agent_timeout: float = typer.Option(30.0, "--agent-timeout", min=0.1, help="Seconds an agent may take per week."),
    on_bad_answer: str = typer.Option("error", "--on-bad-answer",
                                      help="error: exit 2 on a bad answer; default: no action, with a logged warning."),
    llm_batch: int = typer.Option(16, "--llm-batch", min=1, max=1000, help="Runs per request to a language model."),
    posterior: Optional[Path] = POSTERIOR,
    prior: bool = PRIOR,
    json_out: bool = typer.Option(False, "--json", help="Print the same JSON as `run --json` on stdout."),
) -> None:
    """Play actors from outside the model: a person, an agent program or server, or a language model.

    The rest of the world runs on the scenario's policies. Each run's parameters come from the
    posterior shipped beside the scenario (or --posterior FILE; --prior for the priors), as in
    `run`. Same seed, same random numbers: a seat that copies a strategy gets exactly the
    strategy's results.
    """
    from redline.results import summarize
    from redline.play import GameLog
    from redline.play import play as play_game
    from redline.scenario import load_scenario

    loaded = load_scenario(scenario)
    strategies = parse_assignments(strategy, "--strategy")
    params = parse_numbers(param, "--param")
    post = choose_posterior(loaded, posterior, prior)  # before any agent is started
    seats = _make_seats(loaded, seat or [], timeout=agent_timeout, batch=llm_batch)
    if runs is None:
        runs = 1 if any(not s.batched for s in seats.values()) else 1000
    stream = None
    try:
        game_log = None
        if log is not None:
            try:
                stream = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
            except OSError as err:
                for s in seats.values():
                    s.close()
                from redline.errors import ParameterError

                raise ParameterError(f"--log {log}: {err.strerror or err}") from None
            game_log = GameLog(stream)
        header = {"scenario_path": str(loaded.path) if loaded.path else loaded.id,
                  "argv": ["play", *sys.argv[2:]]}
        ds = play_game(loaded, seats, runs=runs, seed=seed, horizon=horizon, strategies=strategies or None,
                       params=params or None, posterior=post, log=game_log, on_bad_answer=on_bad_answer,
                       warn=lambda m: console.print(f"warning: {m}", markup=False, highlight=False, soft_wrap=True),
                       header=header)
    finally:
        if stream is not None:
            stream.close()
    summary = summarize(ds)
    if post is not None:
        summary["posterior"] = post.describe()
    if json_out:
        emit_json(summary)
        return
    _print_game(loaded, ds, summary, seats, runs=runs, seed=seed, horizon=horizon, strategies=strategies,
                params=params, posterior=post)


def _print_game(loaded, ds, summary, seats, *, runs, seed, horizon, strategies, params, posterior) -> None:
    """The outcome, and the same world (same seed) under each of the seated actor's strategies;
    with several runs, the paired difference seat − strategy with its 95% interval."""
    from redline.results.summary import outcome_summary
    from redline.play.briefing import paired_differences, strategy_comparison

    others = {}
    if len(seats) == 1:
        others = strategy_comparison(loaded, next(iter(seats)), runs=runs, seed=seed, horizon=horizon,
                                     strategies=strategies, params=params or None, posterior=posterior)
    arms = {"seat": summary["outcomes"], **{name: outcome_summary(o) for name, o in others.items()}}
    who = ", ".join(f"{a} = {s.label}" for a, s in seats.items())
    drawn = "priors" if posterior is None else f"posterior {posterior.path.name} ({posterior.particles:,} particles)"
    title = f"{loaded.id}: {who}; {runs:,} run(s) × {summary['horizon']} weeks, seed {seed}, parameters from the {drawn}"
    table = Table(title=title)
    table.add_column("outcome")
    for arm in arms:
        table.add_column("you" if arm == "seat" and runs == 1 else arm, justify="right")
    diffs = paired_differences(ds, others) if runs > 1 else {}
    for outcome in summary["outcomes"]:
        cells = []
        for arm, block in arms.items():
            o = block[outcome]
            if runs == 1:
                cells.append(f"week {o['median_week']:.0f}" if o["count"] else "-")
            elif arm == "seat":
                cells.append(f"{o['probability']:.3f}")
            else:
                d = diffs[arm][outcome]
                cells.append(f"{o['probability']:.3f} ({d['difference']:+.3f} ± {(d['ci95'][1] - d['ci95'][0]) / 2:.3f})")
        table.add_row(outcome, *cells)
    out_console.print(table)
    if others:
        out_console.print("Columns after the first: the same world (same seed, same random numbers) with the actor on "
                          "each of its scenario strategies. " + (
                              "Cells: the week the outcome first held." if runs == 1 else
                              "Cells: probability (seat − strategy, paired over the same runs, ± 95% interval)."))
    warnings = int(ds.attrs.get("seat_warnings", 0))
    if warnings:
        out_console.print(f"{warnings} bad answer(s) replaced by the default (no action); see the warnings above")


@app.command()
@handle_errors
def replay(
    game: Path = typer.Argument(..., help="A game log written by `redline play --log`."),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="The scenario, if it moved since the game."),
    posterior: Optional[Path] = typer.Option(None, "--posterior",
                                             help="The game's posterior file, if it moved since the game "
                                                  "(checked against the recorded sha256)."),
    json_out: bool = typer.Option(False, "--json", help="Print the same JSON as `run --json` on stdout."),
) -> None:
    """Play a recorded game again from its log and check it reproduces exactly."""
    from redline.results import summarize
    from redline.play import replay as replay_game

    ds = replay_game(game, scenario, posterior)
    summary = summarize(ds)
    if json_out:
        emit_json(summary)
        return
    out_console.print(number_table(
        f"replay of {game}: {summary['runs']:,} run(s), identical to the recorded game", "outcome", ["P", "runs"],
        [(name, f"{o['probability']:.3f}", str(o["count"])) for name, o in summary["outcomes"].items()]))
