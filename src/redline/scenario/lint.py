"""The scenario linter: mistakes that load without error but give quiet wrong answers.

Run by :func:`redline.scenario.load_scenario` after the program is built; its warnings join the
provenance warnings (so ``validate --strict`` refuses them) and a probability that is certainly
outside [0, 1] is refused outright:

- every probability (a scripted policy's, a red line's credibility, an attribution probability,
  a regime's hazards, a decision party's salience, the argument of ``bernoulli``) is analysed
  over the declared ranges of what it reads (:mod:`redline.scenario.intervals`), and at each
  setting of the discrete levers it reads (a lever with ``values`` takes nothing else): refused when its
  whole range lies outside [0, 1] (e.g. a percentage), a warning when part of it does (the
  engines clip it to [0, 1] at run time and count the clipped run-weeks);
- the scripted probabilities of one track that can sum past 1 (the engines then scale them down
  in proportion);
- a real state variable with no ``initial`` (it starts at 0);
- an uncertainty or lever that no expression reads, a state variable nothing reads or changes;
- an action that no policy, strategy, red line or event can take.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from typing import Any

from redline import expr as ex
from redline.errors import Location, ScenarioError
from redline.scenario.compile import Program
from redline.scenario.intervals import EVERYTHING, UNIT, Interval, interval_of
from redline.scenario.schema import Scenario
from redline.scenario.yaml_safe import Document

__all__ = ["lint", "name_ranges", "probability_sites"]

# Past this many combinations of discrete lever settings the linter analyses the levers' ranges.
MAX_SETTING_COMBINATIONS = 4096


def name_ranges(spec: Scenario, program: Program) -> dict[str, Interval]:
    """The interval of every name an expression can read, from the scenario's declarations."""
    ranges: dict[str, Interval] = {}
    for name, (lo, hi) in program.bounds.items():
        ranges[name] = Interval(-math.inf if lo is None else lo, math.inf if hi is None else hi)
    for name, (lo, hi) in program.parameter_ranges.items():
        ranges[name] = Interval(lo, hi)
    for name, lever in spec.levers.items():
        if lever.values:
            ranges[name] = Interval(min(lever.values), max(lever.values)).hull(ranges[name])
    for section in ("actions", "red_lines", "outcomes", "regimes"):
        for name in getattr(spec, section, {}) or {}:
            ranges[name] = UNIT  # taken / fired / holds / in force this week
    params = {k: ranges[k] for k in program.parameter_ranges}
    for flat, e in program.attributes.items():
        ranges[flat] = _safe_interval(e.text, params)
    ranges["week"] = Interval(0.0, math.inf)
    return ranges


def _safe_interval(text: Any, ranges: dict[str, Interval]) -> Interval:
    try:
        return interval_of(text, ranges)
    except (SyntaxError, ValueError, RecursionError, TypeError, AttributeError):
        return EVERYTHING


def _level_ranges(spec: Scenario, action_id: str) -> dict[str, Interval]:
    levels = spec.actions[action_id].levels if action_id in spec.actions else None
    if not levels:
        return {}
    keys = next(iter(levels.values()))
    return {k: Interval(min(lv[k] for lv in levels.values()), max(lv[k] for lv in levels.values())) for k in keys}


def probability_sites(spec: Scenario) -> Iterator[tuple[tuple, Any, str]]:
    """Every expression that is a probability: (path, text, what it is)."""
    for actor_id, actor in spec.actors.items():
        if actor.policy is not None:
            for option, value in actor.policy.probabilities.items():
                yield ("actors", actor_id, "policy", "probabilities", option), value, f"probability of '{option}'"
    for sid, strat in spec.strategies.items():
        for option, value in strat.policy.probabilities.items():
            yield ("strategies", sid, "policy", "probabilities", option), value, f"probability of '{option}'"
    for rid, rl in spec.red_lines.items():
        yield ("red_lines", rid, "credibility"), rl.credibility, f"credibility of red line '{rid}'"
    for aid, action in spec.actions.items():
        if action.attribution is not None:
            yield (("actions", aid, "attribution", "probability"), action.attribution.probability,
                   f"attribution probability of '{aid}'")
    for gid, reg in (getattr(spec, "regimes", None) or {}).items():
        yield ("regimes", gid, "enter"), reg.enter, f"entry hazard of regime '{gid}'"
        yield ("regimes", gid, "exit"), reg.exit, f"exit hazard of regime '{gid}'"
    for did, dec in spec.decisions.items():
        for party, a in dec.actors.items():
            yield ("decisions", did, "actors", party, "salience"), a.salience, f"salience of '{party}' in '{did}'"


