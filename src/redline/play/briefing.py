"""What a person in a seat is shown each week, the same in the terminal and the browser: what the
actor can know, and for each available action its expected one-step effect and the red lines it
may trip; at the end, the same world under each of the actor's scenario strategies."""
from __future__ import annotations

import math

import numpy as np

from redline.results.summary import paired_difference

__all__ = ["action_of", "briefing", "paired_differences", "red_lines_at_risk", "strategy_comparison"]


def action_of(option: str) -> str:
    """The action id of an option id (``action`` or ``action.level``)."""
    return option.split(".", 1)[0]


def red_lines_at_risk(loaded, option: str) -> list[str]:
    """Red lines of other actors whose condition reads the action itself or a variable its effects
    change (directly or through attribution): a static reading of the scenario, not a forecast."""
    program = loaded.program
    aid = action_of(option)
    action = program.actions[aid]
    touched = {aid} | {e.var for e in action.effects} | {e.attributed for e in action.effects if e.attributed}
    return [rl.id for rl in program.red_lines if rl.owner != action.actor and touched & set(rl.condition.names)]


def briefing(loaded, request, observe: dict) -> dict:
    """The week's briefing for the first run of ``observe`` (a person plays one run).

    ``expected`` holds each action's expected one-step change per variable: every random draw
    replaced by its mean, as the logit policy sees it (``ExternalChoice.expected``).
    """
    spec = loaded.spec
    run = observe["runs"][0]
    state = [{"name": n, "value": v, "unit": spec.state[n].unit or "", "description": spec.state[n].description}
             for n, v in run["visible"].items() if n in spec.state]
    last_week = [n for n, v in run["visible"].items()  # actions taken, red lines fired
                 if v and n not in spec.state and (n in loaded.program.actions or n in spec.red_lines)]
    tracks = {}
    for track, ids in run["options"].items():
        rows = []
        for aid in ids:
            expected = {}
            for var, delta in request.expected(aid).items():
                value = float(np.asarray(delta, dtype=float).ravel()[0])
                if math.isfinite(value):
                    expected[var] = value
            action = spec.actions[action_of(aid)]
            level = f" (level {aid.split('.', 1)[1]})" if "." in aid else ""
            rows.append({"id": aid, "description": action.description + level, "expected": expected,
                         "may_trip": red_lines_at_risk(loaded, aid)})
        tracks[track] = rows
    return {"actor": observe["actor"], "name": spec.actors[observe["actor"]].name, "week": observe["week"],
            "date": observe["date"], "run": run["run"], "state": state, "last_week": last_week, "tracks": tracks}


def strategy_comparison(loaded, actor: str, *, runs: int, seed, horizon, strategies: dict | None,
                        params: dict | None, posterior=None) -> dict:
    """The same runs (same seed, same random numbers, the same draws from ``posterior`` as the
    game) with ``actor`` on each of its scenario strategies, other actors as in the game:
    strategy name -> result Dataset."""
    from redline import escalation
    from redline.calibrate.posterior import posterior_params

    return {name: escalation.run(loaded, runs=runs, horizon=horizon, seed=seed,
                                 strategies={**(strategies or {}), actor: name},
                                 params=posterior_params(posterior, params, runs, seed))
            for name in loaded.program.strategies.get(actor, {})}


def paired_differences(seat, arms: dict) -> dict[str, dict[str, dict]]:
    """Per strategy and outcome: P(seat) − P(strategy) over the same runs, with a paired 95%
    interval (common random numbers; Law & Kelton, ch. 11). Runs failed in either arm are left out."""
    out = {}
    for name, ds in arms.items():
        ok = ~(seat["failed"].values | ds["failed"].values)
        out[name] = {}
        for outcome in seat["outcome"].values.tolist():
            a = seat["outcome_occurred"].sel(outcome=outcome).values[ok]
            b = ds["outcome_occurred"].sel(outcome=outcome).values[ok]
            diff, ci = paired_difference(a, b)
            out[name][outcome] = {"difference": diff, "ci95": list(ci)}
    return out
