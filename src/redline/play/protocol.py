"""The seat protocol: the messages the engine sends to an actor's seat and the answers it accepts.

One exchange per week and seat, batched over every live run of a block::

    engine -> seat  {"type": "observe", "actor": A, "week": W, "date": D,
                     "runs": [{"run": I, "visible": {NAME: number}, "options": {TRACK: [action ids]}}]}
    seat -> engine  {"type": "act", "actions": [{"run": I, "choose": {TRACK: action id or null}}]}
    engine -> seat  {"type": "end", "actor": A, "runs": N, "outcomes": {OUTCOME: {"probability": p, "count": k}}}

An answer must cover every run asked, exactly once, and every track of each (a track left out
counts as ``null``: no action); it may name only offered actions. Anything else is a
:class:`BadAnswer`. :data:`SCHEMA` is the same contract as a JSON Schema (draft 2020-12).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from redline.errors import RedlineError, did_you_mean

__all__ = ["BadAnswer", "SCHEMA", "observe_message", "end_message", "parse_answer"]

PROTOCOL_VERSION = 1


class BadAnswer(RedlineError):
    """A seat answered what the protocol does not allow, or did not answer in time."""


_CHOOSE = {"type": "object", "additionalProperties": {"type": ["string", "null"]},
           "description": "track -> the chosen action id, or null for no action on that track"}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://redline.invalid/schemas/play-protocol-1.json",
    "title": "redline seat protocol, version 1",
    "description": "Messages between the redline engine and an actor's seat (JSON Lines on stdin/stdout, "
                   "or one HTTP POST per message with the answer as the response body).",
    "oneOf": [{"$ref": "#/$defs/observe"}, {"$ref": "#/$defs/act"}, {"$ref": "#/$defs/end"}],
    "$defs": {
        "observe": {
            "type": "object", "required": ["type", "actor", "week", "date", "runs"],
            "properties": {
                "type": {"const": "observe"},
                "actor": {"type": "string", "description": "the seat's actor id"},
                "week": {"type": "integer", "minimum": 1, "description": "simulated week, 1-based"},
                "date": {"type": "string", "format": "date", "description": "first day of the week"},
                "runs": {"type": "array", "items": {
                    "type": "object", "required": ["run", "visible", "options"],
                    "properties": {
                        "run": {"type": "integer", "minimum": 0, "description": "run index, stable for the game"},
                        "visible": {"type": "object", "additionalProperties": {"type": ["number", "null"]},
                                    "description": "what the actor can know at the start of the week (the "
                                                   "scenario's per-actor visibility); null = not finite"},
                        "options": {"type": "object",
                                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                                    "description": "track -> action ids available in this run this week"},
                    }, "additionalProperties": False}},
            }, "additionalProperties": False},
        "act": {
            "type": "object", "required": ["type", "actions"],
            "properties": {
                "type": {"const": "act"},
                "actions": {"type": "array", "items": {
                    "type": "object", "required": ["run", "choose"],
                    "properties": {"run": {"type": "integer"}, "choose": _CHOOSE},
                    "additionalProperties": False},
                    "description": "one entry per run asked, each run exactly once"},
            }, "additionalProperties": False},
        "end": {
            "type": "object", "required": ["type", "actor", "runs", "outcomes"],
            "properties": {
                "type": {"const": "end"},
                "actor": {"type": "string"},
                "runs": {"type": "integer"},
                "outcomes": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {"probability": {"type": ["number", "null"]},
                                                     "count": {"type": "integer"}}}},
            }, "additionalProperties": False},
    },
}


def _number(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def observe_message(actor: str, week: int, date: str, runs: np.ndarray, visible: dict[str, np.ndarray],
                    options: dict[str, dict[str, np.ndarray]]) -> dict:
    """The ``observe`` message for the runs asked (arrays are per run asked, same order)."""
    names = list(visible)
    columns = [np.asarray(visible[n], dtype=float).tolist() for n in names]
    entries = []
    for i, run in enumerate(np.asarray(runs).tolist()):
        entries.append({
            "run": int(run),
            "visible": {n: _number(col[i]) for n, col in zip(names, columns)},
            "options": {track: [aid for aid, ok in acts.items() if ok[i]] for track, acts in options.items()},
        })
    return {"type": "observe", "actor": actor, "week": int(week), "date": date, "runs": entries}


def end_message(actor: str, summary: dict) -> dict:
    outcomes = {name: {"probability": _number(o["probability"]), "count": int(o["count"])}
                for name, o in summary["outcomes"].items()}
    return {"type": "end", "actor": actor, "runs": int(summary["runs"]), "outcomes": outcomes}


def parse_answer(text: str | bytes | dict, observe: dict, who: str) -> tuple[dict[int, dict[str, str | None]], list[str]]:
    """Check an ``act`` answer against the ``observe`` message it answers.

    Returns ``(choices, problems)``: run -> track -> action id or None for every run asked, and
    the list of problems found (empty for a valid answer). Runs or tracks with a problem get
    ``None`` (no action) in ``choices``, so a caller that accepts defaults can use it as is; a
    strict caller raises on the first problem.
    """
    asked = {r["run"]: r["options"] for r in observe["runs"]}
    choices: dict[int, dict[str, str | None]] = {run: {t: None for t in opts} for run, opts in asked.items()}
    week = observe["week"]
    where = f"{who}, week {week}"
    if isinstance(text, dict):
        msg = text
    else:
        try:
            msg = json.loads(text)
        except (ValueError, UnicodeDecodeError) as err:
            shown = text if isinstance(text, str) else text.decode("utf-8", "replace")
            shown = " ".join(shown.split())
            return choices, [f"{where}: the answer is not JSON ({err.args[0].split(':')[0]}): "
                             f"{shown[:60]!r}{'...' if len(shown) > 60 else ''}"]
    if not isinstance(msg, dict) or msg.get("type") != "act" or not isinstance(msg.get("actions"), list):
        got = msg.get("type") if isinstance(msg, dict) else type(msg).__name__
        return choices, [f"{where}: expected {{\"type\": \"act\", \"actions\": [...]}}, got type {got!r}"]
    problems: list[str] = []
    seen: set[int] = set()
    for entry in msg["actions"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("run"), int) or isinstance(entry.get("run"), bool) \
                or not isinstance(entry.get("choose", {}), dict):
            problems.append(f"{where}: each action needs an integer 'run' and a 'choose' object, got {str(entry)[:60]}")
            continue
        run = entry["run"]
        if run not in asked:
            problems.append(f"{where}: unknown run {run} (this week's runs: {_span(asked)})")
            continue
        if run in seen:
            problems.append(f"{where}: run {run} answered twice")
            continue
        seen.add(run)
        for track, aid in entry.get("choose", {}).items():
            if track not in asked[run]:
                problems.append(f"{where}, run {run}: unknown track '{track}'{did_you_mean(str(track), asked[run])}")
                continue
            if aid is None:
                continue
            if not isinstance(aid, str) or aid not in asked[run][track]:
                offered = ", ".join(asked[run][track]) or "nothing"
                problems.append(f"{where}, run {run}: action {aid!r} is not available on track '{track}' "
                                f"(available: {offered}){did_you_mean(str(aid), asked[run][track])}")
                continue
            choices[run][track] = aid
    missing = [r for r in asked if r not in seen]
    if missing:
        problems.append(f"{where}: no answer for run(s) {_span(missing)}")
    return choices, problems


def _span(runs) -> str:
    runs = sorted(runs)
    if len(runs) <= 4:
        return ", ".join(map(str, runs))
    return f"{runs[0]}, {runs[1]}, ..., {runs[-1]} ({len(runs)} runs)"
