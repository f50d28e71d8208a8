"""The record: dated facts about what happened, to fit a scenario to (YAML data, never code).

A record is read with the scenario loader's safety rules (core YAML types only, no tags, size and
alias budgets) and every problem is reported as ``file:line:col: message`` with the nearest valid
name::

    scenario: coin-record        # optional: the scenario id this record is for
    origin: 2020-01-06           # knowledge cut-off; default: the scenario's as_of
    events:                      # optional: known actions or state changes, as in a scenario's events
      - {date: 2020-01-03, action: some_action_id, source: {id: some_source}}
    observations:
      - id: rocket_attacks_q4_2019
        date: 2019-12-31         # the statistic is evaluated at the week holding this date
        statistic: sum(rocket_attacks_week, last=13)
        value: 11
        sd: 2                    # optional observation noise; without it the fit must match exactly
        source: {id: some_source}   # or assumption: "..."

Nothing dated after ``origin`` may enter a fit: an observation or event after it is refused.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from redline.errors import Location, ScenarioError, did_you_mean
from redline.expr import Expression, parse
from redline.limits import MAX_HORIZON
from redline.scenario import LoadedScenario, week_of
from redline.scenario.load import located_error
from redline.scenario.schema import Expr, Provenance, Source, Strict, check_identifier
from redline.scenario.yaml_safe import Document, parse_yaml, read_yaml

__all__ = ["Observation", "RecordSpec", "Record", "load_record", "record_likelihood"]


class Observation(Provenance):
    """One dated fact: a statistic of the simulated history and the value it had."""

    id: str
    date: dt.date
    statistic: Expr
    value: float = Field(allow_inf_nan=False)  # .nan / .inf: "Input should be a finite number"
    sd: float | None = Field(default=None, gt=0)
    description: str = ""

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return check_identifier(value, "observation")


class RecordSpec(Strict):
    """A record file as validated data (see the module docstring)."""

    scenario: str | None = None
    origin: dt.date | None = None
    description: str = ""
    sources: dict[str, Source] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    observations: list[Observation] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RecordSpec:
        seen: set[str] = set()
        for o in self.observations:
            if o.id in seen:
                raise ValueError(f"observation id '{o.id}' is used twice")
            seen.add(o.id)
        return self


@dataclass
class Record:
    """A record checked against one scenario: compiled statistics and their weeks.

    Attributes
    ----------
    spec: the validated record.
    path: the file it came from (None for text).
    sha256: hash of the record file's bytes.
    origin: the knowledge cut-off (the scenario's ``as_of`` if the record gives none).
    origin_week: the simulated week holding ``origin`` (week 1 starts at the scenario's ``as_of``).
    weeks: observation id -> the week its statistic is evaluated at.
    statistics: observation id -> compiled expression.
    locations: observation id -> where it is written (for errors found while fitting).
    events: scheduled-event entries to add to the scenario (same form as its ``events:``).
    """

    spec: RecordSpec
    path: Path | None
    sha256: str
    origin: dt.date
    origin_week: int
    weeks: dict[str, int]
    statistics: dict[str, Expression]
    locations: dict[str, Location]
    events: list[dict[str, Any]]
    document: Document

    @property
    def observations(self):
        return self.spec.observations

    def probes(self) -> dict[str, tuple[str, int]]:
        """Observation id -> (statistic, week), as engine probes."""
        return {o.id: (str(o.statistic), self.weeks[o.id]) for o in self.spec.observations}


def load_record(ref: str | Path, loaded: LoadedScenario, *, text: str | bytes | None = None) -> Record:
    """Read a record file (or ``text``) and check it against ``loaded``.

    Raises
    ------
    ScenarioError
        located at the offending key or value: a record for another scenario, an observation or
        event dated after the origin or before the scenario's ``as_of``, an unknown name in a
        statistic (with the nearest known name), an unknown source or action.
    """
    if text is None:
        path: Path | None = Path(ref)
        if not path.is_file():
            raise ScenarioError(f"no record file '{ref}'", Location(str(ref)))
        raw = path.read_bytes()
        doc = read_yaml(path)
    else:
        path = None
        raw = text.encode("utf-8") if isinstance(text, str) else text
        doc = parse_yaml(raw, str(ref))
    if not isinstance(doc.data, dict):
        raise ScenarioError("a record must be a mapping with origin, events and observations", doc.locate(()))
    try:
        spec = RecordSpec.model_validate(doc.data)
    except ValidationError as err:
        raise located_error(err, doc) from None
    program = loaded.program
    meta = loaded.spec.meta
    if spec.scenario is not None and spec.scenario != loaded.id:
        raise ScenarioError(f"this record is for scenario '{spec.scenario}', not '{loaded.id}'",
                            doc.locate(("scenario",)))
    origin = spec.origin or meta.as_of
    if origin < meta.as_of:
        raise ScenarioError(f"origin {origin} is before the scenario's as_of {meta.as_of}", doc.locate(("origin",)))
    origin_week = week_of(meta.as_of, origin)
    if origin_week > MAX_HORIZON:
        raise ScenarioError(f"origin {origin} is {origin_week} weeks after as_of {meta.as_of}; the engine simulates "
                            f"at most {MAX_HORIZON}", doc.locate(("origin",)))
    sources = set(spec.sources) | set(loaded.spec.sources)

    def check_source(element: Any, path: tuple) -> None:
        ref_ = element.get("source") if isinstance(element, dict) else getattr(element, "source", None)
        sid = ref_ if isinstance(ref_, str) else (ref_.get("id") if isinstance(ref_, dict) else getattr(ref_, "id", None))
        if sid is not None and sid not in sources:
            raise ScenarioError(f"unknown source '{sid}'{did_you_mean(str(sid), sources)} (sources: the record's "
                                "and the scenario's)", doc.locate(path + ("source",)))

    def check_date(date: dt.date, what: str, path: tuple) -> None:
        if date > origin:
            raise ScenarioError(f"{what} is dated {date}, after the record's origin {origin}: no fact after the "
                                "origin may enter a fit", doc.locate(path + ("date",)))
        if date < meta.as_of:
            raise ScenarioError(f"{what} is dated {date}, before the scenario's as_of {meta.as_of} (week 1): the "
                                "simulation cannot see it", doc.locate(path + ("date",)))

    events = []
    for i, event in enumerate(spec.events):
        path_ = ("events", i)
        if not isinstance(event, dict) or "date" not in event:
            raise ScenarioError("an event needs a date", doc.locate(path_))
        date = event["date"]
        if not isinstance(date, dt.date):
            raise ScenarioError(f"event date '{date}' is not a date (YYYY-MM-DD)", doc.locate(path_ + ("date",)))
        check_date(date, f"event {i}", path_)
        action = event.get("action")
        if action is not None and str(action).split(".")[0] not in program.actions:
            raise ScenarioError(f"unknown action '{action}'{did_you_mean(str(action), program.actions)}",
                                doc.locate(path_ + ("action",)))
        check_source(event, path_)
        events.append(dict(event))

    weeks, statistics, locations = {}, {}, {}
    for i, o in enumerate(spec.observations):
        path_ = ("observations", i)
        check_date(o.date, f"observation '{o.id}'", path_)
        check_source(o, path_)
        if o.source is None and o.assumption is None:
            raise ScenarioError(f"observation '{o.id}' needs a source or an assumption", doc.locate(path_, key=True))
        week = week_of(meta.as_of, o.date)
        statistics[o.id] = parse(o.statistic, names=program.names, site=f"record.{o.id}",
                                 location=doc.locate(path_ + ("statistic",)))
        weeks[o.id] = week
        locations[o.id] = doc.locate(path_ + ("statistic",))
    return Record(spec=spec, path=path, sha256=hashlib.sha256(raw).hexdigest(), origin=origin,
                  origin_week=origin_week, weeks=weeks, statistics=statistics, locations=locations, events=events,
                  document=doc)


def record_likelihood(record: Record, stats: np.ndarray) -> np.ndarray:
    """The record's likelihood given each run's statistics, up to a constant factor (max 1).

    ``stats`` is (runs, observations) in the record's order. An observation without ``sd`` must
    be matched exactly (indicator); one with ``sd`` weighs by its Gaussian density. A run whose
    statistics are not finite (e.g. a failed run) gets 0.
    """
    stats = np.asarray(stats, dtype=float)
    log_w = np.zeros(stats.shape[0])
    for j, o in enumerate(record.observations):
        s = stats[:, j]
        if o.sd is None:
            log_w = np.where(s == o.value, log_w, -np.inf)
        else:
            log_w = log_w - 0.5 * np.square((s - o.value) / o.sd)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    if not np.isfinite(log_w).any():
        return np.zeros(stats.shape[0])
    return np.exp(log_w - log_w.max())
