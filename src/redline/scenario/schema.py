"""The scenario format as pydantic v2 models (see DESIGN.md, "Scenario model").

Every model forbids unknown keys and suggests the nearest valid one. Expressions are kept as
text here and compiled by :mod:`redline.scenario.compile`; numbers are accepted wherever an
expression is. Elements carry provenance: ``source: {id, start, end}`` (character offsets into
the source's text) or ``assumption: "why this number"``.
"""
from __future__ import annotations

import datetime as dt
import inspect
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from redline.bargaining import model_function
from redline.errors import did_you_mean
from redline.limits import MAX_HORIZON

__all__ = [
    "ACTION_TAGS",
    "ACTOR_KINDS",
    "Action",
    "Actor",
    "Attribute",
    "Attribution",
    "check_identifier",
    "Effect",
    "Event",
    "Decision",
    "DecisionActor",
    "Expr",
    "Lever",
    "Meta",
    "Outcome",
    "Policy",
    "Process",
    "Question",
    "RedLine",
    "Regime",
    "Scenario",
    "Source",
    "SourceRef",
    "StateVar",
    "Strategy",
    "Uncertainty",
    "Visibility",
]

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" would accept a trailing newline
_UNSAFE_TEXT_PATH = re.compile(r"[\x00-\x1f\x7f\\:]|^[/~]")
QUESTION_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}\Z")
SCENARIO_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
ACTOR_KINDS = ("state", "government", "armed_group", "institution", "electorate", "legislature", "organisation",
               "person", "coalition", "military", "other")
ACTION_TAGS = ("overt", "covert", "direct", "proxy", "kinetic", "cyber", "political", "economic", "nuclear",
               "diplomatic", "informational", "deescalation", "posturing")


def _check_expr(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value
    raise PydanticCustomError("expression", "expected an expression (text or a number), got {kind}",
                              {"kind": type(value).__name__})


Expr = Annotated[Any, BeforeValidator(_check_expr)]
"""An expression in the safe expression language, or a plain number."""


class Strict(BaseModel):
    """Base model: immutable, unknown keys refused with a did-you-mean suggestion."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {f.alias or name for name, f in cls.model_fields.items()}
            for key in data:
                if key not in allowed:
                    hint = did_you_mean(str(key), allowed)
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}'{hint} (allowed: {allowed})",
                        {"key": str(key), "hint": hint, "allowed": ", ".join(sorted(allowed))},
                    )
        return data


def check_identifier(key: Any, what: str) -> str:
    """``key`` if it is an identifier (:data:`IDENTIFIER`), else a validation error naming ``what``
    (for pydantic validators: every element id, and the ids of other files' items, go through it)."""
    if not isinstance(key, str) or not IDENTIFIER.match(key):
        raise PydanticCustomError(
            "bad_id", "{what} id '{key}' must be lower-case letters, digits and '_' (starting with a letter)",
            {"what": what, "key": str(key)},
        )
    return key


def _ids(mapping: dict[str, Any], what: str) -> dict[str, Any]:
    for key in mapping:
        check_identifier(key, what)
    return mapping


class SourceRef(Strict):
    """Where in a source an element comes from: ``id`` and optional character offsets."""

    id: str
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SourceRef:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end offsets, or neither")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end offset {self.end} must be after start offset {self.start}")
        return self


class Provenance(Strict):
    """Mixin: where an element comes from."""

    source: SourceRef | None = None
    assumption: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _source_shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value


class Meta(Strict):
    id: str
    title: str
    as_of: dt.date
    step: Literal["week"] = "week"
    horizon: int = Field(default=104, ge=1, le=MAX_HORIZON)
    description: str = ""
    version: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not SCENARIO_ID.match(value):
            raise ValueError("scenario id must be lower-case letters, digits and '-'")
        return value


class Source(Strict):
    """A citation. ``text`` names a local UTF-8 file holding the source's text (relative to the scenario)."""

    title: str
    publisher: str | None = None
    date: dt.date | str | None = None
    url: str | None = None
    text: str | None = None
    fact: str | None = None
    licence: str | None = None

    @field_validator("text")
    @classmethod
    def _relative_text(cls, value: str | None) -> str | None:
        # A source text is read and quoted (trace, reports, the web API): only a plain relative
        # path below the scenario's folder or a $REDLINE_SOURCES directory may be named, so that a
        # scenario (perhaps uploaded) cannot quote an arbitrary local file.
        if value is None:
            return value
        if _UNSAFE_TEXT_PATH.search(value) or any(part.strip() in ("", ".", "..") for part in value.split("/")):
            raise ValueError(
                f"source text {value!r} must be a relative path below the scenario's folder or a "
                "$REDLINE_SOURCES directory (no absolute path, '~', '..', backslash, ':' or control character)")
        return value


class Attribute(Provenance):
    value: Expr
    description: str = ""
    unit: str | None = None


class Policy(Strict):
    """How an actor chooses: ``logit`` (quantal response) or ``scripted`` (probabilities per action).

    ``logit``: in each track the actor picks action *a* (or nothing) with probability
    proportional to exp(λ·U(a)), where U(a) is the change in its goal value from a's expected
    one-step effects plus a's utility term (McKelvey & Palfrey 1995, doi:10.1006/game.1995.1023).
    ``scripted``: each action's probability is an expression (a schedule is ``if(week == 3, 1, 0)``).
    ``anticipate`` (logit only, default true): U(a) also counts the expected effect of the red-line
    responses that *a* would trip this week (see :mod:`redline.escalation.engine`).
    """

    kind: Literal["logit", "scripted"]
    rationality: Expr | None = None
    probabilities: dict[str, Expr] = Field(default_factory=dict)
    goals: dict[str, float] = Field(default_factory=dict)
    utilities: dict[str, Expr] = Field(default_factory=dict)
    anticipate: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.kind == "scripted" and (self.rationality is not None or self.goals or self.utilities
                                        or self.anticipate is not None):
            raise ValueError("a scripted policy takes `probabilities` only "
                             "(rationality/goals/utilities/anticipate are for logit)")
        if self.kind == "logit" and self.probabilities:
            raise ValueError("a logit policy does not take `probabilities` (use goals, utilities and rationality)")
        return self


class Visibility(Strict):
    """What an actor's seat may observe, beyond the default (every name but the truth behind
    other actors' covert acts): ``hide`` removes names, ``show`` adds back hidden ones."""

    show: list[str] = Field(default_factory=list)
    hide: list[str] = Field(default_factory=list)


class Actor(Provenance):
    name: str
    kind: Literal[ACTOR_KINDS]  # type: ignore[valid-type]
    description: str = ""
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    goals: dict[str, float] = Field(default_factory=dict)
    policy: Policy | None = None
    strategy: str | None = None
    visibility: Visibility = Field(default_factory=Visibility)

    @field_validator("attributes", mode="before")
    @classmethod
    def _bare_numbers(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"value": v} if not isinstance(v, dict) else v) for k, v in value.items()}
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_ids(cls, value: dict) -> dict:
        return _ids(value, "attribute")

    @model_validator(mode="after")
    def _one_policy(self) -> Actor:
        if self.policy is not None and self.strategy is not None:
            raise ValueError("give an actor either `policy` or a default `strategy`, not both")
        return self


