"""A scenario skeleton drafted from the claims of an article (the YAML format of ``docs/scenarios.md``).

Every element carries ``source: {id: <article>, start, end}`` pointing at the claim it comes from.
Numbers the article does not give are labelled assumptions with wide ranges; the list of what the
analyst must still decide comes with the skeleton (:attr:`Skeleton.decide`).

From claims to elements:

- actors: every actor found, kind mapped to the scenario's kinds, sourced at its first mention;
- ``option`` and ``threat`` claims: candidate actions of the first actor named in the clause,
  with tags and an escalation score from Rivera et al. (2024)'s anchors (de-escalation −2,
  status quo 0, posturing 4, non-violent escalation 12, violent escalation 28, nuclear 60) chosen
  by general action words; each actor that has actions gets a scripted strategy whose weekly
  probabilities are uncertainties (wide assumption ranges, or the range of the claim's hedge
  turned into a weekly rate over the horizon);
- ``red_line`` claims: red lines of the first actor named, triggered by the tension passing a
  threshold (an uncertainty), with a credibility (an uncertainty) and a response action;
- ``aim`` claims: a 0–1 progress variable and an outcome "aim achieved";
- ``estimate`` claims: state variables, the number taken from the text when it gives one, else a
  0–1 index with the widest range;
- ``event`` claims: counters set to 1 at the start (it happened);
- ``modal_assessment`` claims: uncertainties over the hedge's published probability range
  (:mod:`redline.draft.wep`);
- ``conditional`` claims: uncertainties for the strength of the link (0–1), to be used by a
  process the analyst writes.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from redline.draft.model import DraftClaim, Extraction, slug
from redline.draft.wep import SCHEMES

__all__ = ["Skeleton", "build_skeleton", "KIND_MAP", "ESCALATION"]

KIND_MAP = {"state": "state", "armed_group": "armed_group", "leader": "person", "institution": "institution",
            "public": "electorate", "other": "other"}
"""Gold-annotation actor kinds to the scenario format's kinds."""

# Escalation anchors of Rivera et al. (2024), chosen by the words of the claim.
ESCALATION = {"deescalation": -2, "status_quo": 0, "posturing": 4, "nonviolent": 12, "violent": 28, "nuclear": 60}
_NUCLEAR = re.compile(r"\bnuclear (?:test|bomb|weapon|device|strike|attack)s?\b|\bbreakout\b|\bwarheads?\b", re.I)
_VIOLENT = re.compile(r"\b(?:strike|strikes|hit|attack|attacks|kill|killing|bomb|bombing|airstrikes?|missiles?|"
                      r"rockets?|drones?|raid|invade|invasion|shoot|shelling|assault|fire on|targets?|war|coffins|"
                      r"violence|violent|militants?|retaliat\w*|flare-up)\b", re.I)
_CYBER = re.compile(r"\bcyber\w*\b|\bhack\w*\b", re.I)
_ECONOMIC = re.compile(r"\bsanctions?\b|\bembargo\b|\btariffs?\b|\bblockade\b|\bgas supplies\b|\bexports?\b|"
                       r"\bimports?\b|\bdollars\b|\brepayment\b|\boil\b", re.I)
_POLITICAL = re.compile(r"\bexpel\w*\b|\bparliament\b|\bvote\w*\b|\bre-election\b|\belection\b|\bcampaign\b|"
                        r"\bdeparture\b|\bleave\b|\bwithdraw\w*\b|\bdeal\b|\btalks\b|\bnegotiat\w*\b|\bdiplomat\w*\b|"
                        r"\benrichment\b|\bcommitment\b", re.I)
_DEESCALATE = re.compile(r"\bwithdraw\w*\b|\bleave\b|\bpull out\b|\bceasefire\b|\btruce\b|\bpeace\b|\btalks\b|"
                         r"\bde-?escalat\w*\b|\bbring home\b", re.I)
_COVERT = re.compile(r"\bsecre\w*\b|\bcovert\w*\b|\bdeniab\w*\b|\bproxies\b|\bproxy\b|\bcyber\w*\b|\bsofter\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|percent|per cent))?(?![\w.])")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"\b(\d{{1,2}}) ({_MONTHS}),? (\d{{4}})\b|\b({_MONTHS}) (\d{{1,2}}),? (\d{{4}})\b")

