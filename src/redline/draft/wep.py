"""Words of estimative probability: a hedge as written, and the probability range it stands for.

Sources (numbers as published, not tuned):

- Kent, S. (1964). *Words of Estimative Probability*. Studies in Intelligence 8(4), 49-65 (CIA).
  Certain 100%; almost certain 93% give or take about 6%; probable 75% ± about 12%; chances about
  even 50% ± about 10%; probably not 30% ± about 10%; almost certainly not 7% ± about 5%;
  impossible 0%. Words such as "possible", "may", "might", "could" lie in what Kent calls the
  general area of possibility: no bounded meaning.
- ICD 203 (2015). *Analytic Standards*, Intelligence Community Directive 203, Office of the
  Director of National Intelligence, section D.6.e(2)(a): almost no chance / remote 1-5%; very
  unlikely / highly improbable 5-20%; unlikely / improbable 20-45%; roughly even chance / roughly
  even odds 45-55%; likely / probable 55-80%; very likely / highly probable 80-95%; almost
  certain(ly) / nearly certain 95-99%.
- Mandel, D. R. & Irwin, D. (2021). Facilitating sender-receiver agreement in communicated
  probabilities: Is it best to use words, numbers or both? *Judgment and Decision Making* 16(2),
  363-393. In an experiment (N = 1,202) readers' numeric readings of the verbal terms of a
  numerically bounded scheme agreed with the scheme far less than readings of numbers did. This is
  why a draft keeps the *range*, says which scheme it comes from, and leaves the number to the
  analyst (see the "decide" list of a draft): a verbal hedge is never turned into a point value.

A hedge that neither scheme bounds (may, might, could, possible, perhaps, unclear...) gets
Kent's general area of possibility, 1-99%, labelled as such.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Hedge", "HEDGES", "find_hedges", "probability_range", "SCHEMES"]

SCHEMES = {
    "kent1964": "Kent, S. (1964). Words of Estimative Probability. Studies in Intelligence 8(4), 49-65.",
    "icd203": "ICD 203 (2015). Analytic Standards, section D.6.e(2)(a). Office of the Director of National Intelligence.",
    "mandel_irwin2021": ("Mandel, D. R. & Irwin, D. (2021). Facilitating sender-receiver agreement in communicated "
                         "probabilities: Is it best to use words, numbers or both? Judgment and Decision Making 16(2), "
                         "363-393."),
}


@dataclass(frozen=True)
class Hedge:
    """A hedge pattern, the scheme term it is read as, and that term's published range."""

    pattern: str
    term: str
    low: float
    high: float
    scheme: str


_POSSIBILITY = (0.01, 0.99)
# Longest phrases first, so "highly likely" wins over "likely" and "may not" over "may".
HEDGES: tuple[Hedge, ...] = (
    Hedge(r"almost certainly not", "almost certainly not", 0.02, 0.12, "kent1964"),
    Hedge(r"almost no chance|remote(?:ly)? (?:possible|chance)", "almost no chance", 0.01, 0.05, "icd203"),
    Hedge(r"if not impossible|all but impossible|nearly impossible|virtually impossible", "almost no chance",
          0.01, 0.05, "icd203"),
    Hedge(r"very unlikely|highly unlikely|highly improbable", "very unlikely", 0.05, 0.20, "icd203"),
    Hedge(r"probably not", "probably not", 0.20, 0.40, "kent1964"),
    Hedge(r"unlikely|improbable|doubtful", "unlikely", 0.20, 0.45, "icd203"),
    Hedge(r"roughly even (?:chance|odds)|(?:an )?even chance|chances (?:are )?about even|fifty-fifty|toss-up",
          "roughly even chance", 0.45, 0.55, "icd203"),
    Hedge(r"almost certain(?:ly)?|nearly certain(?:ly)?|virtually certain(?:ly)?|inevitabl[ey]",
          "almost certain", 0.95, 0.99, "icd203"),
    Hedge(r"very likely|highly likely|highly probable|most likely", "very likely", 0.80, 0.95, "icd203"),
    Hedge(r"likely|probabl[ey]|a (?:good|strong|decent|real) chance", "likely", 0.55, 0.80, "icd203"),
    Hedge(r"may not|might not|may well|might well|may|might|could well|could|possibly|possible|perhaps|"
          r"maybe|conceivabl[ey]|plausibl[ey]|unclear|uncertain|a chance|feasible",
          "general area of possibility", *_POSSIBILITY, "kent1964"),
)
_HEDGE_RE = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<h{i}>{h.pattern})" for i, h in enumerate(HEDGES))
                       + r")(?![\w-])", re.IGNORECASE)
# A modal verb is a hedge only before a verb ("may dissipate"), never as a noun ("military might").
_MODAL_VERBS = {"may", "might", "could", "may not", "might not", "may well", "might well", "could well"}


def find_hedges(text: str) -> list[tuple[int, int, Hedge]]:
    """Hedges in ``text``: ``(start, end, hedge)``, in order. "might"/"may"/"could" count only before
    a lower-case word (a verb or adverb), so "military might" is no hedge."""
    out = []
    for m in _HEDGE_RE.finditer(text):
        idx = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None)
        word = m.group().lower()
        if word == "could" and re.match(r"\s+not\b", text[m.end():m.end() + 6]):
            continue  # "it could not ignore": inability, no hedge
        if word in _MODAL_VERBS:
            after = text[m.end():m.end() + 20]
            if not re.match(r"\s+[a-z]", after):
                continue
            before = text[max(0, m.start() - 12):m.start()].lower()
            if word.startswith("might") and re.search(r"\b(?:the|its|his|her|their|military|economic|naval|air)\s+$",
                                                      before):
                continue
        out.append((m.start(), m.end(), HEDGES[idx]))
    return out


def probability_range(hedge: Hedge, written: str) -> dict:
    """The range a hedge stands for, with its scheme and citation."""
    return {
        "term": written,
        "read_as": hedge.term,
        "low": hedge.low,
        "high": hedge.high,
        "scheme": hedge.scheme,
        "citation": SCHEMES[hedge.scheme],
    }