class StateVar(Provenance):
    """A state variable. A ``flow`` variable is reset to its initial value at the start of every
    week, so it holds what happened this week (e.g. attacks attributed this week)."""

    type: Literal["real", "counter", "boolean"] = "real"
    initial: Expr = 0
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    flow: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> StateVar:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Effect(Strict):
    """A change to one state variable. ``attributed`` names a variable that receives the same
    change when (and if) the act is attributed to its author."""

    var: str
    add: Expr | None = None
    set: Expr | None = None
    attributed: str | None = None

    @model_validator(mode="after")
    def _one_op(self) -> Effect:
        if (self.add is None) == (self.set is None):
            raise ValueError("an effect takes exactly one of `add` or `set`")
        if self.attributed is not None and self.add is None:
            raise ValueError("`attributed` needs an `add` effect (the attributed record accumulates)")
        return self


class Attribution(Strict):
    """Whether, and how many weeks later, a covert act is pinned on its author
    (Baliga, Bueno de Mesquita & Wolitzky 2020, APSR, doi:10.1017/S0003055420000362)."""

    probability: Expr
    delay_weeks: Expr = 0
    source: SourceRef | None = None
    assumption: str | None = None


class Action(Provenance):
    actor: str
    track: str = "main"
    tags: list[Literal[ACTION_TAGS]] = Field(default_factory=list)  # type: ignore[valid-type]
    escalation: float | None = Field(default=None, ge=-10, le=100)
    available: Expr | None = None
    effects: list[Effect] = Field(default_factory=list)
    attribution: Attribution | None = None
    utility: Expr | None = None
    levels: dict[str, dict[str, float]] | None = None
    description: str = ""

    @field_validator("levels", mode="before")
    @classmethod
    def _named_levels(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "levels", "levels must be named: `levels: {low: {lethality: 0.1}, high: {lethality: 0.6}}`, "
                "not a {kind}", {"kind": type(value).__name__})
        if not value:
            raise PydanticCustomError("levels", "`levels` needs at least one named level", {})
        keys = None
        for name, level in value.items():
            if not isinstance(name, str) or not IDENTIFIER.match(name):
                raise PydanticCustomError(
                    "levels", "level name '{name}' must be lower-case letters, digits and '_' (starting with a letter)",
                    {"name": str(name)})
            if not isinstance(level, dict) or not level:
                raise PydanticCustomError(
                    "levels", "level '{name}' needs its values as a mapping, e.g. `{name}: {{lethality: 0.6}}`",
                    {"name": name})
            for key, number in level.items():
                if not isinstance(key, str) or not IDENTIFIER.match(key):
                    raise PydanticCustomError("levels", "level '{name}': key '{key}' is not an identifier",
                                              {"name": name, "key": str(key)})
                if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                    raise PydanticCustomError("levels", "level '{name}': {key} must be a finite number, got {value!r}",
                                              {"name": name, "key": key, "value": number})
            if keys is None:
                keys = set(level)
            elif set(level) != keys:
                missing = sorted(keys ^ set(level))
                raise PydanticCustomError(
                    "levels", "every level declares the same keys; level '{name}' differs on {keys}",
                    {"name": name, "keys": ", ".join(missing)})
        return value

    @model_validator(mode="after")
    def _covert(self) -> Action:
        if "covert" in self.tags and "overt" in self.tags:
            raise ValueError("an action cannot be both overt and covert")
        if self.attribution is not None and "overt" in self.tags:
            raise ValueError("an overt action is always attributed; drop `attribution` or tag it covert")
        return self


