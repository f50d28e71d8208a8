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
from redline.errors import Location, ScenarioError, did_you_mean
from redline.scenario.schema import Policy, Scenario
from redline.scenario.yaml_safe import Document

__all__ = ["Program", "CompiledAction", "CompiledEvent", "CompiledPolicy", "CompiledRegime", "Effect", "build_program",
           "iter_elements", "option_id", "week_of"]


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
    levels: tuple[str, ...] = ()  # level names; () for an action without levels
    level_keys: tuple[str, ...] = ()
    level_values: tuple[tuple[float, ...], ...] = ()  # per level, one value per key

    @property
    def n_levels(self) -> int:
        return max(len(self.levels), 1)


def option_id(action: CompiledAction, level: int) -> str:
    """The name of one option of ``action``: its id, or ``id.level`` for an action with levels."""
    return f"{action.id}.{action.levels[level]}" if action.levels else action.id


@dataclass(frozen=True)
class CompiledPolicy:
    kind: str
    rationality: ex.Expression | None
    probabilities: dict[str, ex.Expression]  # option id (action, or action.level) -> probability
    goals: dict[str, float]
    utilities: dict[str, ex.Expression]
    name: str
    anticipate: bool = False


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
    responses: tuple[tuple[str, int], ...]  # options (action id, level index) the owner chooses among
    once: bool
    cooldown_weeks: int = 0

    @property
    def response(self) -> str:
        """The first response's action id."""
        return self.responses[0][0]


@dataclass(frozen=True)
class CompiledRegime:
    id: str
    initial: bool
    enter: ex.Expression
    exit: ex.Expression


@dataclass(frozen=True)
class CompiledEvent:
    """A scheduled event: state changes and/or a forced option at ``week``."""

    id: str
    week: int
    action: tuple[str, int] | None  # (action id, level index)
    updates: tuple[tuple[str, str, ex.Expression], ...]  # (var, op, value)


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
    regimes: list[CompiledRegime] = field(default_factory=list)
    events: list[CompiledEvent] = field(default_factory=list)
    lever_settings: dict[str, tuple[float, ...]] = field(default_factory=dict)  # discrete levers: default + values

    def options(self, action_ids) -> list[tuple[str, int]]:
        """Every (action, level) option of the given actions, in order."""
        return [(aid, i) for aid in action_ids for i in range(self.actions[aid].n_levels)]

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
            loc = Location(loc.file, loc.line, loc.column + 1)
        site = ".".join(str(p) for p in path)
        return ex.parse(value, names=names, site=site, location=loc)


