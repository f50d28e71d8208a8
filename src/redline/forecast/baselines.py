"""Reference forecasters that use only a scenario's record, never its model or any outcome.

``record_poisson`` is the naive forecaster a model has to beat once it has been fitted on a
record: the world starts where the record last saw it and every variable the record observes moves
as an independent compound Poisson process fitted on the record; nothing interacts, no one
chooses. For each question:

1. **Status quo at the origin**: for each variable, the last value the record observed (a
   statistic that is a bare variable name), otherwise the scenario's initial value in expectation.
   Outcomes start as not having happened.
2. **Rates fitted on the record** (per week, from ``as_of`` to the variable's last observation,
   with the Jeffreys pseudo-count 1/2 so that a variable that never moved still may):
   a counter moves by +1 at rate ``(increase + 1/2) / weeks``; a boolean flips at rate
   ``(changes + 1/2) / weeks``; any other variable changes at rate
   ``(changes + 1/2) / weeks`` by a relative jump drawn from the changes the record saw in that
   variable, or, if it never changed, from the relative changes of all observed non-counters.
   Variables the record does not observe stay at the status quo.
3. **Simulation**: ``runs`` independent paths from the origin week to each question's close,
   evaluating the predicate every week (so ``ever`` and windows count from the origin, and an
   outcome named in the predicate holds from the first week its condition holds). The forecast is
   the share of paths where the predicate is non-zero at the close.

A predicate that names no observed variable (directly or through an outcome's condition) gets no
information from the record and is forecast 0.5. The forecaster is deliberately simple (the
Poisson processes of Cox & Lewis 1966; the Jeffreys prior of Jeffreys 1946); it is a baseline,
not a model.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from redline import expr as ex
from redline.scenario import LoadedScenario, week_of

__all__ = ["RecordFit", "fit_record", "record_poisson", "record_beside", "JEFFREYS", "BASELINE_RUNS"]

JEFFREYS = 0.5
"""Pseudo-count added to each variable's number of events (Jeffreys prior for a Poisson rate)."""

BASELINE_RUNS = 4000
"""Paths simulated per question."""


@dataclass(frozen=True)
class RecordFit:
    """A record read as independent compound Poisson processes.

    Attributes
    ----------
    origin_week: the week holding the record's origin (week 1 starts at the scenario's ``as_of``).
    status_quo: variable -> value at the origin (last observation, else the initial value in expectation).
    rates: observed variable -> events per week.
    jumps: observed non-counter variable -> relative jumps it can make.
    counters: the observed variables that are counters (each event adds 1).
    """

    origin_week: int
    status_quo: dict[str, float]
    rates: dict[str, float]
    jumps: dict[str, np.ndarray] = field(default_factory=dict)
    counters: frozenset[str] = frozenset()


def _initial_values(loaded: LoadedScenario) -> dict[str, float]:
    """Every state variable's initial value in expectation (random draws replaced by their means),
    parameters at their defaults; outcomes, red lines and actions at 0."""
    program = loaded.program
    values: dict[str, Any] = dict(program.parameters)
    ctx = ex.ScalarContext(values, lambda site: np.random.default_rng(0))
    ctx.expected, ctx.commit = True, False
    for name, e in program.attributes.items():
        values[name] = e.evaluate_scalar(ctx)
    for name in program.variables:
        values[name] = program.initial[name].evaluate_scalar(ctx)
    for name in list(program.actions) + [o.id for o in program.outcomes] + [r.id for r in program.red_lines]:
        values[name] = 0.0
    return {k: float(v) for k, v in values.items()}


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def fit_record(loaded: LoadedScenario, origin: dt.date, observations: Iterable[Any]) -> RecordFit:
    """Fit the baseline's processes on a record's observations (with ``date``, ``statistic`` and
    ``value``, as :class:`redline.calibrate.Observation` or mappings); only statistics that are a
    bare state-variable name are series."""
    as_of = loaded.spec.meta.as_of
    program = loaded.program
    initial = _initial_values(loaded)
    points: dict[str, list[tuple[int, float]]] = {}
    for obs in observations:
        get = obs.get if isinstance(obs, dict) else lambda key: getattr(obs, key)
        name = str(get("statistic")).strip()
        if name in program.kinds:
            points.setdefault(name, []).append((week_of(as_of, _date(get("date"))), float(get("value"))))
    status_quo = dict(initial)
    rates: dict[str, float] = {}
    own_jumps: dict[str, list[float]] = {}
    counters = set()
    for name, pts in points.items():
        pts.sort()
        values = [initial[name]] + [v for _, v in pts]
        weeks = max(pts[-1][0], 1)
        status_quo[name] = values[-1]
        if program.kinds[name] == "counter":
            counters.add(name)
            events = sum(max(b - a, 0.0) for a, b in zip(values, values[1:]))
        else:
            steps = [(a, b) for a, b in zip(values, values[1:]) if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)]
            events = len(steps)
            if program.kinds[name] != "boolean":
                own_jumps[name] = [(b - a) / abs(a) if a else float(np.sign(b - a)) for a, b in steps]
        rates[name] = (events + JEFFREYS) / weeks
    pooled = np.array([j for js in own_jumps.values() for j in js], dtype=float)
    jumps = {name: np.array(js, dtype=float) if js else pooled for name, js in own_jumps.items()}
    return RecordFit(week_of(as_of, origin), status_quo, rates, jumps, frozenset(counters))