HORIZON_WEEKS = 52
"""Default horizon of a drafted scenario: one year, an assumption the analyst must confirm."""


@dataclass
class Skeleton:
    """A drafted scenario (plain data, ready for YAML) and what the analyst must still decide."""

    scenario: dict[str, Any]
    decide: list[dict[str, str]] = field(default_factory=list)
    elements: dict[str, list[str]] = field(default_factory=dict)  # claim id -> element paths


def _src(article_id: str, start: int, end: int) -> dict[str, Any]:
    return {"id": article_id, "start": int(start), "end": int(end)}


def _words_id(text: str, n: int = 4) -> str:
    stop = {"the", "a", "an", "of", "to", "and", "or", "its", "their", "his", "her", "that", "this", "is", "be",
            "would", "will", "could", "may", "might", "it", "in", "on", "for", "with", "by", "from", "at", "as",
            "also", "only", "any", "all", "something", "has", "have", "had", "are", "was", "were", "not"}
    ws = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in stop]
    return "_".join(ws[:n]).lower() or "claim"


def _classify_action(text: str) -> tuple[list[str], float, str]:
    tags: list[str] = []
    if _NUCLEAR.search(text):
        level = "nuclear"
        tags.append("nuclear")
    elif _VIOLENT.search(text) and not _DEESCALATE.search(text):
        level = "violent"
        tags.append("kinetic")
    elif _CYBER.search(text):
        level = "nonviolent"
        tags.append("cyber")
    elif _ECONOMIC.search(text):
        level = "nonviolent"
        tags.append("economic")
    elif _DEESCALATE.search(text):
        level = "deescalation"
        tags.append("deescalation")
    elif _POLITICAL.search(text):
        level = "nonviolent"
        tags.append("political")
    else:
        level = "posturing"
        tags.append("posturing")
    tags.append("covert" if _COVERT.search(text) else "overt")
    return tags, float(ESCALATION[level]), level


def find_date(text: str) -> dt.date | None:
    """The first full date written in the article ("6 January 2020", "January 6, 2020")."""
    m = _DATE.search(text)
    if not m:
        return None
    months = _MONTHS.split("|")
    try:
        if m.group(1):
            return dt.date(int(m.group(3)), months.index(m.group(2)) + 1, int(m.group(1)))
        return dt.date(int(m.group(6)), months.index(m.group(4)) + 1, int(m.group(5)))
    except ValueError:
        return None


def _weekly(p_total: float, weeks: int) -> float:
    """Weekly probability giving ``p_total`` over ``weeks`` independent weeks: 1 − (1 − p)^(1/weeks)."""
    return 1.0 - (1.0 - p_total) ** (1.0 / weeks)