def lever_settings(spec: Scenario) -> dict[str, tuple[float, ...]]:
    """The settings of every lever that declares ``values``: its default and those values, sorted.

    Such a lever is a discrete choice; the engines refuse any other setting, so the linter may
    analyse expressions at each setting instead of over the lever's whole range.
    """
    return {name: tuple(sorted({float(lever.default), *map(float, lever.values)}))
            for name, lever in spec.levers.items() if lever.values}


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
        if name == "week" or name in set(ex.FUNCTIONS()) - ex.extension_names():
            raise c.fail(f"'{name}' is reserved in expressions; rename this element", path, key=True)
        if name in owners:
            other = ".".join(str(p) for p in owners[name])
            raise c.fail(f"name '{name}' is already used by {other}; ids must be unique across sections", path, key=True)
        owners[name] = path

    for section in ("state", "uncertainties", "levers", "actions", "outcomes", "red_lines", "regimes"):
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
        level_names: tuple[str, ...] = ()
        level_keys: tuple[str, ...] = ()
        level_values: tuple[tuple[float, ...], ...] = ()
        own_names = names
        if action.levels:
            level_names = tuple(action.levels)
            level_keys = tuple(next(iter(action.levels.values())))
            for key in level_keys:
                if key in names or key == "week" or key in ex.FUNCTIONS():
                    raise c.fail(f"level key '{key}' is already a name in expressions; rename it",
                                 base + ("levels", level_names[0], key), key=True)
            level_values = tuple(tuple(float(lv[k]) for k in level_keys) for lv in action.levels.values())
            own_names = names | frozenset(level_keys)
        effects = []
        for i, eff in enumerate(action.effects):
            c.check_ref(eff.var, spec.state, "state variable", base + ("effects", i, "var"))
            if eff.attributed is not None:
                c.check_ref(eff.attributed, spec.state, "state variable", base + ("effects", i, "attributed"))
            op = "add" if eff.add is not None else "set"
            value = c.compile(eff.add if op == "add" else eff.set, own_names, base + ("effects", i, op))
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
            attribution_probability=None if att is None else c.probability(att.probability, own_names, base + ("attribution", "probability")),
            attribution_delay=None if att is None else c.compile(att.delay_weeks, own_names, base + ("attribution", "delay_weeks")),
            utility=None if action.utility is None else c.compile(action.utility, own_names, base + ("utility",)),
            escalation=action.escalation,
            levels=level_names,
            level_keys=level_keys,
            level_values=level_values,
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

    def resolve_option(value: str, actor: str | None, path: tuple) -> list[tuple[str, int]]:
        """An option name -> its (action, level) options: `action` (every level, or the only
        one), or `action.level` (that level). ``actor``: the actor whose action it must be."""
        aid, _, level = value.partition(".")
        own = compiled_actions if actor is None else {a for a, x in compiled_actions.items() if x.actor == actor}
        if aid not in compiled_actions:
            what = "action" if actor is None else f"action of '{actor}'"
            raise c.fail(f"unknown {what} '{aid}'{did_you_mean(aid, own)}", path)
        act = compiled_actions[aid]
        if actor is not None and act.actor != actor:
            raise c.fail(f"'{aid}' is an action of '{act.actor}', not of '{actor}'"
                         f"{did_you_mean(aid, own)}", path)
        if not level:
            return [(aid, i) for i in range(act.n_levels)]
        if level not in act.levels:
            if not act.levels:
                raise c.fail(f"action '{aid}' has no levels (drop '.{level}')", path)
            raise c.fail(f"unknown level '{level}' of '{aid}'{did_you_mean(level, act.levels)} "
                         f"(levels: {', '.join(act.levels)})", path)
        return [(aid, act.levels.index(level))]

    # Red lines.
    red_lines = []
    for rid, rl in spec.red_lines.items():
        base = ("red_lines", rid)
        c.check_ref(rl.owner, actors, "actor", base + ("owner",))
        listed = isinstance(rl.response, list)
        responses: list[tuple[str, int]] = []
        for k, name in enumerate(rl.responses):
            path = base + ("response", k) if listed else base + ("response",)
            responses.extend(o for o in resolve_option(name, rl.owner, path) if o not in responses)
        red_lines.append(CompiledRedLine(
            rid, rl.owner, c.compile(rl.condition, names, base + ("condition",)),
            c.probability(rl.credibility, names, base + ("credibility",)), tuple(responses), rl.once,
            rl.cooldown_weeks,
        ))

    # Regimes.
    regimes = []
    for gid, reg in spec.regimes.items():
        base = ("regimes", gid)
        regimes.append(CompiledRegime(gid, reg.initial, c.probability(reg.enter, names, base + ("enter",)),
                                      c.probability(reg.exit, names, base + ("exit",))))

    # Scheduled events.
    events = []
    for i, event in enumerate(spec.events):
        base = ("events", i)
        week = week_of(spec.meta.as_of, event.date)
        if week < 1:
            raise c.fail(f"date {event.date} is before the scenario's as_of {spec.meta.as_of}", base + ("date",))
        forced = None
        if event.action is not None:
            options = resolve_option(event.action, None, base + ("action",))
            forced = options[0]
        updates = []
        for op in ("set", "add"):
            for var, value in getattr(event, op).items():
                c.check_ref(var, spec.state, "state variable", base + (op, var))
                updates.append((var, op, c.compile(value, names, base + (op, var))))
        events.append(CompiledEvent(f"events.{i}", week, forced, tuple(updates)))
    seen_forced: dict[tuple[str, str, int], int] = {}
    for i, e in enumerate(events):
        if e.action is None:
            continue
        act = compiled_actions[e.action[0]]
        slot = (act.actor, act.track, e.week)
        if slot in seen_forced:
            raise c.fail(f"events {seen_forced[slot]} and {i} both schedule an action of '{act.actor}' on track "
                         f"'{act.track}' in week {e.week}; an actor takes at most one action per track and week",
                         ("events", i, "action"))
        seen_forced[slot] = i

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
        for key, value in policy.probabilities.items():
            path = base + ("probabilities", key)
            aid, level = resolve_option(key, actor_id, path)[0]  # a bare action with levels = its first level
            canonical = option_id(compiled_actions[aid], level)
            if canonical in probs:
                raise c.fail(f"'{key}' and another key both give the probability of {canonical}", path, key=True)
            probs[canonical] = c.probability(value, names, path)
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
        anticipate = policy.kind == "logit" and (policy.anticipate is None or policy.anticipate)
        return CompiledPolicy(policy.kind, rationality, probs, goals, utilities, name, anticipate)

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
        parameters=params, parameter_ranges=ranges, lever_settings=lever_settings(spec), actions=compiled_actions, tracks=tracks,
        processes=processes, red_lines=red_lines, outcomes=outcomes, decisions=decisions, policies=policies,
        strategies=strategies, names=names, horizon=spec.meta.horizon, as_of=spec.meta.as_of,
        actor_goals={a: dict(actor.goals) for a, actor in actors.items()},
        regimes=regimes, events=events,
    )
    return program, warnings


def iter_elements(spec: Scenario):
    """Every element that should carry provenance, with its path."""
    for section in ("actors", "state", "actions", "processes", "red_lines", "outcomes", "regimes", "decisions",
                    "strategies", "uncertainties", "levers"):
        for name, element in getattr(spec, section).items():
            yield (section, name), element
    for i, event in enumerate(spec.events):
        yield ("events", i), event
    for did, dec in spec.decisions.items():
        for party, a in dec.actors.items():
            yield ("decisions", did, "actors", party), a
    for actor_id, actor in spec.actors.items():
        for attr, a in actor.attributes.items():
            yield ("actors", actor_id, "attributes", attr), a