def _strings(data: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _strings(v, path + (i,))
    elif isinstance(data, str):
        yield path, data


class _Linter:
    def __init__(self, spec: Scenario, program: Program, doc: Document | None, file: str):
        self.spec, self.program, self.doc, self.file = spec, program, doc, file
        self.ranges = name_ranges(spec, program)
        self.warnings: list[str] = []

    def where(self, path: tuple, *, key: bool = False) -> Location:
        if self.doc is None:
            return Location(self.file)
        return self.doc.locate(path, key=key)

    def warn(self, path: tuple, message: str, *, key: bool = False) -> None:
        self.warnings.append(f"{self.where(path, key=key)}: {message}")

    def ranges_at(self, path: tuple) -> dict[str, Interval]:
        if path and path[0] == "actions" and len(path) > 1:
            return {**self.ranges, **_level_ranges(self.spec, path[1])}
        return self.ranges

    def at_settings(self, ranges: dict[str, Interval], texts: list[Any]) -> Iterator[dict[str, Interval]]:
        """``ranges`` with the discrete levers the texts read pinned, and ``week`` cut into the pieces
        between the weeks they compare it with, once per combination.

        Interval arithmetic treats two reads of one name as independent (the dependency problem,
        Moore, Kearfott & Cloud 2009, ch. 5); pinning the discrete levers and splitting the week at
        its thresholds (interval subdivision, ibid.) removes it for them.
        """
        names: set[str] = set()
        for text in texts:
            names |= _names_in(text, ranges)
        discrete = sorted(n for n in names if n in self.program.lever_settings)
        grids: list[tuple] = [tuple(Interval(v, v) for v in self.program.lever_settings[n]) for n in discrete]
        if any(isinstance(t, str) and ("week" in t) for t in texts):  # ``week`` is built in: not in names
            discrete.append("week")
            grids.append(_week_pieces(texts))
        if not discrete or math.prod(map(len, grids)) > MAX_SETTING_COMBINATIONS:
            yield ranges
            return
        for combo in itertools.product(*grids):
            yield {**ranges, **dict(zip(discrete, combo))}

    # -- probabilities
    def check_probability(self, path: tuple, text: Any, what: str) -> Interval:
        ranges = self.ranges_at(path)
        iv = None
        for pinned in self.at_settings(ranges, [text]):
            one = _safe_interval(text, pinned)
            iv = one if iv is None else iv.hull(one)
        if 0.0 <= iv.lo and iv.hi <= 1.0:
            return iv
        reads = self.explain(text, ranges)
        shown = f"'{ex._clip(str(text))}'" if isinstance(text, str) else str(text)
        if iv.lo > 1.0 or iv.hi < 0.0:
            percent = " (a percentage? write 0.3, not 30)" if iv.lo > 1.0 else ""
            raise ScenarioError(f"{what} {shown} is always outside [0, 1]: it ranges over {iv}{reads}{percent}",
                                self.where(path))
        self.warn(path, f"{what} {shown} can be outside [0, 1]: it ranges over {iv}{reads}; values outside "
                        "are clipped to [0, 1] at run time (redline run reports how often)")
        return iv

    def explain(self, text: Any, ranges: dict[str, Interval]) -> str:
        if not isinstance(text, str):
            return ""
        try:
            names = sorted(ex.parse(text, names=set(ranges) | {"week"}, site="lint").names)
        except Exception:  # noqa: BLE001 - already compiled once; this is only for the message
            return ""
        parts = []
        for n in names:
            iv = ranges.get(n, EVERYTHING)
            note = " (no bounds: give it min/max)" if n in self.program.bounds and (math.isinf(iv.lo) or math.isinf(iv.hi)) else ""
            parts.append(f"{n} in {iv}{note}")
        return f" given {', '.join(parts)}" if parts else ""

    def bernoulli_arguments(self) -> None:
        """``bernoulli(p)`` anywhere: the same range check on ``p``."""
        if self.doc is None or not isinstance(self.doc.data, dict):
            return
        import ast

        for path, text in _strings(self.doc.data):
            if "bernoulli" not in text or not path or path[0] in ("meta", "sources"):
                continue
            try:
                tree = ast.parse(ex._IF_CALL.sub("IF", text).strip(), mode="eval")
            except (SyntaxError, ValueError, RecursionError):
                continue
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "bernoulli"
                        and len(node.args) == 1):
                    arg = ast.get_source_segment(ex._IF_CALL.sub("IF", text).strip(), node.args[0])
                    if arg is None:
                        continue
                    self.check_probability(path, arg.replace("IF(", "if("), f"bernoulli probability in {path[-1]}")

    # -- tracks
    def track_sums(self) -> None:
        spec, program = self.spec, self.program
        policies: list[tuple[tuple, str, Any]] = []
        for actor_id, actor in spec.actors.items():
            if actor.policy is not None and actor.policy.kind == "scripted":
                policies.append((("actors", actor_id, "policy", "probabilities"), actor_id, actor.policy))
        for sid, strat in spec.strategies.items():
            if strat.policy.kind == "scripted":
                policies.append((("strategies", sid, "policy", "probabilities"), strat.actor, strat.policy))
        for base, actor_id, policy in policies:
            by_track: dict[str, list[tuple[str, Any]]] = {}
            for option, value in policy.probabilities.items():
                aid = option.partition(".")[0]
                if aid in program.actions:
                    by_track.setdefault(program.actions[aid].track, []).append((option, value))
            for track, options in by_track.items():
                if len(options) < 2:
                    continue
                total, parts = self.worst_track_sum(options)
                if len(parts) > 1 and total > 1.0 + 1e-12:
                    listed = ", ".join(f"{o} up to {hi:.3g}" for o, hi in parts)
                    self.warn(base, f"the probabilities of track '{track}' of '{actor_id}' can sum to {total:.3g} "
                                    f"({listed}); in a week when they sum past 1 each is scaled down to its share "
                                    "of the total, so none is taken with the probability written", key=True)

    def worst_track_sum(self, options: list[tuple[str, Any]]) -> tuple[float, list[tuple[str, float]]]:
        """The largest sum of the options' upper bounds over the discrete lever settings, and its parts."""
        worst: tuple[float, list[tuple[str, float]]] = (-math.inf, [])
        for pinned in self.at_settings(self.ranges, [value for _, value in options]):
            parts = [(option, min(max(_safe_interval(value, pinned).hi, 0.0), 1.0)) for option, value in options]
            total = math.fsum(hi for _, hi in parts)
            if total > worst[0]:
                worst = (total, parts)
        return worst

    # -- declarations
    def missing_initials(self) -> None:
        for name, var in self.spec.state.items():
            if var.type == "real" and "initial" not in var.model_fields_set:
                self.warn(("state", name), f"real state variable '{name}' has no `initial`; it starts at 0 "
                                           "(write `initial: 0` if that is meant)", key=True)

    def unused(self) -> None:
        spec, program = self.spec, self.program
        read: set[str] = set()
        for e in program.expressions():
            read |= e.names
        for q in spec.questions:
            read |= _names_in(q.predicate, self.ranges)
        for goals in [program.actor_goals, *({a: p.goals} for a, p in program.policies.items())]:
            for g in goals.values():
                read |= set(g)
        for pols in program.strategies.values():
            for p in pols.values():
                read |= set(p.goals)
        for actor in spec.actors.values():
            read |= set(actor.visibility.show) | set(actor.visibility.hide)
        written: set[str] = set()
        for a in program.actions.values():
            for eff in a.effects:
                written.add(eff.var)
                if eff.attributed:
                    written.add(eff.attributed)
        for proc in program.processes:
            written |= {var for var, _, _ in proc.updates}
        for event in getattr(program, "events", []) or []:
            written |= {var for var, _, _ in event.updates}
        written |= {d.target for d in program.decisions}
        for section, what in (("uncertainties", "uncertainty"), ("levers", "lever")):
            for name in getattr(spec, section):
                if name not in read:
                    self.warn((section, name), f"{what} '{name}' is read by no expression: varying it changes "
                                               "nothing (remove it, or use it)", key=True)
        for name in spec.state:
            if name not in read and name not in written:
                self.warn(("state", name), f"state variable '{name}' is neither read nor changed by anything: it "
                                           "stays at its initial value", key=True)

    def untakeable_actions(self) -> None:
        spec, program = self.spec, self.program
        takeable: set[str] = set()
        logit_actors: set[str] = set()
        pols = [(a, p) for a, p in program.policies.items()]
        pols += [(a, p) for a, by in program.strategies.items() for p in by.values()]
        for actor_id, p in pols:
            if p.kind == "scripted":
                takeable |= {o.partition(".")[0] for o in p.probabilities}
            else:
                logit_actors.add(actor_id)
        for rl in program.red_lines:
            takeable |= {aid for aid, _ in rl.responses}
        for event in getattr(program, "events", []) or []:
            if event.action is not None:
                takeable.add(event.action[0])
        for aid, action in program.actions.items():
            if aid in takeable or action.actor in logit_actors:
                continue
            self.warn(("actions", aid), f"action '{aid}' of '{action.actor}' is in no policy or strategy, no red "
                                        "line's response and no event: nothing can take it", key=True)


