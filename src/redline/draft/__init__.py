"""Draft a sourced scenario from an article: actors, typed claims with offsets, a scenario skeleton,
a review page, and a score against a gold annotation.

Offline by default (model-free rules, :mod:`redline.draft.actors` and :mod:`redline.draft.claims`);
an OpenAI-compatible endpoint may propose claims (:mod:`redline.draft.llm`), and every proposal is
anchored in the text by redline before it is kept.

>>> from redline.draft import extract
>>> ex = extract("Valdoria warned it would cut gas supplies to Ostria. Ostria has said it will resist.")
>>> [a.name for a in ex.actors], [c.type for c in ex.claims]
(['Valdoria', 'Ostria'], ['threat', 'event'])
"""
from __future__ import annotations

from redline.draft.actors import find_actors
from redline.draft.claims import find_claims
from redline.draft.evaluate import load_gold, score
from redline.draft.model import CLAIM_TYPES, DraftActor, DraftClaim, Extraction
from redline.draft.skeleton import Skeleton, build_skeleton
from redline.draft.text import check_article, read_article, sentences

__all__ = ["CLAIM_TYPES", "DraftActor", "DraftClaim", "Extraction", "Skeleton", "draft_article", "extract",
           "extract_with_llm",
           "build_skeleton", "load_gold", "score", "read_article", "check_article", "to_yaml"]


def extract(text: str) -> Extraction:
    """Actors and claims of an article with the offline rules (no network)."""
    segs = sentences(text)
    actors = find_actors(text, segs)
    claims = find_claims(text, actors, segs)
    return Extraction(text=text, actors=actors, claims=claims, backend="rules")


def extract_with_llm(text: str, url: str | None = None, model: str | None = None, *, timeout: float = 60.0,
                     fallback: bool = True) -> Extraction:
    """Actors and claims proposed by an OpenAI-compatible endpoint and anchored by redline.

    With ``fallback`` (the default) an endpoint that is down, too slow or answers malformed JSON, or
    whose proposals anchor nothing, gives the offline result with a warning; without it,
    :class:`~redline.draft.llm.LLMError` is raised.
    """
    from redline.draft.llm import LLMConfig, LLMError, llm_extract

    cfg = LLMConfig(url, model, timeout)
    try:
        ex = llm_extract(text, cfg)
    except LLMError as err:
        if not fallback:
            raise
        ex = extract(text)
        ex.warnings.append(f"{err.message}; drafted offline with the rules instead")
        return ex
    if not ex.claims and fallback:
        offline = extract(text)
        offline.warnings += ex.warnings + ["the LLM proposed no claim that anchors in the text; drafted offline "
                                           "with the rules instead"]
        return offline
    return ex


def to_yaml(skeleton: Skeleton, *, header: str = "") -> str:
    """The skeleton as YAML text, with the analyst's decision list as a comment block on top."""
    import yaml

    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if skeleton.decide:
        lines.append("# What the analyst must still decide:")
        lines += [f"#   - {d['element']}: {d['decide']}" for d in skeleton.decide]
    body = yaml.safe_dump(skeleton.scenario, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return ("\n".join(lines) + "\n" if lines else "") + body


def draft_article(text: str, *, scenario_id: str = "draft", as_of=None, llm: str | None = None,
                  model: str | None = None, timeout: float = 60.0) -> tuple[Extraction, Skeleton]:
    """Draft an article end to end: actors and claims (offline rules, or ``llm`` proposals anchored by
    redline, falling back to the rules with a warning), and the scenario skeleton drafted from them.

    >>> ex, sk = draft_article("Valdoria warned it would cut gas supplies to Ostria.", scenario_id="gas")
    >>> sorted(sk.scenario["actions"])
    ['valdoria_valdoria_warned_cut']
    """
    ex = extract_with_llm(text, llm, model, timeout=timeout) if llm else extract(text)
    return ex, build_skeleton(ex, scenario_id=scenario_id, as_of=as_of)
