"""Check a validated scenario's cross-references and compile its expressions into a program.

The :class:`Program` is what engines run: ordered state variables with bounds, compiled
initial values, attributes, actions grouped by actor and track, processes, red lines, outcomes
and policies. Every reference is checked here with a located, did-you-mean error.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from redline import expr as ex
from redline.errors import ScenarioError, did_you_mean
from redline.scenario.schema import Policy, Scenario
from redline.scenario.yaml_safe import Document

__all__ = ["Program", "CompiledAction", "CompiledPolicy", "Effect", "build_program", "iter_elements", "week_of"]


def week_of(as_of: dt.date, date: dt.date) -> int:
    """The simulated week that contains ``date`` (week 1 starts at ``as_of``)."""
    return (date - as_of).days // 7 + 1


@dataclass(frozen=True)
class Effect:
    var: str
    op: str  # "add" | "set"
    value: ex.Expression
    attributed: str | None


@dataclass(frozen=True)
class CompiledAction:
    id: str
    actor: str
    track: str
    available: ex.Expression | None
    effects: tuple[Effect, ...]
    covert: bool
    attribution_probability: ex.Expression | None
    attribution_delay: ex.Expression | None
    utility: ex.Expression | None
    escalation: float | None


@dataclass(frozen=True)
class CompiledPolicy:
    kind: str
    rationality: ex.Expression | None
    probabilities: dict[str, ex.Expression]
    goals: dict[str, float]
    utilities: dict[str, ex.Expression]
    name: str


@dataclass(frozen=True)
class CompiledProcess:
    id: str
    when: ex.Expression | None
    updates: tuple[tuple[str, str, ex.Expression], ...]  # (var, op, value)


@dataclass(frozen=True)
class CompiledRedLine:
    id: str
    owner: str
    condition: ex.Expression
    credibility: ex.Expression
    response: str
    once: bool


@dataclass(frozen=True)
class CompiledOutcome:
    id: str
    condition: ex.Expression
    absorbing: bool
    week: int | None


@dataclass(frozen=True)
class CompiledDecision:
    id: str
    model: str
    options: dict
    every_weeks: int
    target: str
    parties: tuple[str, ...]
    positions: tuple[ex.Expression, ...]
    saliences: tuple[ex.Expression, ...]
    capabilities: tuple[ex.Expression, ...]


@dataclass
class Program:
    """A scenario compiled for the engines."""

    variables: list[str]
    kinds: dict[str, str]
    flows: list[str]
    bounds: dict[str, tuple[float | None, float | None]]
    initial: dict[str, ex.Expression]
    attributes: dict[str, ex.Expression]
    parameters: dict[str, float]
    parameter_ranges: dict[str, tuple[float, float]]
    actions: dict[str, CompiledAction]
    tracks: dict[str, dict[str, list[str]]]  # actor -> track -> action ids
    processes: list[CompiledProcess]
    red_lines: list[CompiledRedLine]
    outcomes: list[CompiledOutcome]
    decisions: list[CompiledDecision]
    policies: dict[str, CompiledPolicy]  # default policy per actor
    strategies: dict[str, dict[str, CompiledPolicy]]  # actor -> strategy name -> policy
    names: frozenset[str]
    horizon: int
    as_of: dt.date
    actor_goals: dict[str, dict[str, float]] = field(default_factory=dict)

    def policy_for(self, actor: str, strategy: str | None) -> CompiledPolicy:
        if strategy is None:
            return self.policies[actor]
        return self.strategies[actor][strategy]


class _Context:
    def __init__(self, spec: Scenario, doc: Document | None, file: str):
        self.spec = spec
        self.doc = doc
        self.file = file

    def where(self, path: tuple, *, key: bool = False):
        if self.doc is None:
            from redline.errors import Location

            return Location(self.file)
        return self.doc.locate(path, key=key)

    def fail(self, message: str, path: tuple, *, key: bool = False) -> ScenarioError:
        return ScenarioError(message, self.where(path, key=key))

    def check_ref(self, value: str, choices, what: str, path: tuple) -> None:
        if value not in choices:
            raise self.fail(f"unknown {what} '{value}'{did_you_mean(value, choices)}", path)

    def probability(self, value: Any, names: frozenset[str], path: tuple) -> ex.Expression:
        """Compile an expression that must be a probability; a constant outside [0, 1] is an error."""
        e = self.compile(value, names, path)
        if e.constant is not None and not 0.0 <= e.constant <= 1.0:
            raise self.fail(f"probability {e.constant:g} is outside [0, 1]", path)
        return e

    def compile(self, value: Any, names: frozenset[str], path: tuple) -> ex.Expression:
        loc = self.where(path)
        if self.doc is not None and self.doc.quoted.get(path) and loc.column is not None:
            from redline.errors import Location

            loc = Location(loc.file, loc.line, loc.column + 1)
        site = ".".join(str(p) for p in path)
        return ex.parse(value, names=names, site=site, location=loc)


def build_program(spec: Scenario, doc: Document | None = None, file: str = "<input>") -> tuple[Program, list[str]]:
    """Check references and compile ``spec``; return the program and provenance warnings."""
    c = _Context(spec, doc, file)
    actors = spec.actors
    variables = list(spec.state)
    params = {**{k: u.default for k, u in spec.uncertainties.items()}, **{k: v.default for k, v in spec.levers.items()}}
    ranges = {**{k: (u.low, u.high) for k, u in spec.uncertainties.items()},
              **{k: (v.low, v.high) for k, v in spec.levers.items()}}

    # One namespace for expressions; a name used twice would be ambiguous.
    owners: dict[str, tuple] = {}

    def claim(name: str, path: tuple) -> None:
        # Registered domain functions (e.g. breakout_days) live in the call namespace only, so a
        # state variable may share their name; built-in functions stay reserved.
        if name == "week" or name in set(ex.FUNCTIONS()) - set(ex._EXTENSIONS):
            raise c.fail(f"'{name}' is reserved in expressions; rename this element", path, key=True)
        if name in owners:
            other = ".".join(str(p) for p in owners[name])
            raise c.fail(f"name '{name}' is already used by {other}; ids must be unique across sections", path, key=True)
        owners[name] = path

    for section in ("state", "uncertainties", "levers", "actions", "outcomes", "red_lines"):
        for name in getattr(spec, section):
            claim(name, (section, name))
    attribute_names: dict[str, tuple[str, str]] = {}
    for actor_id, actor in actors.items():
        for attr in actor.attributes:
            flat = f"{actor_id}_{attr}"
            claim(flat, ("actors", actor_id, "attributes", attr))
            attribute_names[flat] = (actor_id, attr)
    names = frozenset(owners)
    static_names = frozenset(set(params) | set(attribute_names))  # what initial values may read

    # Sources and provenance.
    warnings: list[str] = []
    for path, element in iter_elements(spec):
        src = getattr(element, "source", None)
        if src is not None:
            c.check_ref(src.id, spec.sources, "source", path + ("source", "id"))
        elif not getattr(element, "assumption", None):
            loc = c.where(path, key=True)
            warnings.append(f"{loc}: {'.'.join(map(str, path))} has neither a source nor an assumption")

    # State.
    kinds = {k: v.type for k, v in spec.state.items()}
    bounds: dict[str, tuple[float | None, float | None]] = {}
    initial = {}
    for name, var in spec.state.items():
        lo, hi = var.min, var.max
        if var.type == "boolean":
            lo, hi = 0.0, 1.0
        elif var.type == "counter" and lo is None:
            lo = 0.0
        bounds[name] = (lo, hi)
        initial[name] = c.compile(var.initial, static_names, ("state", name, "initial"))
        start = initial[name].constant
        if start is not None and var.type != "boolean" and (
                (lo is not None and start < lo) or (hi is not None and start > hi)):
            # The engines clip every value to its bounds; a starting value outside them would be
            # changed without a word, so it is an error here.
            raise c.fail(f"initial value {start:g} is outside the bounds [{'-inf' if lo is None else f'{lo:g}'}, "
                         f"{'inf' if hi is None else f'{hi:g}'}] of '{name}'", ("state", name, "initial"))
    attributes = {
        f"{actor_id}_{attr}": c.compile(a.value, frozenset(params), ("actors", actor_id, "attributes", attr, "value"))
        for actor_id, actor in actors.items()
        for attr, a in actor.attributes.items()
    }

    # Actions.
    compiled_actions: dict[str, CompiledAction] = {}
    tracks: dict[str, dict[str, list[str]]] = {a: {} for a in actors}
    for aid, action in spec.actions.items():
        base = ("actions", aid)
        c.check_ref(action.actor, actors, "actor", base + ("actor",))
        effects = []
        for i, eff in enumerate(action.effects):
            c.check_ref(eff.var, spec.state, "state variable", base + ("effects", i, "var"))
            if eff.attributed is not None:
                c.check_ref(eff.attributed, spec.state, "state variable", base + ("effects", i, "attributed"))
            op = "add" if eff.add is not None else "set"
            value = c.compile(eff.add if op == "add" else eff.set, names, base + ("effects", i, op))
            effects.append(Effect(eff.var, op, value, eff.attributed))
        covert = "covert" in action.tags
        att = action.attribution
        if att is not None and not covert:
            raise c.fail("`attribution` is for covert actions: add the tag 'covert'", base + ("attribution",), key=True)
        compiled_actions[aid] = CompiledAction(
            id=aid,
            actor=action.actor,
            track=action.track,
            available=None if action.available is None else c.compile(action.available, names, base + ("available",)),
            effects=tuple(effects),
            covert=covert,
            attribution_probability=None if att is None else c.probability(att.probability, names, base + ("attribution", "probability")),
            attribution_delay=None if att is None else c.compile(att.delay_weeks, names, base + ("attribution", "delay_weeks")),
            utility=None if action.utility is None else c.compile(action.utility, names, base + ("utility",)),
            escalation=action.escalation,
        )
        tracks[action.actor].setdefault(action.track, []).append(aid)

    # Processes.
    processes = []
    for pid, proc in spec.processes.items():
        base = ("processes", pid)
        updates = []
        for op in ("set", "add"):
            for var, value in getattr(proc, op).items():
                c.check_ref(var, spec.state, "state variable", base + (op, var))
                updates.append((var, op, c.compile(value, names, base + (op, var))))
        when = None if proc.when is None else c.compile(proc.when, names, base + ("when",))
        processes.append(CompiledProcess(pid, when, tuple(updates)))

    # Red lines.
    red_lines = []
    for rid, rl in spec.red_lines.items():
        base = ("red_lines", rid)
        c.check_ref(rl.owner, actors, "actor", base + ("owner",))
        c.check_ref(rl.response, spec.actions, "action", base + ("response",))
        if spec.actions[rl.response].actor != rl.owner:
            raise c.fail(f"response '{rl.response}' is an action of '{spec.actions[rl.response].actor}', "
                         f"not of the red line's owner '{rl.owner}'", base + ("response",))
        red_lines.append(CompiledRedLine(
            rid, rl.owner, c.compile(rl.condition, names, base + ("condition",)),
            c.probability(rl.credibility, names, base + ("credibility",)), rl.response, rl.once,
        ))

    # Outcomes.
    outcomes = []
    for oid, out in spec.outcomes.items():
        base = ("outcomes", oid)
        week = None
        if out.on is not None:
            week = week_of(spec.meta.as_of, out.on)
            if week < 1:
                raise c.fail(f"date {out.on} is before the scenario's as_of {spec.meta.as_of}", base + ("on",))
            if week > spec.meta.horizon:
                raise c.fail(f"date {out.on} is week {week}, past the scenario's horizon of "
                             f"{spec.meta.horizon} weeks: the outcome could never be reached", base + ("on",))
        outcomes.append(CompiledOutcome(oid, c.compile(out.condition, names, base + ("condition",)), out.absorbing, week))

    # Collective decisions.
    decisions = []
    for did, dec in spec.decisions.items():
        base = ("decisions", did)
        c.check_ref(dec.target, spec.state, "state variable", base + ("target",))
        parties = tuple(dec.actors)
        decisions.append(CompiledDecision(
            did, dec.model, dict(dec.options), dec.every_weeks, dec.target, parties,
            tuple(c.compile(a.position, names, base + ("actors", k, "position")) for k, a in dec.actors.items()),
            tuple(c.probability(a.salience, names, base + ("actors", k, "salience")) for k, a in dec.actors.items()),
            tuple(c.compile(a.capability, names, base + ("actors", k, "capability")) for k, a in dec.actors.items()),
        ))

    # Policies and strategies.
    def compile_policy(policy: Policy, actor_id: str, base: tuple, name: str) -> CompiledPolicy:
        own = {a for a, act in spec.actions.items() if act.actor == actor_id}
        probs = {}
        for aid, value in policy.probabilities.items():
            c.check_ref(aid, own, f"action of '{actor_id}'", base + ("probabilities", aid))
            probs[aid] = c.probability(value, names, base + ("probabilities", aid))
        utilities = {}
        for aid, value in policy.utilities.items():
            c.check_ref(aid, own, f"action of '{actor_id}'", base + ("utilities", aid))
            utilities[aid] = c.compile(value, names, base + ("utilities", aid))
        goals = dict(actors[actor_id].goals)
        for var in policy.goals:
            c.check_ref(var, spec.state, "state variable", base + ("goals", var))
        goals.update(policy.goals)
        rationality = None
        if policy.kind == "logit":
            rationality = c.compile(policy.rationality if policy.rationality is not None else 1.0, names,
                                    base + ("rationality",))
        return CompiledPolicy(policy.kind, rationality, probs, goals, utilities, name)

    for actor_id, actor in actors.items():
        for var in actor.goals:
            c.check_ref(var, spec.state, "state variable", ("actors", actor_id, "goals", var))
        for key in ("show", "hide"):
            for i, name in enumerate(getattr(actor.visibility, key)):
                c.check_ref(name, names, "name", ("actors", actor_id, "visibility", key, i))
    strategies: dict[str, dict[str, CompiledPolicy]] = {a: {} for a in actors}
    for sid, strat in spec.strategies.items():
        base = ("strategies", sid)
        c.check_ref(strat.actor, actors, "actor", base + ("actor",))
        strategies[strat.actor][sid] = compile_policy(strat.policy, strat.actor, base + ("policy",), sid)
    policies = {}
    for actor_id, actor in actors.items():
        base = ("actors", actor_id)
        if actor.strategy is not None:
            c.check_ref(actor.strategy, strategies[actor_id], f"strategy of '{actor_id}'", base + ("strategy",))
            policies[actor_id] = strategies[actor_id][actor.strategy]
        elif actor.policy is not None:
            policies[actor_id] = compile_policy(actor.policy, actor_id, base + ("policy",), "default")
        else:
            policies[actor_id] = CompiledPolicy("scripted", None, {}, dict(actor.goals), {}, "default")
            if tracks[actor_id]:
                warnings.append(f"{c.where(base, key=True)}: actor '{actor_id}' has actions but no policy or strategy; "
                                "it will never act unless a strategy is chosen")

    # Questions in the scenario itself.
    for i, q in enumerate(spec.questions):
        c.compile(q.predicate, names, ("questions", i, "predicate"))

    program = Program(
        variables=variables, kinds=kinds, flows=[k for k, v in spec.state.items() if v.flow], bounds=bounds, initial=initial, attributes=attributes,
        parameters=params, parameter_ranges=ranges, actions=compiled_actions, tracks=tracks,
        processes=processes, red_lines=red_lines, outcomes=outcomes, decisions=decisions, policies=policies,
        strategies=strategies, names=names, horizon=spec.meta.horizon, as_of=spec.meta.as_of,
        actor_goals={a: dict(actor.goals) for a, actor in actors.items()},
    )
    return program, warnings


def iter_elements(spec: Scenario):
    """Every element that should carry provenance, with its path."""
    for section in ("actors", "state", "actions", "processes", "red_lines", "outcomes", "decisions", "strategies",
                    "uncertainties", "levers"):
        for name, element in getattr(spec, section).items():
            yield (section, name), element
    for did, dec in spec.decisions.items():
        for party, a in dec.actors.items():
            yield ("decisions", did, "actors", party), a
    for actor_id, actor in spec.actors.items():
        for attr, a in actor.attributes.items():
            yield ("actors", actor_id, "attributes", attr), a
