"""The scenario format reference (``docs/format.md``), generated from the pydantic schema.

Every section and field comes from :mod:`redline.scenario.schema` itself (its name, whether it is
required, its default); only the meaning of each field is written here, in :data:`MEANINGS`, and
:func:`render` refuses to run when a field of the schema has no meaning or a meaning names a field
the schema no longer has. ``tests/test_format_reference.py`` fails when ``docs/format.md`` differs
from :func:`render`'s output, so the reference cannot drift from the code: regenerate it with
``make docs`` (``python -m redline.scenario.format_reference > docs/format.md``).
"""
from __future__ import annotations

import datetime as dt
import enum
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from redline.limits import MAX_HORIZON
from redline.scenario import schema as S

__all__ = ["MEANINGS", "WEEKLY", "render", "models"]

_PROVENANCE = {
    "source": "where the element comes from: `{id, start, end}` (character offsets into the source's text) or just the source id",
    "assumption": "why this number or rule, when no source gives it (one of `source`/`assumption` is expected; `validate --strict` requires it)",
}

MEANINGS: dict[str, dict[str, str]] = {
    "Scenario": {
        "meta": "what the scenario is: id, title, start date, horizon",
        "sources": "source id → citation; elements point here with `source:`",
        "actors": "actor id → who takes part; each actor chooses its actions with a policy",
        "state": "variable id → the state of the world, changed by actions, processes, events and decisions",
        "actions": "action id → what an actor can do in a week, and its effects",
        "processes": "process id → dynamics applied every week after the actions (decay, drift, hazards)",
        "red_lines": "red line id → a declared condition that its owner answers with a response",
        "outcomes": "outcome id → a condition recorded (with its first week) when it first holds",
        "regimes": "regime id → a persistent condition of the world entered and left with weekly hazards",
        "events": "a list of dated events known in advance (forced actions and state changes)",
        "decisions": "decision id → a collective decision re-taken by a bargaining model",
        "strategies": "strategy id → a named policy an actor can be given at run time (`--strategy ACTOR=ID`)",
        "uncertainties": "parameter id → a number not known exactly, with its range (explored by sweeps)",
        "levers": "parameter id → a policy choice with its range (explored by sweeps like uncertainties)",
        "questions": "dated forecast questions answered by `redline forecast` / scored by `backtest`",
    },
    "Meta": {
        "id": "the scenario's id: lower-case letters, digits and `-` (used by `redline run ID` when bundled)",
        "title": "a one-line title shown in tables, reports and the web app",
        "as_of": "the date the analysis is made; week 1 starts on it, and dates (`on:`, events) become weeks from it",
        "step": "the time step; only `week` exists",
        "horizon": f"weeks simulated by default (`--horizon` overrides; 1 to {MAX_HORIZON})",
        "description": "free text: what the scenario models",
        "version": "free text: the scenario's own version (metadata)",
    },
    "Source": {
        "title": "the source's title",
        "publisher": "who published it (metadata)",
        "date": "its publication date (metadata; `trace` shows it)",
        "url": "where to find it (metadata)",
        "text": "a local UTF-8 file with its text, next to the scenario or in `$REDLINE_SOURCES`; offsets are checked against it and `trace` quotes it",
        "fact": "a short statement of the fact this source supports (metadata)",
        "licence": "the licence of the source's text (metadata)",
    },
    "SourceRef": {
        "id": "a source id from `sources`",
        "start": "first character of the cited passage (Unicode code points, as Python counts them)",
        "end": "one past the last character of the passage",
        "note": "free text: how the passage supports the element (metadata)",
    },
    "Actor": {
        **_PROVENANCE,
        "name": "a human-readable name",
        "kind": "what sort of actor — **metadata**: shown in reports and briefings, changes nothing in a run",
        "description": "free text",
        "attributes": "attribute id → a number (or `{value, unit, ...}`), readable in expressions as `<actor>_<attribute>`",
        "goals": "state variable → weight: what a `logit` policy maximises (the weighted sum of one-step expected changes)",
        "policy": "how the actor chooses when no strategy is given; an actor with actions but no policy or strategy never acts (a warning)",
        "strategy": "the id of a strategy in `strategies` used by default (instead of `policy`)",
        "visibility": "what a seat playing this actor observes (see docs/play.md)",
    },
    "Attribute": {
        **_PROVENANCE,
        "value": "the number (an expression of uncertainties and levers is allowed)",
        "description": "free text",
        "unit": "the unit (metadata)",
    },
    "Policy": {
        "kind": "`scripted` (a probability per option) or `logit` (quantal response over expected utilities)",
        "rationality": "logit only: λ, how sharply the actor prefers better options (0: at random; default 1)",
        "probabilities": "scripted only: option (`action` or `action.level`) → weekly probability expression; options of one track combine as described under *Tracks*",
        "goals": "logit only: state variable → weight, added to (and overriding) the actor's own `goals`",
        "utilities": "logit only: action → an extra utility expression added to its expected-effect utility",
        "anticipate": "logit only (default true): also count the expected effect of the red-line responses an option would trip this week",
    },
    "Visibility": {
        "show": "names hidden by default (other actors' covert truths) that this actor's seat may see",
        "hide": "names this actor's seat may not see",
    },
    "StateVar": {
        **_PROVENANCE,
        "type": "`real` (any number within bounds), `counter` (min 0 by default) or `boolean` (0 or 1)",
        "initial": "the starting value, an expression of uncertainties, levers and attributes (random draws allowed); a real variable without one starts at 0 with a warning",
        "min": "lower bound: every change is clipped to it",
        "max": "upper bound: every change is clipped to it",
        "unit": "the unit (metadata; shown in tables and charts)",
        "flow": "reset to `initial` at the start of every week, so it holds what happened this week",
        "description": "free text",
    },
    "Action": {
        **_PROVENANCE,
        "actor": "the actor who takes it",
        "track": "the actor's choice set it belongs to (default `main`): at most one option per track per week",
        "tags": "labels; only `covert` changes a run (it allows `attribution`), `overt` forbids `attribution`; the others are **metadata** shown in reports and briefings",
        "escalation": "an escalation score (Rivera et al. 2024: −2 de-escalation … 60 nuclear) — **metadata**: shown in the scenario picture and seats' briefings, not used by the engines",
        "available": "a condition; in weeks it is false the action cannot be chosen (scripted probability treated as 0, logit option removed)",
        "effects": "a list of changes to state variables, applied the week the action is taken",
        "attribution": "covert actions only: whether and when the act is pinned on its author",
        "utility": "an extra utility term for `logit` choosers, added to the expected change in their goals",
        "levels": "named intensities, each `{key: number}` with the same keys; each level is a separate option and the keys are plain names inside this action's expressions",
        "description": "free text",
    },
    "Effect": {
        "var": "the state variable changed",
        "add": "an expression added to it (exactly one of `add`/`set`)",
        "set": "an expression it is set to",
        "attributed": "a variable that receives the same `add` when (and if) the act is attributed to its author",
    },
    "Attribution": {
        "probability": "the probability that the act is ever attributed (checked against [0, 1] by `validate`)",
        "delay_weeks": "weeks until attribution (rounded; an expression, e.g. `poisson(2)`; 0: this week)",
        "source": _PROVENANCE["source"],
        "assumption": _PROVENANCE["assumption"],
    },
    "Process": {
        **_PROVENANCE,
        "when": "a condition; the process applies only in runs and weeks where it holds (default: always)",
        "set": "variable → expression it is set to (all updates of one process read the same state)",
        "add": "variable → expression added to it",
        "description": "free text",
    },
    "RedLine": {
        **_PROVENANCE,
        "owner": "the actor who declared it and answers it",
        "condition": "when it holds (and the red line may fire), the red line fires",
        "credibility": "the probability that the owner carries out a response when it fires (checked against [0, 1])",
        "response": "an action of the owner, or a list (a ladder: the owner's policy picks one per firing); `action.level` picks a level",
        "once": "fire at most once per run (default true)",
        "cooldown_weeks": "after firing, the red line rests this many weeks",
        "description": "free text",
    },
    "Outcome": {
        **_PROVENANCE,
        "condition": "when it first holds, the outcome is recorded with its week",
        "absorbing": "end the run when it happens (its state freezes; default false)",
        "on": "a date: the condition is evaluated only in the week holding it (e.g. an election)",
        "description": "free text",
    },
    "Regime": {
        **_PROVENANCE,
        "initial": "whether runs start in the regime",
        "enter": "weekly probability of entering it, for a run outside it (checked against [0, 1])",
        "exit": "weekly probability of leaving it, for a run inside it",
        "description": "free text",
    },
    "Event": {
        **_PROVENANCE,
        "date": "when; applied in the week holding this date, before anyone chooses",
        "action": "an action (or `action.level`) taken that week in place of its actor's choice on that track",
        "set": "variable → expression it is set to",
        "add": "variable → expression added to it",
        "description": "free text",
    },
    "Decision": {
        **_PROVENANCE,
        "model": "the bargaining model: `mean`, `median`, `nash` or `bdm` (see docs/bargaining.md)",
        "options": "keyword options of the model (checked against the model's signature)",
        "every_weeks": "the decision is re-taken every this many weeks (and in week 1)",
        "target": "the state variable that receives the predicted collective position",
        "actors": "party id → its position, salience and capability (two or more)",
        "description": "free text",
    },
    "DecisionActor": {
        **_PROVENANCE,
        "position": "the party's position on the decision's scale (an expression: it may move with the state)",
        "salience": "how much the issue matters to it, in [0, 1]",
        "capability": "its weight (e.g. seats)",
        "description": "free text",
    },
    "Strategy": {
        **_PROVENANCE,
        "actor": "the actor it is a policy for",
        "policy": "the policy (as under an actor's `policy`)",
        "description": "free text",
    },
    "Uncertainty": {
        **_PROVENANCE,
        "default": "the value used by `run` and `compare` (`--param ID=VALUE` overrides)",
        "low": "lower end of its range (sweeps sample within it; `validate` analyses expressions over it)",
        "high": "upper end of its range",
        "distribution": "how sweeps sample the range; only `uniform`",
        "unit": "the unit (metadata)",
        "description": "free text",
    },
    "Lever": {
        **_PROVENANCE,
        "default": "the value used by `run` and `compare` (`--param ID=VALUE` overrides)",
        "low": "lower end of its range",
        "high": "upper end of its range",
        "distribution": "how sweeps sample the range; only `uniform`",
        "unit": "the unit (metadata)",
        "description": "free text",
        "values": "makes the lever a discrete choice: it takes its default or one of these values, nothing else (`--param` refuses other settings; a factorial design tries each value, the other designs round to the nearest; the linter checks expressions at each setting). Default: any value in the range",
    },
    "Question": {
        "id": "the question's id",
        "question": "the question as asked",
        "open_date": "the first day the question counts (windows in its predicate look back no further)",
        "close_date": "the last day; the predicate is read over the weeks from open to close",
        "predicate": "a condition; the forecast is the share of runs in which it holds",
        "outcome": "what happened (for `backtest`), or empty while open",
        "facts": "free text: how it resolved (metadata)",
        "public_forecast": "a published probability to compare with (metadata)",
        "source": _PROVENANCE["source"],
        "assumption": _PROVENANCE["assumption"],
    },
}

