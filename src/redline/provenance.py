"""Provenance: which source sentence or assumption each scenario element rests on."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from redline.errors import ScenarioError, did_you_mean
from redline.scenario import LoadedScenario
from redline.scenario.compile import iter_elements
from redline.scenario.yaml_safe import read_yaml

__all__ = ["element_table", "load_claims", "trace_scenario"]


# The kind of an element, named by the section (or sub-section) that holds it.
_SINGULAR = {"actors": "actor", "state": "state", "actions": "action", "processes": "process",
             "red_lines": "red line", "outcomes": "outcome", "decisions": "decision", "strategies": "strategy",
             "uncertainties": "uncertainty", "levers": "lever", "regimes": "regime", "events": "event",
             "attributes": "attribute", "attribution": "attribution", "questions": "question"}


def element_table(loaded: LoadedScenario) -> dict[str, dict[str, Any]]:
    """Element id (``section.name``) -> kind, source reference or assumption, and quoted passage."""
    table: dict[str, dict[str, Any]] = {}
    spec = loaded.spec
    items = list(iter_elements(spec))
    items += [(("actions", aid, "attribution"), a.attribution) for aid, a in spec.actions.items() if a.attribution]
    for path, element in items:
        section = path[0] if len(path) == 2 else path[-2] if path[-1] != "attribution" else "attribution"
        kind = _SINGULAR.get(section, section)
        if section == "actors" and len(path) > 2:
            kind = "decision party"  # decisions.<id>.actors.<party>
        entry: dict[str, Any] = {"kind": kind}
        ref = getattr(element, "source", None)
        if ref is not None:
            entry["source"] = {"id": ref.id, "start": ref.start, "end": ref.end}
            text = loaded.source_texts.get(ref.id)
            if text is not None and ref.start is not None:
                entry["quote"] = " ".join(text[ref.start:ref.end].split())
            citation = spec.sources.get(ref.id)
            if citation is not None:
                entry["citation"] = {"title": citation.title, "publisher": citation.publisher,
                                     "date": None if citation.date is None else str(citation.date), "url": citation.url}
        if getattr(element, "assumption", None):
            entry["assumption"] = element.assumption
        table[".".join(str(p) for p in path)] = entry
    return table


def load_claims(path: str | Path) -> list[dict[str, Any]]:
    """Read a claims file: a list of ``{id, start, end, ...}`` (safe YAML, located errors)."""
    doc = read_yaml(path)
    if not isinstance(doc.data, list):
        raise ScenarioError("a claims file must be a list of {id, start, end, claim}", doc.locate(()))
    claims = []
    for i, item in enumerate(doc.data):
        if not isinstance(item, dict) or not {"id", "start", "end"} <= set(item):
            raise ScenarioError("each claim needs id, start and end", doc.locate((i,)))
        if not (isinstance(item["start"], int) and isinstance(item["end"], int) and item["end"] > item["start"] >= 0):
            raise ScenarioError(f"claim '{item['id']}' has bad offsets", doc.locate((i, "start")))
        claims.append(item)
    return claims


def trace_scenario(loaded: LoadedScenario, *, claims_file: str | Path | None = None,
                   source_id: str | None = None) -> dict[str, Any]:
    """Elements with their provenance and, given a claims file, which elements cover each claim.

    An element covers a claim when it cites the claims' source with offsets that overlap the
    claim's span.
    """
    elements = element_table(loaded)
    result: dict[str, Any] = {
        "scenario": loaded.id,
        "elements": elements,
        "unsourced": [e for e, v in elements.items() if "source" not in v and "assumption" not in v],
        "source_texts": {**{s: "found" for s in loaded.source_texts}, **{s: "missing" for s in loaded.missing_texts}},
    }
    if claims_file is None:
        return result
    claims = load_claims(claims_file)
    if source_id is None:
        with_text = [s for s, src in loaded.spec.sources.items() if src.text]
        if len(with_text) != 1:
            raise ScenarioError(
                "say which source the claims' offsets refer to with --source "
                f"(sources with local text: {', '.join(with_text) or 'none'})")
        source_id = with_text[0]
    elif source_id not in loaded.spec.sources:
        raise ScenarioError(f"unknown source '{source_id}'{did_you_mean(source_id, loaded.spec.sources)}")
    coverage = {}
    for claim in claims:
        covering = []
        for eid, entry in elements.items():
            src = entry.get("source")
            if not src or src["id"] != source_id or src["start"] is None:
                continue
            if src["start"] < claim["end"] and claim["start"] < src["end"]:
                covering.append(eid)
        coverage[str(claim["id"])] = covering
    result["source"] = source_id
    result["claims"] = coverage
    result["uncovered"] = [c for c, v in coverage.items() if not v]
    return result
