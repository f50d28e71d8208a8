"""Scoring a draft against a gold annotation (format and matching rules: ``shared/seed/ANNOTATION.md``).

- Claims: a predicted claim matches a gold claim when their spans overlap by at least half of the
  shorter span, or the predicted span contains the gold anchor; pairs are made one to one, largest
  overlap first. Precision, recall, F1; on matched pairs, type accuracy; on matched pairs whose
  gold claim carries a ``modality``, modality agreement (case-insensitive, one string containing
  the other).
- Actors: ids are ignored. A predicted actor matches the gold actor with which it shares the most
  mention offsets (exact spans; the lenient variant counts overlapping spans). No shared mention or
  a tie: unmatched. Pairs one to one, best counts first; an actor without offsets falls back to the
  most shared aliases (case-insensitive). Precision, recall, F1, kind accuracy, and mention
  precision/recall pooled over matched pairs.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from redline.draft.model import Extraction
from redline.errors import Location, ParameterError

__all__ = ["load_gold", "score", "score_claims", "score_actors", "gold_problems", "gold_exclusions"]


def _prf(matched: int, predicted: int, gold: int) -> dict[str, float | int]:
    p = matched / predicted if predicted else 0.0
    r = matched / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "matched": matched, "predicted": predicted, "gold": gold}


def load_gold(path: str | Path, text: str | None = None) -> dict[str, Any]:
    """Read a gold file (safe YAML) and check its shape; with ``text``, check every anchor."""
    from redline.scenario.yaml_safe import parse_yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"no such gold file: {p}", Location(str(p)))
    try:
        raw = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ParameterError(f"the gold file is not UTF-8 (byte {err.start})", Location(str(p), 1, 1)) from None
    doc = parse_yaml(raw, str(p)).data
    if not isinstance(doc, dict) or not isinstance(doc.get("actors"), list) or not isinstance(doc.get("claims"), list):
        raise ParameterError("a gold file needs top-level lists `actors` and `claims` (see ANNOTATION.md)",
                             Location(str(p), 1, 1))
    for c in doc["claims"]:
        if not isinstance(c, dict) or not {"start", "end", "type"} <= set(c):
            raise ParameterError(f"a gold claim needs start, end and type: {c!r:.80}", Location(str(p)))
        if text is not None and "anchor_text" in c and text[int(c["start"]):int(c["end"])] != c["anchor_text"]:
            raise ParameterError(f"gold claim {c.get('id')!r}: anchor_text does not match the article at "
                                 f"[{c['start']}, {c['end']}) (is this the gold file of this article?)", Location(str(p)))
    return doc


def score_claims(pred: list[dict], gold: list[dict]) -> dict[str, Any]:
    """Claim precision/recall/F1, type accuracy and modality agreement (see the module docstring)."""
    pairs = []
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            ps, pe, gs, ge = int(p["start"]), int(p["end"]), int(g["start"]), int(g["end"])
            overlap = max(0, min(pe, ge) - max(ps, gs))
            shorter = min(pe - ps, ge - gs)
            if (shorter > 0 and overlap >= shorter / 2) or (ps <= gs and ge <= pe):
                pairs.append((overlap, i, j))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    matched = []
    for _, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        matched.append((i, j))
    out = _prf(len(matched), len(pred), len(gold))
    types_ok = sum(pred[i]["type"] == gold[j]["type"] for i, j in matched)
    modal = [(i, j) for i, j in matched if gold[j].get("modality")]

    def agree(a: str | None, b: str | None) -> bool:
        if not a or not b:
            return False
        a, b = a.lower(), b.lower()
        return a in b or b in a

    modal_ok = sum(agree(pred[i].get("modality"), gold[j]["modality"]) for i, j in modal)
    confusion: dict[str, dict[str, int]] = {}
    for i, j in matched:
        row = confusion.setdefault(gold[j]["type"], {})
        row[pred[i]["type"]] = row.get(pred[i]["type"], 0) + 1
    return {
        "claims": out,
        "types": {"accuracy": round(types_ok / len(matched), 4) if matched else 0.0, "n": len(matched),
                  "confusion": confusion},
        "modality": {"accuracy": round(modal_ok / len(modal), 4) if modal else 0.0, "n": len(modal)},
        "pairs": [{"predicted": pred[i].get("id"), "gold": gold[j].get("id"), "predicted_type": pred[i]["type"],
                   "gold_type": gold[j]["type"]} for i, j in matched],
        "missed": [g.get("id") for j, g in enumerate(gold) if j not in used_g],
        "extra": [p.get("id") for i, p in enumerate(pred) if i not in used_p],
    }


def _shared(pm: list, gm: list, lenient: bool) -> int:
    if not lenient:
        return len({tuple(m) for m in pm} & {tuple(m) for m in gm})
    return sum(any(min(pe, ge) > max(ps, gs) for gs, ge in gm) for ps, pe in pm)


def score_actors(pred: list[dict], gold: list[dict], lenient: bool = False) -> dict[str, Any]:
    """Actor precision/recall/F1, kind accuracy, pooled mention precision/recall."""
    best: list[tuple[int, int, int]] = []
    for i, p in enumerate(pred):
        pm = [tuple(m) for m in p.get("mentions") or []]
        if pm:
            counts = [_shared(pm, [tuple(m) for m in g.get("mentions") or []], lenient) for g in gold]
        else:
            pa = {a.lower() for a in p.get("aliases") or []}
            counts = [len(pa & {a.lower() for a in g.get("aliases") or []}) for g in gold]
        top = max(counts, default=0)
        if top > 0 and counts.count(top) == 1:
            best.append((top, i, counts.index(top)))
    best.sort(key=lambda x: (-x[0], x[1]))
    used_g: set[int] = set()
    matched = []
    for _, i, j in best:
        if j in used_g:
            continue
        used_g.add(j)
        matched.append((i, j))
    out = _prf(len(matched), len(pred), len(gold))
    kinds_ok = sum(pred[i].get("kind") == gold[j].get("kind") for i, j in matched)
    shared = sum(_shared([tuple(m) for m in pred[i].get("mentions") or []],
                         [tuple(m) for m in gold[j].get("mentions") or []], lenient) for i, j in matched)
    n_pred = sum(len(pred[i].get("mentions") or []) for i, _ in matched)
    n_gold = sum(len(gold[j].get("mentions") or []) for _, j in matched)
    out["kind_accuracy"] = round(kinds_ok / len(matched), 4) if matched else 0.0
    out["mentions"] = {"precision": round(shared / n_pred, 4) if n_pred else 0.0,
                       "recall": round(shared / n_gold, 4) if n_gold else 0.0}
    out["pairs"] = {pred[i].get("id"): gold[j].get("id") for i, j in matched}
    out["missed"] = [g.get("id") for j, g in enumerate(gold) if j not in used_g]
    out["extra"] = [pred[i].get("id") for i in range(len(pred)) if i not in {a for a, _ in matched}]
    return out


def score(extraction: Extraction, gold: dict[str, Any]) -> dict[str, Any]:
    """Score a draft against a gold annotation: keys ``actors``, ``claims``, ``types``, ``modality``."""
    actors = [a.to_dict() for a in extraction.actors]
    claims = [c.to_dict() for c in extraction.claims]
    exact = score_actors(actors, gold["actors"])
    lenient = score_actors(actors, gold["actors"], lenient=True)
    exact["lenient"] = {k: lenient[k] for k in ("precision", "recall", "f1", "mentions")}
    result = score_claims(claims, gold["claims"])
    return {"actors": exact, **result, "backend": extraction.backend}


_EXCLUSION = re.compile(r"\"([^\"\n]+)\" at ((?:\[\d+, ?\d+\](?:,? (?:and )?)?)+)")
_GOLD_TYPES = ("event", "aim", "threat", "red_line", "option", "conditional", "estimate", "modal_assessment")


def gold_exclusions(raw: str) -> set[tuple[int, int, str]]:
    """Deliberate exclusions listed in a gold file's header comments: ``"ALIAS" at [s, e]`` (one or
    more offset pairs after one quoted alias), as ANNOTATION.md asks them to be written."""
    header = "\n".join(line[1:] for line in raw.splitlines() if line.startswith("#"))
    header = re.sub(r"\n\s*", " ", header)
    out = set()
    for m in _EXCLUSION.finditer(header):
        for s, e in re.findall(r"\[(\d+), ?(\d+)\]", m.group(2)):
            out.add((int(s), int(e), m.group(1)))
    return out


def gold_problems(doc: dict[str, Any], text: str, exclusions: set[tuple[int, int, str]] = frozenset()) -> list[str]:
    """Every way a gold annotation breaks "Checks every gold file passes" of ANNOTATION.md (empty if none):
    unique ids, exact anchors, the eight types, ``modality`` exactly on modal assessments and inside the
    anchor, mentions that are whole-word aliases of their actor and overlap no other mention, every alias
    used, and every whole-word alias occurrence marked, nested in a longer mention of the same actor, or
    listed as an exclusion."""
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("actors"), list) or not isinstance(doc.get("claims"), list):
        return ["top-level `actors` and `claims` lists are required"]
    for key in ("actors", "claims"):
        ids = [x.get("id") for x in doc[key]]
        dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if dup or None in ids:
            problems.append(f"{key}: ids missing or not unique: {dup}")
    for c in doc["claims"]:
        cid, s, e = c.get("id"), int(c["start"]), int(c["end"])
        if text[s:e] != c.get("anchor_text"):
            problems.append(f"claim {cid}: text[{s}:{e}] is {text[s:e]!r}, not the anchor_text")
        if c.get("type") not in _GOLD_TYPES:
            problems.append(f"claim {cid}: type {c.get('type')!r} is not one of the eight")
        modal = c.get("type") == "modal_assessment"
        if modal != bool(c.get("modality")):
            problems.append(f"claim {cid}: `modality` belongs on modal_assessment claims and only there")
        elif modal and c["modality"].lower() not in str(c.get("anchor_text", "")).lower():
            problems.append(f"claim {cid}: modality {c['modality']!r} is not inside the anchor")
    marked: list[tuple[int, int, str]] = []
    for a in doc["actors"]:
        aliases = list(a.get("aliases") or [])
        used = set()
        for s, e in a.get("mentions") or []:
            piece = text[s:e]
            if piece not in aliases:
                problems.append(f"actor {a.get('id')}: mention [{s}, {e}] {piece!r} is not one of its aliases")
            elif not _whole_word(text, s, e):
                problems.append(f"actor {a.get('id')}: mention [{s}, {e}] {piece!r} is not a whole word")
            used.add(piece)
            marked.append((s, e, a.get("id")))
        for alias in set(aliases) - used:
            problems.append(f"actor {a.get('id')}: alias {alias!r} is never marked")
    marked.sort()
    for (s1, e1, a1), (s2, e2, a2) in zip(marked, marked[1:]):
        if s2 < e1:
            problems.append(f"mentions [{s1}, {e1}] ({a1}) and [{s2}, {e2}] ({a2}) overlap")
    for a in doc["actors"]:
        own = [(s, e) for s, e, aid in marked if aid == a.get("id")]
        for alias in set(a.get("aliases") or []):
            for m in re.finditer(r"(?<![\w-])" + re.escape(alias) + r"(?![\w-])", text):
                s, e = m.span()
                if (s, e) in own or any(os <= s and e <= oe for os, oe in own) or (s, e, alias) in exclusions:
                    continue
                problems.append(f"actor {a.get('id')}: {alias!r} at [{s}, {e}] is neither marked, nested in a "
                                f"longer mention of the same actor, nor listed as an exclusion")
    for s, e, alias in sorted(exclusions):
        if text[s:e] != alias:
            problems.append(f"exclusion {alias!r} at [{s}, {e}]: the text there is {text[s:e]!r}")
    return problems


def _whole_word(text: str, s: int, e: int) -> bool:
    return not (s > 0 and (text[s - 1].isalnum() or text[s - 1] in "_-")) and \
        not (e < len(text) and (text[e].isalnum() or text[e] in "_-"))