def _read_names(loaded: LoadedScenario, expression: ex.Expression) -> set[str]:
    """The variables a predicate reads, directly or through the condition of an outcome it names."""
    conditions = {o.id: o.condition for o in loaded.program.outcomes}
    names, todo = set(), list(expression.names)
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        if name in conditions:
            todo.extend(conditions[name].names)
    return names


def _simulate(loaded: LoadedScenario, predicate: Any, fit: RecordFit, start: int, close: int, runs: int,
              rng: np.random.Generator) -> float | None:
    program = loaded.program
    expression = ex.parse(predicate, names=program.names, site="baseline")
    moving = sorted(n for n in _read_names(loaded, expression) if n in fit.rates)
    if not moving:
        return None
    values: dict[str, Any] = {k: np.full(runs, v) for k, v in fit.status_quo.items()}
    ctx = ex.EvalContext(values, runs, lambda site: np.random.default_rng(0))
    ctx.expected = True  # a predicate's own random draws, if any, are taken at their means
    outcomes = [o for o in program.outcomes if o.id in _read_names(loaded, expression)]
    result = np.zeros(runs)
    for week in range(start, close + 1):
        ctx.week = week
        for name in moving:
            n = rng.poisson(fit.rates[name], runs)
            if name in fit.counters:
                values[name] = values[name] + n
            elif program.kinds[name] == "boolean":
                values[name] = np.where(n % 2 == 1, 1.0 - values[name], values[name])
            elif name in fit.jumps and fit.jumps[name].size:
                total = np.zeros(runs)
                for k in range(1, int(n.max(initial=0)) + 1):
                    total += np.where(n >= k, rng.choice(fit.jumps[name], runs), 0.0)
                values[name] = values[name] * (1.0 + total)
            lo, hi = program.bounds.get(name, (None, None))
            if lo is not None or hi is not None:
                values[name] = np.clip(values[name], lo, hi)
        for o in outcomes:
            if o.week is None or o.week == week:
                values[o.id] = np.maximum(values[o.id], (o.condition.evaluate(ctx) != 0).astype(float))
        result = expression.evaluate(ctx)
    return float(np.mean(result != 0))


def record_poisson(loaded: LoadedScenario, questions, fit: RecordFit, *, runs: int = BASELINE_RUNS,
                   seed: int = 0) -> dict[str, float]:
    """Probability per question id (see the module docstring); questions closing before the
    record's origin are left out. ``questions`` are :class:`~redline.forecast.questions.LocatedQuestion`."""
    as_of = loaded.spec.meta.as_of
    out: dict[str, float] = {}
    for i, q in enumerate(questions):
        close = week_of(as_of, q.spec.close_date)
        if close < fit.origin_week:
            continue
        start = max(fit.origin_week, week_of(as_of, q.spec.open_date))
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        p = _simulate(loaded, q.spec.predicate, fit, start, close, runs, rng)
        out[q.id] = 0.5 if p is None else p
    return out


def record_beside(loaded: LoadedScenario):
    """The record file beside a scenario file (``<name>.record.yaml``), or None."""
    if loaded.path is None:
        return None
    path = loaded.path.with_name(loaded.path.name.rsplit(".", 1)[0] + ".record.yaml")
    return path if path.is_file() else None
