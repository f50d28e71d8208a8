"""A game: some actors' seats are played from outside, the rest of the world runs on the model.

:func:`play` runs the escalation engine with an ``external`` policy for every seated actor; each
week the engine asks each seat once for all live runs of a block. The seat sees only what its
actor can know (:func:`visible_names`) and may choose only available actions. Because the engine
selects a seat's choice with the same random draw a scripted probability of 1 would use, a seat
that always picks what a strategy picks reproduces that strategy's results under the same seed
(common random numbers), and two seats can be compared run by run.

With ``posterior``, each run's calibrated parameters are drawn from it exactly as
:func:`redline.experiments.compare.simulate` draws them (:func:`redline.calibrate.posterior_params`),
so a game and a forecast or comparison of the same scenario, seed and runs face the same worlds.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import xarray as xr

from redline import escalation
from redline.calibrate.posterior import Posterior, posterior_params
from redline.results.summary import summarize
from redline.errors import ParameterError, did_you_mean
from redline.play.protocol import BadAnswer, end_message, observe_message, parse_answer
from redline.play.seats import Seat
from redline.scenario import LoadedScenario

__all__ = ["play", "visible_names", "GameLog", "BAD_ANSWER_POLICIES", "LOG_FORMAT"]

BAD_ANSWER_POLICIES = ("error", "default")
"""``error``: stop the game (exit 2 on the command line). ``default``: the faulty part of the answer
becomes "no action" (null on every track concerned), a warning is logged, and the game goes on;
a seat that crashed or hung is not asked again and plays no action for the rest of the game."""

LOG_FORMAT = "redline-game/1"


def visible_names(loaded: LoadedScenario, actor: str) -> list[str]:
    """The names a seat for ``actor`` observes, in the engine's order.

    Default: every name expressions can read (state, parameters, attributes, last week's actions,
    red lines, outcomes) except the truth behind other actors' covert acts — the covert action
    itself and every variable its effects change that has an ``attributed`` counterpart (the
    seat sees the attributed record instead; Baliga, Bueno de Mesquita & Wolitzky 2020). The
    actor's ``visibility: {hide: [...], show: [...]}`` in the scenario adjusts it.
    """
    program = loaded.program
    if actor not in program.tracks:
        raise ParameterError(f"unknown actor '{actor}'{did_you_mean(actor, program.tracks)} "
                             f"(actors: {', '.join(program.tracks)})")
    hidden: set[str] = set()
    for aid, action in program.actions.items():
        if action.covert and action.actor != actor:
            hidden.add(aid)
            hidden.update(eff.var for eff in action.effects if eff.attributed is not None)
    vis = loaded.spec.actors[actor].visibility
    hidden = (hidden | set(vis.hide)) - set(vis.show)
    order = [*program.parameters, *program.attributes, *program.variables, *program.actions,
             *(o.id for o in program.outcomes), *(r.id for r in program.red_lines)]
    extra = sorted(set(program.names) - set(order))  # names added by newer sections (e.g. regimes)
    return [n for n in dict.fromkeys(order + extra) if n not in hidden]


class GameLog:
    """A JSON Lines record of a game: a header, every observation and choice, warnings, the end.

    ``redline replay`` reads it back and plays the same game again, checking every observation.
    """

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, record: dict) -> None:
        self.stream.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()


@dataclass
class _SeatState:
    actor: str
    seat: Seat
    visible: list[str]
    gone: bool = False
    exchanges: int = 0
    warnings: list[str] = field(default_factory=list)


def play(
    loaded: LoadedScenario,
    seats: dict[str, Seat],
    *,
    runs: int,
    seed: Any,
    horizon: int | None = None,
    strategies: dict[str, str] | None = None,
    params: dict[str, float] | None = None,
    posterior: Posterior | None = None,
    log: GameLog | None = None,
    on_bad_answer: Literal["error", "default"] = "error",
    warn: Callable[[str], None] | None = None,
    header: dict | None = None,
) -> xr.Dataset:
    """Run ``loaded`` with the given actors seated; return the engine's Dataset (see ``escalation.run``).

    ``posterior`` (None: the priors) gives each run its calibrated parameters, drawn as ``simulate``
    draws them; ``params`` still pin values. The log's header and the Dataset's ``posterior`` attr
    record it, and :func:`redline.play.replay` draws from it again.

    Raises
    ------
    BadAnswer
        a seat crashed, hung past its timeout, or answered outside the protocol, and
        ``on_bad_answer`` is ``"error"``.
    """
    try:
        return _play(loaded, seats, runs=runs, seed=seed, horizon=horizon, strategies=strategies, params=params,
                     posterior=posterior, log=log, on_bad_answer=on_bad_answer, warn=warn, header=header)
    finally:
        for seat in seats.values():
            seat.close()


def _play(loaded, seats, *, runs, seed, horizon, strategies, params, posterior, log, on_bad_answer, warn, header) -> xr.Dataset:
    if on_bad_answer not in BAD_ANSWER_POLICIES:
        raise ParameterError(f"--on-bad-answer must be one of {', '.join(BAD_ANSWER_POLICIES)}, got {on_bad_answer!r}"
                             f"{did_you_mean(str(on_bad_answer), BAD_ANSWER_POLICIES)}")
    program = loaded.program
    for actor, seat in seats.items():
        if actor not in program.tracks:
            raise ParameterError(f"--seat: unknown actor '{actor}'{did_you_mean(actor, program.tracks)} "
                                 f"(actors: {', '.join(program.tracks)})")
        if not program.tracks[actor]:
            raise ParameterError(f"--seat: actor '{actor}' has no actions to choose")
        if not seat.batched and runs != 1:
            raise ParameterError(f"--seat {actor}: {seat.label} plays one run at a time; use --runs 1")
    states = {actor: _SeatState(actor, seat, visible_names(loaded, actor)) for actor, seat in seats.items()}
    say = warn or (lambda message: None)
    if log is not None:
        log.write({"type": "game", "format": LOG_FORMAT, **(header or {}), "scenario": loaded.id,
                   "scenario_sha256": loaded.sha256, "runs": runs, "seed": seed, "horizon": horizon,
                   "strategies": strategies or {}, "params": params or {},
                   "posterior": posterior.describe() if posterior is not None else None, "on_bad_answer": on_bad_answer,
                   "seats": {a: s.seat.label for a, s in states.items()},
                   "visible": {a: s.visible for a, s in states.items()}})

    def problem(state: _SeatState, week: int, message: str) -> None:
        if on_bad_answer == "error":
            raise BadAnswer(message)
        note = f"{message}; using the default (no action{' from now on' if state.gone else ''})"
        state.warnings.append(note)
        say(note)
        if log is not None:
            log.write({"type": "warning", "actor": state.actor, "week": week, "message": note})

    def chooser_for(state: _SeatState):
        def choose(request: escalation.ExternalChoice) -> dict[str, np.ndarray]:
            date = (program.as_of + dt.timedelta(weeks=request.week - 1)).isoformat()
            visible = {n: request.values[n] for n in state.visible if n in request.values}
            obs = observe_message(state.actor, request.week, date, request.runs, visible, request.options)
            state.seat.prepare(request, loaded)
            if log is not None:
                log.write(obs)
            choices: dict[int, dict[str, str | None]] = {r["run"]: {t: None for t in r["options"]} for r in obs["runs"]}
            if not state.gone:
                try:
                    raw = state.seat.ask(obs)
                except BadAnswer as err:
                    state.gone = True
                    problem(state, request.week, str(err))
                else:
                    state.exchanges += 1
                    choices, problems = parse_answer(raw, obs, state.seat.label)
                    for message in problems:
                        problem(state, request.week, message)
            actions = [{"run": run, "choose": choose} for run, choose in choices.items()]
            if log is not None:
                log.write({"type": "act", "actor": state.actor, "week": request.week, "actions": actions})
            picks = {}
            for track, acts in request.options.items():
                index = {aid: i for i, aid in enumerate(acts)}
                picks[track] = np.array([index.get(c.get(track), -1) if c.get(track) else -1
                                         for c in choices.values()], dtype=int)
            return picks

        return choose

    ds = escalation.run(loaded, runs=runs, horizon=horizon, seed=seed, strategies=strategies,
                        params=posterior_params(posterior, params, runs, seed),
                        choosers={actor: chooser_for(s) for actor, s in states.items()})
    summary = summarize(ds)
    for actor, state in states.items():
        if not state.gone:
            state.seat.end(end_message(actor, summary))
    if log is not None:
        log.write({"type": "end", "outcomes": summary["outcomes"], "runs": summary["runs"],
                   "warnings": sum(len(s.warnings) for s in states.values())})
    ds.attrs["seats"] = json.dumps({a: s.seat.label for a, s in states.items()}, sort_keys=True)
    ds.attrs["seat_warnings"] = sum(len(s.warnings) for s in states.values())
    if posterior is not None:
        ds.attrs["posterior"] = json.dumps(posterior.describe())
    return ds


def read_log(path: str | Path) -> tuple[dict, dict[str, list], dict | None]:
    """Parse a game log: (header, actor -> [((line, observe), act)], end record or None)."""
    from redline.errors import Location, ScenarioError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ParameterError(f"{path}: cannot read the game log: {err.strerror or err}") from None
    header, end = None, None
    exchanges: dict[str, list] = {}
    pending: dict[str, tuple[int, dict]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise ScenarioError(f"not a JSON line: {err.args[0].split(':')[0]}", Location(str(path), number, 1)) from None
        kind = record.get("type") if isinstance(record, dict) else None
        if number == 1:
            if kind != "game" or record.get("format") != LOG_FORMAT:
                raise ScenarioError(f"not a redline game log (expected a first line with format {LOG_FORMAT!r})",
                                    Location(str(path), 1, 1))
            header = record
        elif kind == "observe":
            pending[record["actor"]] = (number, record)
        elif kind == "act":
            actor = record.get("actor")
            if actor not in pending:
                raise ScenarioError("an act line with no observe line before it", Location(str(path), number, 1))
            exchanges.setdefault(actor, []).append((pending.pop(actor), record))
        elif kind == "end":
            end = record
        elif kind != "warning":
            raise ScenarioError(f"unknown record type {kind!r} (types: game, observe, act, warning, end)",
                                Location(str(path), number, 1))
    if header is None:
        raise ScenarioError("the game log is empty", Location(str(path), 1, 1))
    return header, exchanges, end
