"""Forecast questions: read them from a YAML file or a scenario's ``questions:`` section.

A question file is either a list of questions (``../shared/data/questions/sample.yaml``) or a
mapping with a ``questions:`` list. Each item is validated with the scenario schema's
:class:`~redline.scenario.schema.Question` model, so a question means the same thing in a file and
inside a scenario. Files are read only with :func:`redline.scenario.yaml_safe.read_yaml` (data
only, nothing executed); every error carries the file, line and column.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redline import expr as ex
from redline.errors import Location, ScenarioError
from redline.scenario import LoadedScenario, week_of
from redline.scenario.schema import Question
from redline.scenario.yaml_safe import Document, read_yaml

__all__ = [
    "LocatedQuestion",
    "load_questions",
    "questions_from_scenario",
    "check_predicates",
    "close_week",
]


@dataclass(frozen=True)
class LocatedQuestion:
    """A validated question and where it was written.

    Attributes
    ----------
    spec: the validated :class:`Question`.
    location: where the question starts (file:line:col).
    predicate_location: where its predicate starts (for expression errors).
    """

    spec: Question
    location: Location
    predicate_location: Location

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def resolved(self) -> bool:
        return self.spec.outcome is not None


def close_week(as_of: dt.date, close_date: dt.date) -> int:
    """The simulated week holding ``close_date``: week 1 starts on ``as_of`` (see :func:`week_of`).

    A question is evaluated at the end of that week, so a close date in the middle of a week sees
    up to six days more of simulated history than the calendar would; weeks are the model's grain.
    """
    return week_of(as_of, close_date)


def _value_location(doc: Document, path: tuple) -> Location:
    """Where the value at ``path`` starts; past the opening quote when the value is quoted."""
    loc = doc.locate(path)
    if doc.quoted.get(path) and loc.column is not None:
        return Location(loc.file, loc.line, loc.column + 1)
    return loc


def _items(doc: Document) -> tuple[list[Any], tuple]:
    data = doc.data
    if isinstance(data, list):
        return data, ()
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        return data["questions"], ("questions",)
    raise ScenarioError("a question file must be a list of questions, or a mapping with a `questions:` list",
                        doc.locate(()))


def _validate(item: Any, doc: Document, path: tuple) -> Question:
    if not isinstance(item, dict):
        raise ScenarioError("each question must be a mapping with id, question, open_date, close_date, predicate",
                            doc.locate(path))
    try:
        return Question.model_validate(item)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        kind = first["type"]
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        qid = item.get("id")
        label = f"question '{qid}'" if isinstance(qid, str) else f"question {path[-1] + 1}"
        if kind == "missing":
            raise ScenarioError(f"{label}: missing required key '{loc[-1]}'", doc.locate(path, key=True))
        if kind == "unknown_key":
            key = (first.get("ctx") or {}).get("key")
            raise ScenarioError(f"{label}: {message}", doc.locate(path + (key,), key=True))
        field = loc[0] if loc and loc[0] in item else None
        where = doc.locate(path + (field,)) if field is not None else doc.locate(path)
        if kind.startswith("date") and field is not None:
            message = f"expected a date written YYYY-MM-DD, got {item[field]!r}"
        prefix = f"{label}: {field}: " if field is not None else f"{label}: "
        raise ScenarioError(prefix + message, where)


def _located(doc: Document, items: list[Any], base: tuple) -> list[LocatedQuestion]:
    questions: list[LocatedQuestion] = []
    seen: dict[str, Location] = {}
    for i, item in enumerate(items):
        path = base + (i,)
        spec = _validate(item, doc, path)
        if spec.id in seen:
            first = seen[spec.id]
            raise ScenarioError(f"duplicate question id '{spec.id}' (first at line {first.line})",
                                doc.locate(path + ("id",)))
        where = doc.locate(path)
        seen[spec.id] = where
        questions.append(LocatedQuestion(spec, where, _value_location(doc, path + ("predicate",))))
    return questions


def load_questions(path: str | Path) -> list[LocatedQuestion]:
    """Read and validate a question file.

    Raises
    ------
    ScenarioError
        located at file:line:col: YAML errors, a missing or unknown key, a malformed date, a close
        date before the open date, a duplicate id, an empty file.
    """
    doc = read_yaml(path)
    items, base = _items(doc)
    if not items:
        raise ScenarioError("the question file holds no questions", doc.locate(()))
    return _located(doc, items, base)


def questions_from_scenario(loaded: LoadedScenario) -> list[LocatedQuestion]:
    """The questions written in a scenario's own ``questions:`` section (already validated there)."""
    doc = loaded.document or Document(data={}, file=str(loaded.path or loaded.id))
    result = []
    seen: set[str] = set()
    for i, spec in enumerate(loaded.spec.questions):
        path = ("questions", i)
        if spec.id in seen:
            raise ScenarioError(f"duplicate question id '{spec.id}'", doc.locate(path + ("id",)))
        seen.add(spec.id)
        result.append(LocatedQuestion(spec, doc.locate(path), _value_location(doc, path + ("predicate",))))
    return result


def check_predicates(loaded: LoadedScenario, questions: list[LocatedQuestion]) -> None:
    """Parse every predicate against the scenario's names before anything is simulated.

    An unknown name is an :class:`~redline.errors.ExpressionError` at the predicate's file:line:col
    with the nearest known name, never a silent zero.
    """
    for q in questions:
        ex.parse(q.spec.predicate, names=loaded.program.names, site=f"questions.{q.id}", location=q.predicate_location)