WEEKLY = """\
## Weekly semantics

One step is one week; all runs advance together. In each week, in this order:

1. `flow` variables reset to their `initial` value; the `events` dated in this week apply
   (`set`/`add`, then their forced `action`).
2. Every actor chooses **at most one option per track** (an action, or one level of an action with
   `levels`), from the state at the start of the week. Options whose `available` condition is
   false cannot be chosen.
3. The chosen actions' `effects` apply, all computed from the same pre-move state, each change
   clipped to the variable's `min`/`max`; covert acts are attributed with their `attribution`
   probability after `delay_weeks`, and only then reach the `attributed` variables.
4. Attributions due this week land; `processes` apply in the order written; collective
   `decisions` due this week are re-taken.
5. Each red line is checked once, in the order written: when its `condition` holds and it may fire
   (not spent by `once`, not resting in `cooldown_weeks`), it fires, and its owner carries out a
   response with probability `credibility`.
6. `regimes` are entered (probability `enter`) or left (probability `exit`).
7. `outcomes` whose condition holds for the first time are recorded; an `absorbing` one ends its run.

### Tracks: how the scripted probabilities of one track combine

Options on one track are exclusive: one uniform number per actor, track and week picks at most one
of them. Each option's probability expression is evaluated and clipped to [0, 1] (a value outside
is counted, and `run` warns with the expression's place). If the probabilities of a track sum to 1
or less, each option is taken with exactly its probability and nothing with the rest. **If they sum
past 1, each is scaled to its share of the total** (0.8 and 0.6 become 0.57 and 0.43), so none is
taken with the probability written: `validate` warns when a track's probabilities can sum past 1
over the declared ranges. Actions that should be able to happen in the same week belong on
different tracks. A `logit` policy picks one option of a track, or nothing, with probabilities
proportional to exp(λ·U) (nothing has U = 0), so its probabilities always sum to 1.

### What changes a run, and what is metadata

Only these change numbers: expressions, bounds, `initial`, `flow`, policies and strategies,
`track`, `available`, `effects`, the `covert` tag with `attribution`, `levels`, processes, red
lines, regimes, events, decisions, outcomes' `condition`/`absorbing`/`on`, and the parameters'
`default` (their `low`/`high` matter to sweeps and to `validate`'s range checks). Everything else —
actor `kind`, action `escalation`, tags other than `covert`/`overt`, units, descriptions, titles,
citations — is **metadata**: shown in `trace`, reports, the web app and seats' briefings, never
read by the engines.

### What `validate` checks beyond the schema

Probabilities (scripted probabilities, credibilities, attribution probabilities, regime hazards,
saliences, `bernoulli` arguments) are analysed with interval arithmetic over the declared ranges
of what they read (bounds of state variables, ranges of uncertainties and levers, levels): one
that is always outside [0, 1] is refused (e.g. a percentage), one that can be is a warning. Also
warned: track probabilities that can sum past 1, a real variable with no `initial`, an uncertainty
or lever no expression reads, a state variable nothing reads or changes, an action nothing can
take, an element with neither `source` nor `assumption`. `validate --strict` turns every warning
into an error (exit 2).
"""


