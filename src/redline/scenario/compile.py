"""Check a validated scenario's cross-references and compile its expressions into a program.

The :class:`Program` is what engines run: ordered state variables with bounds, compiled
initial values, attributes, actions grouped by actor and track, processes, red lines, outcomes
and policies. Every reference is checked here with a located, did-you-mean error.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

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

    def expressions(self) -> list[ex.Expression]:
        """Every compiled expression the program holds (initial values, effects, probabilities,
        processes, red lines, outcomes, decisions, policies ...), found once and then kept: a
        walk over the whole program costs milliseconds, and every simulation asks (its memory
        estimate counts the windows)."""
        found = self.__dict__.get("_expressions")
        if found is None:
            found = self.__dict__["_expressions"] = list(expressions_in(self))
        return found

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
    """Check references and compile ``spec``; return the program and provenance warnings.

    The steps run in the order of their dependencies: the expression namespace first (every
    later expression is compiled against it), actions before what names them (red-line responses,
    scheduled events, policies)."""
    c = _Compiler(spec, doc, file)
    c.claim_names()
    c.check_provenance()
    bounds, initial = c.state()
    attributes = c.attributes()
    c.actions()
    processes = c.processes()
    red_lines = c.red_lines()
    regimes = c.regimes()
    events = c.events()
    outcomes = c.outcomes()
    decisions = c.decisions()
    c.check_actor_names()
    strategies, policies = c.policies()
    c.questions()
    program = Program(
        variables=list(spec.state), kinds={k: v.type for k, v in spec.state.items()},
        flows=[k for k, v in spec.state.items() if v.flow], bounds=bounds, initial=initial, attributes=attributes,
        parameters=c.params, parameter_ranges=c.ranges, lever_settings=lever_settings(spec),
        actions=c.compiled_actions, tracks=c.tracks,
        processes=processes, red_lines=red_lines, outcomes=outcomes, decisions=decisions, policies=policies,
        strategies=strategies, names=c.names, horizon=spec.meta.horizon, as_of=spec.meta.as_of,
        actor_goals={a: dict(actor.goals) for a, actor in spec.actors.items()},
        regimes=regimes, events=events,
    )
    return program, c.warnings


class _Compiler(_Context):
    """The steps of :func:`build_program`; each checks and compiles one part of the scenario."""

    def __init__(self, spec: Scenario, doc: Document | None, file: str):
        super().__init__(spec, doc, file)
        self.params = {**{k: u.default for k, u in spec.uncertainties.items()},
                       **{k: v.default for k, v in spec.levers.items()}}
        self.ranges = {**{k: (u.low, u.high) for k, u in spec.uncertainties.items()},
                       **{k: (v.low, v.high) for k, v in spec.levers.items()}}
        self.names: frozenset[str] = frozenset()
        self.static_names: frozenset[str] = frozenset()  # what initial values may read
        self.warnings: list[str] = []
        self.compiled_actions: dict[str, CompiledAction] = {}
        self.tracks: dict[str, dict[str, list[str]]] = {a: {} for a in spec.actors}

    def claim_names(self) -> None:
        """One namespace for expressions; a name used twice would be ambiguous."""
        spec = self.spec
        owners: dict[str, tuple] = {}

        def claim(name: str, path: tuple) -> None:
            # Registered domain functions (e.g. breakout_days) live in the call namespace only, so a
            # state variable may share their name; built-in functions stay reserved.
            if name == "week" or name in set(ex.FUNCTIONS()) - ex.extension_names():
                raise self.fail(f"'{name}' is reserved in expressions; rename this element", path, key=True)
            if name in owners:
                other = ".".join(str(p) for p in owners[name])
                raise self.fail(f"name '{name}' is already used by {other}; ids must be unique across sections",
                                path, key=True)
            owners[name] = path

        for section in ("state", "uncertainties", "levers", "actions", "outcomes", "red_lines", "regimes"):
            for name in getattr(spec, section):
                claim(name, (section, name))
        attribute_names = []
        for actor_id, actor in spec.actors.items():
            for attr in actor.attributes:
                flat = f"{actor_id}_{attr}"
                claim(flat, ("actors", actor_id, "attributes", attr))
                attribute_names.append(flat)
        self.names = frozenset(owners)
        self.static_names = frozenset(set(self.params) | set(attribute_names))

    def check_provenance(self) -> None:
        """Sources must exist; an element with neither a source nor an assumption is a warning."""
        for path, element in iter_elements(self.spec):
            src = getattr(element, "source", None)
            if src is not None:
                self.check_ref(src.id, self.spec.sources, "source", path + ("source", "id"))
            elif not getattr(element, "assumption", None):
                loc = self.where(path, key=True)
                self.warnings.append(f"{loc}: {'.'.join(map(str, path))} has neither a source nor an assumption")

    def state(self) -> tuple[dict[str, tuple[float | None, float | None]], dict[str, ex.Expression]]:
        """Each variable's bounds (booleans 0..1, counters from 0) and compiled initial value; a
        constant start outside the bounds is an error (the engines would clip it without a word)."""
        bounds: dict[str, tuple[float | None, float | None]] = {}
        initial = {}
        for name, var in self.spec.state.items():
            lo, hi = var.min, var.max
            if var.type == "boolean":
                lo, hi = 0.0, 1.0
            elif var.type == "counter" and lo is None:
                lo = 0.0
            bounds[name] = (lo, hi)
            initial[name] = self.compile(var.initial, self.static_names, ("state", name, "initial"))
            start = initial[name].constant
            if start is not None and var.type != "boolean" and (
                    (lo is not None and start < lo) or (hi is not None and start > hi)):
                raise self.fail(f"initial value {start:g} is outside the bounds [{'-inf' if lo is None else f'{lo:g}'}, "
                                f"{'inf' if hi is None else f'{hi:g}'}] of '{name}'", ("state", name, "initial"))
        return bounds, initial

    def attributes(self) -> dict[str, ex.Expression]:
        """Actor attributes, flattened to ``actor_attribute``; they may read parameters only."""
        return {
            f"{actor_id}_{attr}": self.compile(a.value, frozenset(self.params),
                                               ("actors", actor_id, "attributes", attr, "value"))
            for actor_id, actor in self.spec.actors.items()
            for attr, a in actor.attributes.items()
        }

    def actions(self) -> None:
        """Every action compiled (levels, effects, attribution, utility) and listed on its actor's track."""
        for aid, action in self.spec.actions.items():
            self.compiled_actions[aid] = self._action(aid, action)
            self.tracks[action.actor].setdefault(action.track, []).append(aid)

    def _action(self, aid: str, action) -> CompiledAction:
        spec, names = self.spec, self.names
        base = ("actions", aid)
        self.check_ref(action.actor, spec.actors, "actor", base + ("actor",))
        level_names: tuple[str, ...] = ()
        level_keys: tuple[str, ...] = ()
        level_values: tuple[tuple[float, ...], ...] = ()
        own_names = names
        if action.levels:
            level_names = tuple(action.levels)
            level_keys = tuple(next(iter(action.levels.values())))
            for key in level_keys:
                if key in names or key == "week" or key in ex.FUNCTIONS():
                    raise self.fail(f"level key '{key}' is already a name in expressions; rename it",
                                    base + ("levels", level_names[0], key), key=True)
            level_values = tuple(tuple(float(lv[k]) for k in level_keys) for lv in action.levels.values())
            own_names = names | frozenset(level_keys)
        effects = []
        for i, eff in enumerate(action.effects):
            self.check_ref(eff.var, spec.state, "state variable", base + ("effects", i, "var"))
            if eff.attributed is not None:
                self.check_ref(eff.attributed, spec.state, "state variable", base + ("effects", i, "attributed"))
            op = "add" if eff.add is not None else "set"
            value = self.compile(eff.add if op == "add" else eff.set, own_names, base + ("effects", i, op))
            effects.append(Effect(eff.var, op, value, eff.attributed))
        covert = "covert" in action.tags
        att = action.attribution
        if att is not None and not covert:
            raise self.fail("`attribution` is for covert actions: add the tag 'covert'", base + ("attribution",),
                            key=True)
        return CompiledAction(
            id=aid,
            actor=action.actor,
            track=action.track,
            available=None if action.available is None else self.compile(action.available, names, base + ("available",)),
            effects=tuple(effects),
            covert=covert,
            attribution_probability=None if att is None else self.probability(
                att.probability, own_names, base + ("attribution", "probability")),
            attribution_delay=None if att is None else self.compile(
                att.delay_weeks, own_names, base + ("attribution", "delay_weeks")),
            utility=None if action.utility is None else self.compile(action.utility, own_names, base + ("utility",)),
            escalation=action.escalation,
            levels=level_names,
            level_keys=level_keys,
            level_values=level_values,
        )

    def _updates(self, element, base: tuple) -> tuple[tuple[str, str, ex.Expression], ...]:
        """An element's ``set`` and ``add`` state updates, in that order: (variable, op, value)."""
        updates = []
        for op in ("set", "add"):
            for var, value in getattr(element, op).items():
                self.check_ref(var, self.spec.state, "state variable", base + (op, var))
                updates.append((var, op, self.compile(value, self.names, base + (op, var))))
        return tuple(updates)

    def processes(self) -> list[CompiledProcess]:
        processes = []
        for pid, proc in self.spec.processes.items():
            base = ("processes", pid)
            updates = self._updates(proc, base)
            when = None if proc.when is None else self.compile(proc.when, self.names, base + ("when",))
            processes.append(CompiledProcess(pid, when, updates))
        return processes

    def resolve_option(self, value: str, actor: str | None, path: tuple) -> list[tuple[str, int]]:
        """An option name -> its (action, level) options: `action` (every level, or the only
        one), or `action.level` (that level). ``actor``: the actor whose action it must be."""
        compiled_actions = self.compiled_actions
        aid, _, level = value.partition(".")
        own = compiled_actions if actor is None else {a for a, x in compiled_actions.items() if x.actor == actor}
        if aid not in compiled_actions:
            what = "action" if actor is None else f"action of '{actor}'"
            raise self.fail(f"unknown {what} '{aid}'{did_you_mean(aid, own)}", path)
        act = compiled_actions[aid]
        if actor is not None and act.actor != actor:
            raise self.fail(f"'{aid}' is an action of '{act.actor}', not of '{actor}'"
                            f"{did_you_mean(aid, own)}", path)
        if not level:
            return [(aid, i) for i in range(act.n_levels)]
        if level not in act.levels:
            if not act.levels:
                raise self.fail(f"action '{aid}' has no levels (drop '.{level}')", path)
            raise self.fail(f"unknown level '{level}' of '{aid}'{did_you_mean(level, act.levels)} "
                            f"(levels: {', '.join(act.levels)})", path)
        return [(aid, act.levels.index(level))]

    def red_lines(self) -> list[CompiledRedLine]:
        red_lines = []
        for rid, rl in self.spec.red_lines.items():
            base = ("red_lines", rid)
            self.check_ref(rl.owner, self.spec.actors, "actor", base + ("owner",))
            listed = isinstance(rl.response, list)
            responses: list[tuple[str, int]] = []
            for k, name in enumerate(rl.responses):
                path = base + ("response", k) if listed else base + ("response",)
                responses.extend(o for o in self.resolve_option(name, rl.owner, path) if o not in responses)
            red_lines.append(CompiledRedLine(
                rid, rl.owner, self.compile(rl.condition, self.names, base + ("condition",)),
                self.probability(rl.credibility, self.names, base + ("credibility",)), tuple(responses), rl.once,
                rl.cooldown_weeks,
            ))
        return red_lines

    def regimes(self) -> list[CompiledRegime]:
        return [CompiledRegime(gid, reg.initial, self.probability(reg.enter, self.names, ("regimes", gid, "enter")),
                               self.probability(reg.exit, self.names, ("regimes", gid, "exit")))
                for gid, reg in self.spec.regimes.items()]

    def events(self) -> list[CompiledEvent]:
        """Scheduled events, in weeks from ``as_of``; two forced actions of one actor on one track
        in the same week are an error."""
        spec = self.spec
        events = []
        for i, event in enumerate(spec.events):
            base = ("events", i)
            week = week_of(spec.meta.as_of, event.date)
            if week < 1:
                raise self.fail(f"date {event.date} is before the scenario's as_of {spec.meta.as_of}", base + ("date",))
            forced = None
            if event.action is not None:
                forced = self.resolve_option(event.action, None, base + ("action",))[0]
            events.append(CompiledEvent(f"events.{i}", week, forced, self._updates(event, base)))
        seen_forced: dict[tuple[str, str, int], int] = {}
        for i, e in enumerate(events):
            if e.action is None:
                continue
            act = self.compiled_actions[e.action[0]]
            slot = (act.actor, act.track, e.week)
            if slot in seen_forced:
                raise self.fail(f"events {seen_forced[slot]} and {i} both schedule an action of '{act.actor}' on track "
                                f"'{act.track}' in week {e.week}; an actor takes at most one action per track and week",
                                ("events", i, "action"))
            seen_forced[slot] = i
        return events

    def outcomes(self) -> list[CompiledOutcome]:
        """Outcomes; a dated one (``on``) must fall within the horizon."""
        spec = self.spec
        outcomes = []
        for oid, out in spec.outcomes.items():
            base = ("outcomes", oid)
            week = None
            if out.on is not None:
                week = week_of(spec.meta.as_of, out.on)
                if week < 1:
                    raise self.fail(f"date {out.on} is before the scenario's as_of {spec.meta.as_of}", base + ("on",))
                if week > spec.meta.horizon:
                    raise self.fail(f"date {out.on} is week {week}, past the scenario's horizon of "
                                    f"{spec.meta.horizon} weeks: the outcome could never be reached", base + ("on",))
            outcomes.append(CompiledOutcome(oid, self.compile(out.condition, self.names, base + ("condition",)),
                                            out.absorbing, week))
        return outcomes

    def decisions(self) -> list[CompiledDecision]:
        """Collective decisions: each party's position, salience (a probability) and capability."""
        names = self.names
        decisions = []
        for did, dec in self.spec.decisions.items():
            base = ("decisions", did)
            self.check_ref(dec.target, self.spec.state, "state variable", base + ("target",))
            decisions.append(CompiledDecision(
                did, dec.model, dict(dec.options), dec.every_weeks, dec.target, tuple(dec.actors),
                tuple(self.compile(a.position, names, base + ("actors", k, "position")) for k, a in dec.actors.items()),
                tuple(self.probability(a.salience, names, base + ("actors", k, "salience"))
                      for k, a in dec.actors.items()),
                tuple(self.compile(a.capability, names, base + ("actors", k, "capability"))
                      for k, a in dec.actors.items()),
            ))
        return decisions

    def check_actor_names(self) -> None:
        """Actors' goals name state variables; their visibility lists name expression names."""
        for actor_id, actor in self.spec.actors.items():
            for var in actor.goals:
                self.check_ref(var, self.spec.state, "state variable", ("actors", actor_id, "goals", var))
            for key in ("show", "hide"):
                for i, name in enumerate(getattr(actor.visibility, key)):
                    self.check_ref(name, self.names, "name", ("actors", actor_id, "visibility", key, i))

    def policy(self, policy: Policy, actor_id: str, base: tuple, name: str) -> CompiledPolicy:
        """One policy of ``actor_id``: option probabilities (one key per option), utilities of its
        own actions, goals over its actor's, and a logit's rationality."""
        spec, names = self.spec, self.names
        own = {a for a, act in spec.actions.items() if act.actor == actor_id}
        probs = {}
        for key, value in policy.probabilities.items():
            path = base + ("probabilities", key)
            aid, level = self.resolve_option(key, actor_id, path)[0]  # a bare action with levels = its first level
            canonical = option_id(self.compiled_actions[aid], level)
            if canonical in probs:
                raise self.fail(f"'{key}' and another key both give the probability of {canonical}", path, key=True)
            probs[canonical] = self.probability(value, names, path)
        utilities = {}
        for aid, value in policy.utilities.items():
            self.check_ref(aid, own, f"action of '{actor_id}'", base + ("utilities", aid))
            utilities[aid] = self.compile(value, names, base + ("utilities", aid))
        goals = dict(spec.actors[actor_id].goals)
        for var in policy.goals:
            self.check_ref(var, spec.state, "state variable", base + ("goals", var))
        goals.update(policy.goals)
        rationality = None
        if policy.kind == "logit":
            rationality = self.compile(policy.rationality if policy.rationality is not None else 1.0, names,
                                       base + ("rationality",))
        anticipate = policy.kind == "logit" and (policy.anticipate is None or policy.anticipate)
        return CompiledPolicy(policy.kind, rationality, probs, goals, utilities, name, anticipate)

    def policies(self) -> tuple[dict[str, dict[str, CompiledPolicy]], dict[str, CompiledPolicy]]:
        """Named strategies per actor, and each actor's default policy (its strategy, its own
        policy, or scripted; an actor with actions and neither is a warning)."""
        spec = self.spec
        strategies: dict[str, dict[str, CompiledPolicy]] = {a: {} for a in spec.actors}
        for sid, strat in spec.strategies.items():
            base = ("strategies", sid)
            self.check_ref(strat.actor, spec.actors, "actor", base + ("actor",))
            strategies[strat.actor][sid] = self.policy(strat.policy, strat.actor, base + ("policy",), sid)
        policies = {}
        for actor_id, actor in spec.actors.items():
            base = ("actors", actor_id)
            if actor.strategy is not None:
                self.check_ref(actor.strategy, strategies[actor_id], f"strategy of '{actor_id}'", base + ("strategy",))
                policies[actor_id] = strategies[actor_id][actor.strategy]
            elif actor.policy is not None:
                policies[actor_id] = self.policy(actor.policy, actor_id, base + ("policy",), "default")
            else:
                policies[actor_id] = CompiledPolicy("scripted", None, {}, dict(actor.goals), {}, "default")
                if self.tracks[actor_id]:
                    self.warnings.append(f"{self.where(base, key=True)}: actor '{actor_id}' has actions but no "
                                         "policy or strategy; it will never act unless a strategy is chosen")
        return strategies, policies

    def questions(self) -> None:
        """Questions in the scenario itself: their predicates compile."""
        for i, q in enumerate(self.spec.questions):
            self.compile(q.predicate, self.names, ("questions", i, "predicate"))


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


def expressions_in(node, seen=None):
    """Every compiled expression reachable from ``node`` (a program, its parts, dicts, tuples),
    each once, depth first in the order written.

    An explicit stack and each dataclass's field names looked up once per class (see
    :func:`_field_names`): a program has some three thousand parts, where ``dataclasses.fields``
    per part and a generator per level cost milliseconds."""
    Expression = ex.Expression
    seen = set() if seen is None else seen
    stack = [node]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _LEAVES or id(node) in seen:
            continue
        seen.add(id(node))
        if kind is Expression:
            yield node
        elif kind is dict:
            stack.extend(reversed(list(node.values())))
        elif kind is list or kind is tuple:
            stack.extend(reversed(node))
        elif isinstance(node, Expression):
            yield node
        elif isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, (list, tuple)):
            stack.extend(reversed(node))
        else:
            names = _field_names(kind)
            if names:
                stack.extend(reversed([getattr(node, name) for name in names]))


_LEAVES = frozenset({str, float, int, bool, type(None), frozenset, np.ndarray})
"""Types that hold no expression: skipped without being recorded as seen."""


def _field_names(kind: type) -> tuple[str, ...]:
    """The field names of dataclass ``kind`` (empty for any other type), looked up once per type."""
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else ()
    return names


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