def build_skeleton(ex: Extraction, *, scenario_id: str, article_id: str = "article", title: str | None = None,
                   as_of: dt.date | None = None, source_text: str | None = None, publisher: str | None = None,
                   ) -> Skeleton:
    """Draft a scenario from an :class:`Extraction` (see the module docstring)."""
    text = ex.text
    decide: list[dict[str, str]] = []
    elements: dict[str, list[str]] = {}
    names: set[str] = {"week", "true", "false"}
    horizon = HORIZON_WEEKS

    def new_id(base: str) -> str:
        return slug(base, names, limit=48)

    headline = next((line.strip() for line in text.splitlines() if line.strip()), "Drafted scenario")
    found_date = find_date(text)
    if as_of is None:
        as_of = found_date or dt.date.today()
        decide.append({"element": "meta.as_of", "decide": (
            f"Confirm the as-of date: {as_of.isoformat()} was " +
            ("the first date written in the article." if found_date else "today's date (the article gives none)."))})
    sources: dict[str, Any] = {article_id: {"title": (title or headline)[:200]}}
    if publisher:
        sources[article_id]["publisher"] = publisher
    if source_text:
        sources[article_id]["text"] = source_text
    sources["rivera2024"] = {
        "title": "Escalation Risks from Language Models in Military and Diplomatic Decision-Making",
        "publisher": "ACM FAccT 2024 (Rivera, Mukobi, Reuel, Lamparth, Smith, Schneider)", "date": "2024",
        "url": "https://doi.org/10.1145/3630106.3658942"}
    for key, cite in SCHEMES.items():
        sources[key] = {"title": cite}

    actors: dict[str, Any] = {}
    actor_ids: dict[str, str] = {}
    for a in ex.actors:
        aid = new_id(a.id)
        actor_ids[a.id] = aid
        s, e = a.mentions[0]
        actors[aid] = {
            "name": a.name, "kind": KIND_MAP.get(a.kind, "other"),
            "description": f"Named {len(a.mentions)} time(s) as {', '.join(a.aliases)}.",
            "source": _src(article_id, s, e),
        }
    if not actors:
        aid = new_id("unnamed_actor")
        actors[aid] = {"name": "Unnamed actor", "kind": "other",
                       "assumption": "The drafter found no named actor; name the actors by hand."}
        decide.append({"element": f"actors.{aid}", "decide": "Name the actors: none was found in the article."})

    all_mentions = sorted((s, a.id, a.kind) for a in ex.actors for s, _ in a.mentions)
    all_starts = [m[0] for m in all_mentions]

    def speaker(c: DraftClaim) -> str | None:
        """The speaker of a quoted claim: the actor named after the closing quote ("...,” X said), or
        for "he/she said" the last person named before the sentence."""
        if not c.sentence:
            return None
        lo, hi = c.sentence
        sent = text[lo:hi]
        m = re.search(r"[,.!?…]\s*[”\"]\s*((?:[A-Z]|he\b|she\b).{0,120}?)\b(?:said|says|told|added|warned|declared|"
                      r"insisted)\b", sent)
        if not m or lo + m.start() < c.start:
            return None
        after = _within(lo + m.start(), hi)
        if after:
            return actor_ids[after[0][1]]
        if re.match(r"\s*(?:he|she)\b", m.group(1)):
            before = [x for x in all_mentions[:bisect.bisect_left(all_starts, lo)] if x[2] in ("leader", "other")]
            if before:
                return actor_ids[before[-1][1]]
        return None

    def _within(lo: int, hi: int) -> list[tuple[int, str, str]]:
        return all_mentions[bisect.bisect_left(all_starts, lo):bisect.bisect_left(all_starts, hi)]

    def owner(c: DraftClaim) -> str:
        who = speaker(c)
        if who is not None:
            return who
        # The actor named first in the clause is taken as the one who acts; else first in the sentence.
        for lo, hi in ((c.start, c.end), c.sentence or (c.start, c.end)):
            inside = _within(lo, hi)
            if inside:
                return actor_ids[inside[0][1]]
        most = max(ex.actors, key=lambda a: len(a.mentions), default=None)
        return actor_ids[most.id] if most else next(iter(actors))

    state: dict[str, Any] = {
        "tension": {"type": "real", "initial": 10, "min": 0, "max": 100, "unit": "0-100",
                    "description": "Escalation tension on a 0-100 scale; actions add their Rivera et al. (2024) score.",
                    "assumption": "Drafted scale: starts at 10 (a crisis under way); every action adds a quarter of its "
                                  "escalation score, processes for decay are the analyst's to write."},
    }
    names.add("tension")
    actions: dict[str, Any] = {}
    red_lines: dict[str, Any] = {}
    outcomes: dict[str, Any] = {}
    uncertainties: dict[str, Any] = {}
    strategies: dict[str, Any] = {}
    per_actor: dict[str, dict[str, str]] = {}

    def add_action(c: DraftClaim, actor: str, base: str) -> str:
        tags, score, level = _classify_action(c.anchor_text + " " + text[c.sentence[0]:c.sentence[1]]
                                              if c.sentence else c.anchor_text)
        act = new_id(f"{actor}_{base}")
        actions[act] = {
            "actor": actor, "track": "main", "tags": tags, "escalation": score,
            "description": f"Drafted from the {c.type} claim “{c.anchor_text[:150]}”.",
            "effects": [{"var": "tension", "add": round(score / 4, 2)}],
            "source": _src(article_id, c.start, c.end),
            "assumption": f"Escalation {score:g} is Rivera et al. (2024)'s '{level}' anchor, chosen from the claim's "
                          f"words; the effect on tension (a quarter of it) is a drafted placeholder.",
        }
        elements.setdefault(c.id, []).append(f"actions.{act}")
        # Weekly probability: from the hedge if the claim has one, else the widest sensible range.
        p = new_id(f"p_{act}")
        if c.probability:
            lo, hi = _weekly(c.probability["low"], horizon), _weekly(c.probability["high"], horizon)
            why = (f"'{c.modality}' read as '{c.probability['read_as']}' ({c.probability['low']:.0%}-"
                   f"{c.probability['high']:.0%} over the {horizon}-week horizon, {c.probability['scheme']}), "
                   "turned into a weekly rate 1-(1-p)^(1/weeks).")
        else:
            lo, hi, why = 0.001, 0.5, "The article gives no rate: the widest sensible weekly range, 0.1%-50%."
        uncertainties[p] = {"default": round((lo + hi) / 2, 6), "low": round(lo, 6), "high": round(hi, 6),
                            "description": f"Weekly probability that {ex_name(actor)} takes {act}.",
                            "source": _src(article_id, c.start, c.end), "assumption": why}
        per_actor.setdefault(actor, {})[act] = p
        decide.append({"element": f"actions.{act}", "decide": (
            f"Is “{c.anchor_text[:80]}” a move of {ex_name(actor)}? Set its effects on the state and its weekly "
            f"probability (now {lo:.1%}-{hi:.1%}, {p}).")})
        return act

    def ex_name(actor: str) -> str:
        return actors[actor]["name"]

    for c in ex.claims:
        if c.type in ("option", "threat"):
            add_action(c, owner(c), _words_id(c.anchor_text, 3))
        elif c.type == "red_line":
            who = owner(c)
            rid = new_id(f"red_line_{_words_id(c.anchor_text, 3)}")
            response = next((a for a, spec in actions.items() if spec["actor"] == who), None)
            if response is None:
                response = add_action(c, who, "response")
            thr = new_id(f"threshold_{rid}")
            cred = new_id(f"credibility_{rid}")
            uncertainties[thr] = {"default": 50, "low": 20, "high": 90, "unit": "0-100",
                                  "description": f"Tension at which {ex_name(who)}'s red line is crossed.",
                                  "assumption": "The article gives no threshold: drafted as tension on the 0-100 "
                                                "scale, anywhere from 20 to 90."}
            uncertainties[cred] = {"default": 0.6, "low": 0.1, "high": 1.0,
                                   "description": f"Probability that {ex_name(who)} enforces the red line.",
                                   "assumption": "The article gives no credibility: 10%-100%."}
            red_lines[rid] = {"owner": who, "condition": f"tension >= {thr}", "credibility": cred,
                              "response": response, "once": True,
                              "description": f"“{c.anchor_text[:150]}”", "source": _src(article_id, c.start, c.end)}
            elements.setdefault(c.id, []).append(f"red_lines.{rid}")
            decide.append({"element": f"red_lines.{rid}", "decide": (
                f"Write the red line's real condition (drafted as tension >= {thr}) and check its owner "
                f"({ex_name(who)}) and response ({response}).")})
        elif c.type == "aim":
            who = owner(c)
            var = new_id(f"{who}_aim_{_words_id(c.anchor_text, 3)}")
            state[var] = {"type": "real", "initial": 0, "min": 0, "max": 1, "unit": "0-1",
                          "description": f"Progress of {ex_name(who)} towards: “{c.anchor_text[:120]}”.",
                          "source": _src(article_id, c.start, c.end)}
            out = new_id(f"{var}_achieved")
            outcomes[out] = {"condition": f"{var} >= 1", "absorbing": False,
                             "description": f"{ex_name(who)} achieves: “{c.anchor_text[:120]}”.",
                             "source": _src(article_id, c.start, c.end)}
            elements.setdefault(c.id, []).extend([f"state.{var}", f"outcomes.{out}"])
            decide.append({"element": f"state.{var}", "decide": (
                f"Which actions or processes move {ex_name(who)}'s progress on this aim? Nothing moves it yet.")})
        elif c.type == "estimate":
            var = new_id(f"estimate_{_words_id(c.anchor_text, 3)}")
            m = _NUMBER.search(c.anchor_text)
            if m and not re.fullmatch(r"(?:19|20)\d\d", m.group(1)):
                value = float(m.group(1).replace(",", ""))
                entry = {"type": "real", "initial": f"uniform({value * 0.75:g}, {value * 1.25:g})",
                         "description": f"“{c.anchor_text[:120]}”",
                         "source": _src(article_id, c.start + m.start(), c.start + m.end()),
                         "assumption": f"The article gives {m.group()}; ±25% around it is a drafted range."}
            else:
                entry = {"type": "real", "initial": "uniform(0, 1)", "min": 0, "max": 1, "unit": "0-1 index",
                         "description": f"“{c.anchor_text[:120]}”", "source": _src(article_id, c.start, c.end),
                         "assumption": "The article gives no number: a 0-1 index over its widest range."}
            state[var] = entry
            elements.setdefault(c.id, []).append(f"state.{var}")
            decide.append({"element": f"state.{var}", "decide": "Give this estimate a unit, a value and a range "
                                                                 "(now " + str(entry["initial"]) + ")."})
        elif c.type == "event":
            var = new_id(f"event_{_words_id(c.anchor_text, 3)}")
            state[var] = {"type": "counter", "initial": 1, "unit": "events",
                          "description": f"Happened before the as-of date: “{c.anchor_text[:120]}”.",
                          "source": _src(article_id, c.start, c.end)}
            elements.setdefault(c.id, []).append(f"state.{var}")
        elif c.type == "modal_assessment" and c.probability:
            u = new_id(f"p_{_words_id(c.anchor_text, 3)}")
            pr = c.probability
            lo, hi = pr["low"], pr["high"]
            uncertainties[u] = {"default": round((lo + hi) / 2, 4), "low": lo, "high": hi,
                                "description": f"“{c.anchor_text[:120]}” ('{c.modality}' read as '{pr['read_as']}', "
                                               f"{pr['scheme']}).",
                                "source": _src(article_id, c.start, c.end)}
            elements.setdefault(c.id, []).append(f"uncertainties.{u}")
            decide.append({"element": f"uncertainties.{u}", "decide": (
                f"Which outcome or question does “{c.anchor_text[:60]}” forecast? Its range {lo:.0%}-{hi:.0%} is "
                f"'{pr['read_as']}' in {pr['scheme']}; readers read such words more widely (Mandel & Irwin 2021).")})
        elif c.type == "conditional":
            u = new_id(f"link_{_words_id(c.anchor_text, 3)}")
            uncertainties[u] = {"default": 0.5, "low": 0.0, "high": 1.0,
                                "description": f"Strength of the link: “{c.anchor_text[:120]}”.",
                                "source": _src(article_id, c.start, c.end),
                                "assumption": "The article gives no size for this link: 0 (none) to 1 (full)."}
            elements.setdefault(c.id, []).append(f"uncertainties.{u}")
            decide.append({"element": f"uncertainties.{u}", "decide": (
                f"Write the process or effect for “{c.anchor_text[:80]}” (if X then Y) that uses {u}.")})

    war = new_id("open_conflict")
    outcomes[war] = {"condition": "tension >= 90", "absorbing": True,
                     "description": "Tension passes the point of open conflict.",
                     "assumption": "Drafted: 90 on the 0-100 tension scale is taken as open conflict."}
    for actor, probs in per_actor.items():
        sid = new_id(f"{actor}_drafted")
        strategies[sid] = {"actor": actor, "description": "Drafted: each candidate action at its weekly probability.",
                           "policy": {"kind": "scripted", "probabilities": dict(probs)},
                           "assumption": "Drafted from the article's options and threats; rates are uncertainties."}
        actors[actor]["strategy"] = sid
    decide.append({"element": "meta.horizon", "decide": f"Confirm the horizon ({horizon} weeks, drafted)."})
    decide.append({"element": "processes", "decide": "Write the processes (decay of tension, drift of the aims' "
                                                     "progress): the draft has none."})
    decide.append({"element": "actors", "decide": "Check each actor's kind and add goals and attributes; drop "
                                                  "actors the analysis only mentions."})

    scenario = {
        "meta": {"id": scenario_id, "title": (title or headline)[:200], "as_of": as_of.isoformat(), "step": "week",
                 "horizon": horizon,
                 "description": f"Drafted by `redline draft` ({ex.backend}) from {len(ex.claims)} claims and "
                                f"{len(ex.actors)} actors of the article; every element points at its sentence. "
                                "A starting point for the analyst, not a model."},
        "sources": sources, "actors": actors, "state": state, "actions": actions, "red_lines": red_lines,
        "outcomes": outcomes, "strategies": strategies, "uncertainties": uncertainties,
    }
    return Skeleton(scenario=scenario, decide=decide, elements=elements)
