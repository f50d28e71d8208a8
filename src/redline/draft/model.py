"""What a draft holds: actors with every mention, typed claims with offsets (plain data)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

__all__ = ["CLAIM_TYPES", "ACTOR_KINDS", "DraftActor", "DraftClaim", "Extraction", "slug"]

CLAIM_TYPES = ("aim", "threat", "option", "conditional", "estimate", "modal_assessment", "event", "red_line")
"""The eight claim types of the gold annotation guide (``shared/seed/ANNOTATION.md``)."""

ACTOR_KINDS = ("state", "armed_group", "leader", "institution", "public", "other")
"""Actor kinds of the gold annotation guide."""


def slug(text: str, taken: set[str] | None = None, limit: int = 40) -> str:
    """A snake_case identifier from text (ASCII letters/digits), unique within ``taken``."""
    ascii_ = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()  # "Erdoğan" -> "erdogan"
    base = re.sub(r"[^a-z0-9]+", "_", ascii_).strip("_")[:limit].strip("_")
    if not base or not base[0].isalpha():
        base = "x_" + base if base else "x"
    name, n = base, 2
    while taken is not None and name in taken:
        name = f"{base}_{n}"
        n += 1
    if taken is not None:
        taken.add(name)
    return name


@dataclass
class DraftActor:
    """An actor the article reasons about, with every surface form and mention."""

    id: str
    name: str
    kind: str
    aliases: list[str]
    mentions: list[tuple[int, int]]
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mentions"] = [list(m) for m in self.mentions]
        return d


@dataclass
class DraftClaim:
    """A claim anchored in the article: ``text[start:end] == anchor_text``."""

    id: str
    start: int
    end: int
    anchor_text: str
    type: str
    claim: str
    modality: str | None = None
    probability: dict | None = None
    actors: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    sentence: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["sentence"] is not None:
            d["sentence"] = list(d["sentence"])
        if self.modality is None:
            d.pop("modality")
            d.pop("probability")
        return d


@dataclass
class Extraction:
    """Actors and claims drafted from one article, and how they were drafted."""

    text: str
    actors: list[DraftActor]
    claims: list[DraftClaim]
    backend: str = "rules"
    warnings: list[str] = field(default_factory=list)

    def actor(self, actor_id: str) -> DraftActor | None:
        return next((a for a in self.actors if a.id == actor_id), None)
