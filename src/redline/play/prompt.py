"""The system prompt an LLM seat plays from: the scenario in its own words, and the protocol.

Everything in it comes from the scenario file (title, description, the actor's description and
goals, its actions with their descriptions, tags and sources, the red lines it faces, the
visible names with their descriptions): the model is told no more than a person in the seat.
"""
from __future__ import annotations

import json

from redline.scenario import LoadedScenario

__all__ = ["system_prompt"]


def _cite(element, spec) -> str:
    src = getattr(element, "source", None)
    if src is not None and src.id in spec.sources:
        s = spec.sources[src.id]
        return f" [source: {s.title}, {s.publisher}, {s.date}]" if getattr(s, "publisher", None) else f" [source: {s.title}]"
    if getattr(element, "assumption", None):
        return f" [assumption: {element.assumption}]"
    return ""


def system_prompt(loaded: LoadedScenario, actor: str, visible: list[str]) -> str:
    spec = loaded.spec
    me = spec.actors[actor]
    lines = [
        f"You play {me.name} ('{actor}') in a weekly crisis simulation: {spec.meta.title}.",
        " ".join((spec.meta.description or "").split()),
        "",
        f"Your actor: {' '.join((me.description or me.name).split())}",
    ]
    if me.goals:
        goals = ", ".join(f"{var} (weight {w:+g}: {'more is better' if w > 0 else 'less is better'})"
                          for var, w in me.goals.items())
        lines.append(f"Your goals: {goals}.")
    lines += ["", "Your actions (at most one per track each week):"]
    for aid, action in spec.actions.items():
        if action.actor != actor:
            continue
        tags = ", ".join(action.tags)
        levels = getattr(action, "levels", None) or {}
        shown = ", ".join(f"{aid}.{name}" for name in levels) if levels else aid
        lines.append(f"- {shown} (track {action.track}; {tags}): {' '.join((action.description or '').split())}"
                     f"{_cite(action, spec)}")
    faced = [(rid, rl) for rid, rl in spec.red_lines.items() if rl.owner != actor]
    if faced:
        lines += ["", "Red lines declared by others:"]
        for rid, rl in faced:
            lines.append(f"- {rid} (owner {rl.owner}): {' '.join((rl.description or rl.condition).split())}"
                         f"{_cite(rl, spec)}")
    described = []
    for name in visible:
        element = spec.state.get(name) or spec.outcomes.get(name) or spec.uncertainties.get(name) or spec.levers.get(name)
        if element is not None and getattr(element, "description", ""):
            described.append(f"- {name}: {' '.join(element.description.split())}")
    if described:
        lines += ["", "What you observe each week (other names are actions taken last week, 1 = taken):", *described]
    example = {"type": "act", "actions": [{"run": 0, "choose": {"TRACK": "ACTION_ID or null"}}]}
    lines += [
        "",
        "Each user message is a JSON 'observe' message for one or more independent runs of the simulation.",
        "Answer with exactly one JSON object and nothing else (no prose, no code fences):",
        json.dumps(example),
        "with one entry per run in the message, choosing for each track one of that run's options or null.",
    ]
    return "\n".join(lines)