class Process(Provenance):
    when: Expr | None = None
    set: dict[str, Expr] = Field(default_factory=dict)
    add: dict[str, Expr] = Field(default_factory=dict)
    description: str = ""

    @model_validator(mode="after")
    def _some(self) -> Process:
        if not self.set and not self.add:
            raise ValueError("a process needs `set` or `add`")
        both = set(self.set) & set(self.add)
        if both:
            raise ValueError(f"variable '{sorted(both)[0]}' is both set and added in one process")
        return self


class RedLine(Provenance):
    """When ``condition`` holds, ``owner`` answers with probability ``credibility``. ``response`` is
    one action or a list (the owner's policy picks one per firing); after firing, the red line
    rests ``cooldown_weeks`` weeks; with ``once`` it fires at most once per run."""

    owner: str
    condition: Expr
    credibility: Expr = 1.0
    response: str | list[str]
    once: bool = True
    cooldown_weeks: int = Field(default=0, ge=0, le=MAX_HORIZON)
    description: str = ""

    @field_validator("response")
    @classmethod
    def _some_response(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("`response` needs at least one action")
            if len(set(value)) != len(value):
                raise ValueError("`response` names an action twice")
        return value

    @property
    def responses(self) -> list[str]:
        return [self.response] if isinstance(self.response, str) else list(self.response)


class Regime(Provenance):
    """A persistent condition of the world (e.g. war, ceasefire) that runs enter and leave with
    weekly hazards: out of it, a run enters with probability ``enter``; in it, it leaves with
    probability ``exit`` (a two-state Markov-switching process, Hamilton 1989,
    doi:10.2307/1912559)."""

    initial: bool = False
    enter: Expr = 0
    exit: Expr = 0
    description: str = ""


class Event(Provenance):
    """A scheduled event: at the week holding ``date``, before policies choose, the state changes
    (``set``/``add``) and/or ``action`` is taken (its actor makes no other choice on that track)."""

    date: dt.date
    action: str | None = None
    set: dict[str, Expr] = Field(default_factory=dict)
    add: dict[str, Expr] = Field(default_factory=dict)
    description: str = ""

    @model_validator(mode="after")
    def _something(self) -> Event:
        if self.action is None and not self.set and not self.add:
            raise ValueError("an event needs an `action`, `set` or `add`")
        both = set(self.set) & set(self.add)
        if both:
            raise ValueError(f"variable '{sorted(both)[0]}' is both set and added in one event")
        return self


class Outcome(Provenance):
    condition: Expr
    absorbing: bool = False
    on: dt.date | None = None
    description: str = ""


MAX_INT_OPTION = 1000
"""Largest whole-number model option (rounds, iterations, chunk sizes): the engine re-runs the
model every few weeks for every run, so larger values only exhaust memory and time."""


def _option_problem(value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit the annotation ``hint`` of a model option (None if it fits)."""
    import math
    import typing

    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is Literal:
        return None if value in args else f"must be one of {', '.join(repr(a) for a in args)}"
    kinds = set(args) if args else {hint}
    if bool in kinds:
        return None if isinstance(value, bool) else "must be true or false"
    if int in kinds and float not in kinds:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return None if 1 <= value <= MAX_INT_OPTION else f"must be in 1..{MAX_INT_OPTION}"
    if float in kinds:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "must be a finite number"
        return None if abs(value) <= 1e6 else "must be at most 1e6 in size"
    return None


class DecisionActor(Provenance):
    """One party to a collective decision: position on the decision's scale, salience in [0, 1],
    capability (e.g. seats). Each may be an expression, so positions can move with the state."""

    position: Expr
    salience: Expr = 1.0
    capability: Expr = 1.0
    description: str = ""


class Decision(Provenance):
    """A collective decision re-taken every ``every_weeks`` by a bargaining model
    (:mod:`redline.bargaining`); the predicted position is written into the state variable
    ``target`` (e.g. the collective stance of a parliament on expelling foreign forces)."""

    model: Literal["mean", "median", "nash", "bdm"] = "nash"
    options: dict[str, str | float | int | bool] = Field(default_factory=dict)
    every_weeks: int = Field(default=4, ge=1, le=520)
    target: str
    actors: dict[str, DecisionActor]
    description: str = ""

    @model_validator(mode="after")
    def _known_options(self) -> Decision:
        import typing

        function = model_function(self.model)
        hints = typing.get_type_hints(function)
        accepted = {name for name, p in inspect.signature(function).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
        for key, value in self.options.items():
            if key not in accepted:
                raise ValueError(f"unknown option '{key}' for the {self.model} model{did_you_mean(key, accepted)} "
                                 f"(options: {', '.join(sorted(accepted))})")
            problem = _option_problem(value, hints.get(key))
            if problem:
                raise ValueError(f"option '{key}' of the {self.model} model {problem}, got {value!r}")
        return self

    @field_validator("actors")
    @classmethod
    def _two_or_more(cls, value: dict) -> dict:
        if len(value) < 2:
            raise ValueError("a collective decision needs at least two actors")
        return _ids(value, "decision actor")


class Strategy(Provenance):
    actor: str
    policy: Policy
    description: str = ""


class Uncertainty(Provenance):
    default: float
    low: float
    high: float
    distribution: Literal["uniform"] = "uniform"
    unit: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _range(self) -> Uncertainty:
        if not self.low < self.high:
            raise ValueError(f"empty range: low {self.low} must be below high {self.high}")
        if not self.low <= self.default <= self.high:
            raise ValueError(f"default {self.default} is outside [{self.low}, {self.high}]")
        return self


class Lever(Uncertainty):
    values: list[float] | None = None

    @model_validator(mode="after")
    def _values(self) -> Lever:
        if self.values is None:
            return self
        if not self.values:
            raise ValueError("values is empty: list the lever's settings, or leave values out for any value in the range")
        for v in self.values:
            if not (math.isfinite(v) and self.low <= v <= self.high):
                raise ValueError(f"value {v} is outside [{self.low}, {self.high}]")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"values {self.values} repeat a setting")
        return self


class Question(Strict):
    id: str
    question: str
    open_date: dt.date
    close_date: dt.date
    predicate: Expr
    outcome: bool | None = None
    facts: str | None = None
    public_forecast: float | None = Field(default=None, ge=0, le=1)
    source: SourceRef | None = None
    assumption: str | None = None

    @field_validator("id")
    @classmethod
    def _printable_id(cls, value: str) -> str:
        # 'x' and 'x\n' would be two ids that print alike: refuse whitespace and control characters.
        if not QUESTION_ID.match(value):
            raise ValueError(f"question id {value!r} must be 1-128 characters without spaces or control characters")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Question:
        if self.close_date < self.open_date:
            raise ValueError(f"close_date {self.close_date} is before open_date {self.open_date}")
        return self


class Scenario(Strict):
    meta: Meta
    sources: dict[str, Source] = Field(default_factory=dict)
    actors: dict[str, Actor]
    state: dict[str, StateVar]
    actions: dict[str, Action] = Field(default_factory=dict)
    processes: dict[str, Process] = Field(default_factory=dict)
    red_lines: dict[str, RedLine] = Field(default_factory=dict)
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    regimes: dict[str, Regime] = Field(default_factory=dict)
    events: list[Event] = Field(default_factory=list)
    decisions: dict[str, Decision] = Field(default_factory=dict)
    strategies: dict[str, Strategy] = Field(default_factory=dict)
    uncertainties: dict[str, Uncertainty] = Field(default_factory=dict)
    levers: dict[str, Lever] = Field(default_factory=dict)
    questions: list[Question] = Field(default_factory=list)

    @field_validator("actors", "state", "actions", "processes", "red_lines", "outcomes", "regimes", "decisions",
                     "strategies", "uncertainties", "levers")
    @classmethod
    def _element_ids(cls, value: dict, info) -> dict:
        return _ids(value, info.field_name.rstrip("s").replace("_", " "))