_WEEK_LEFT = re.compile(r"\bweek\s*(<=|>=|<|>)\s*(\d+(?:\.\d*)?)")
_WEEK_RIGHT = re.compile(r"(\d+(?:\.\d*)?)\s*(<=|>=|<|>)\s*week\b")
_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _week_pieces(texts: list[Any]) -> tuple[Interval, ...]:
    """Whole weeks cut where any text compares ``week`` with a number (``week < 36`` cuts at 36)."""
    cuts: set[int] = set()
    for text in texts:
        if not isinstance(text, str):
            continue
        found = [(op, float(c)) for op, c in _WEEK_LEFT.findall(text)]
        found += [(_MIRROR[op], float(c)) for c, op in _WEEK_RIGHT.findall(text)]
        for op, c in found:
            # the first whole week on the upper side of the comparison
            cuts.add(math.floor(c) + 1 if op in ("<=", ">") else math.ceil(c))
    edges = sorted(c for c in cuts if c > 0)
    lows = [0, *edges]
    highs = [e - 1 for e in edges] + [math.inf]
    return tuple(Interval(float(lo), float(hi)) for lo, hi in zip(lows, highs))


def _names_in(text: Any, ranges: dict[str, Interval]) -> set[str]:
    try:
        return set(ex.parse(text, names=set(ranges), site="lint").names)
    except Exception:  # noqa: BLE001 - compiled already; names only
        return set()


def lint(spec: Scenario, program: Program, doc: Document | None = None, file: str = "<input>") -> list[str]:
    """The linter's warnings (``file:line:col: message``); raises :class:`ScenarioError` for a
    probability that is certainly outside [0, 1]."""
    linter = _Linter(spec, program, doc, file)
    for path, text, what in probability_sites(spec):
        linter.check_probability(path, text, what)
    linter.bernoulli_arguments()
    linter.track_sums()
    linter.missing_initials()
    linter.unused()
    linter.untakeable_actions()
    return linter.warnings