def models() -> list[type[BaseModel]]:
    """Every model reachable from :class:`~redline.scenario.schema.Scenario`, in reading order."""
    seen: list[type[BaseModel]] = []

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for f in model.model_fields.values():
            for t in _flatten(f.annotation):
                if isinstance(t, type) and issubclass(t, BaseModel):
                    walk(t)

    walk(S.Scenario)
    return seen


def _flatten(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out.extend(_flatten(arg))
    return out


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is typing.Annotated:
        return "expression" if args and args[0] is Any else _type_name(args[0])
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of id → {_type_name(args[1])}" if len(args) == 2 else "map"
    if annotation is Any:
        return "expression"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        if issubclass(annotation, enum.Enum):
            return " \\| ".join(f"`{m.value}`" for m in annotation)
        return {str: "text", int: "whole number", float: "number", bool: "true/false", dt.date: "date"}.get(
            annotation, annotation.__name__)
    return str(annotation)


def _default(field) -> str:
    if field.is_required():
        return "—"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "(empty)"
        return "`[]`" if isinstance(value, list) else "`{}`" if isinstance(value, dict) else f"`{value!r}`"
    value = field.default
    if value is PydanticUndefined or value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def render() -> str:
    """The format reference as Markdown."""
    lines = ["# Scenario format reference", "",
             "<!-- Generated from redline/scenario/schema.py by `make docs`; do not edit by hand. -->", "",
             "Every key a scenario file may hold, whether it is required, its default and its meaning. Unknown",
             "keys are refused with a did-you-mean suggestion. A guided tour is in [scenarios.md](scenarios.md)",
             "and a worked example in [first-scenario.md](first-scenario.md).", "",
             WEEKLY.rstrip(), ""]
    problems = []
    for model in models():
        name = model.__name__
        meanings = MEANINGS.get(name)
        if meanings is None:
            problems.append(f"model {name} has no entry in MEANINGS")
            continue
        extra = set(meanings) - set(model.model_fields)
        problems += [f"MEANINGS names {name}.{k}, which the schema does not have" for k in sorted(extra)]
        doc = " ".join((model.__doc__ or "").split()).replace("``", "`")
        lines += [f"## {name}", ""]
        if doc and name != "Scenario":
            lines += [doc, ""]
        lines += ["| key | type | required | default | meaning |", "| --- | --- | --- | --- | --- |"]
        for key, f in model.model_fields.items():
            meaning = meanings.get(key)
            if meaning is None:
                problems.append(f"{name}.{key} has no meaning in MEANINGS")
                continue
            lines.append(f"| `{f.alias or key}` | {_type_name(f.annotation)} | {'yes' if f.is_required() else 'no'} "
                         f"| {_default(f)} | {meaning} |")
        lines.append("")
    if problems:
        raise RuntimeError("the format reference is out of step with the schema: " + "; ".join(problems))
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # python -m redline.scenario.format_reference > docs/format.md
    import sys

    sys.stdout.write(render())
