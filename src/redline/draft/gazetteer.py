"""Country names, capitals, codes and demonyms from a general source: the ``countryinfo`` package
(MIT licence; data after the REST Countries project). Nothing here is written for one article.

Derived forms, each a general rule applied to every country alike:

- an official name "X of Y" whose tail Y names no other country gives the short form Y
  ("United States of America" gives "America"; "Republic of Korea" gives nothing, since "Korea"
  would be ambiguous between two states);
- an all-capital code is kept only when it is the initials of the name ("US", "UK", "UAE"), so
  two-letter ISO codes that are English words ("IN", "IT") never match;
- a capital such as "Washington D.C." also gives "Washington";
- a seat of government that stands for its state in English news writing ("the Kremlin", "the White
  House") counts as a capital: a short general table (:data:`SEATS_OF_GOVERNMENT`), not a list for
  any article.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from redline.errors import ParameterError

__all__ = ["Country", "SEATS_OF_GOVERNMENT", "countries", "country_index", "demonym_index"]

SEATS_OF_GOVERNMENT = {
    "Kremlin": "Russia", "White House": "United States", "Downing Street": "United Kingdom", "Elysee": "France",
    "Élysée": "France", "Zhongnanhai": "China", "Blue House": "South Korea",
}
"""Seat of government → the state's name in ``countryinfo``: the buildings English news writing uses for a
government ("the Kremlin said"), as "Washington" stands for the United States."""


@dataclass
class Country:
    """One country: canonical name, the names that denote it, its capital(s) and demonym."""

    name: str
    names: set[str] = field(default_factory=set)
    capitals: set[str] = field(default_factory=set)
    demonyms: set[str] = field(default_factory=set)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if w[0].isupper())


@functools.lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """All countries of ``countryinfo`` with their names, capitals and demonyms (cached)."""
    try:
        import countryinfo
    except ImportError:  # pragma: no cover - the `draft` extra installs it
        raise ParameterError("redline draft needs the `countryinfo` package: pip install 'redline[draft]'") from None
    by_name: dict[str, Country] = {}
    for entry in countryinfo.all_countries():
        info = entry.info()
        name = (info.get("name") or "").strip()
        if not name or "," in name or "(" in name:
            continue
        c = by_name.setdefault(name, Country(name))
        c.names.add(name)
        for alt in info.get("altSpellings") or []:
            alt = alt.strip()
            if not alt or "," in alt or not alt.isascii():
                continue
            if alt.isupper():
                if alt == _initials(name) and len(alt) >= 2:
                    c.names.add(alt)
                continue
            if alt[0].isupper():
                c.names.add(alt)
                if alt.startswith("Great ") and " " not in alt[6:]:
                    c.names.add(alt[6:])  # "Great Britain" is also "Britain"
        capitals = info.get("capital") or []
        for capital in [capitals] if isinstance(capitals, str) else capitals:
            capital = str(capital).strip()
            if capital and capital.isascii():
                c.capitals.add(capital)
                if capital.endswith(" D.C."):
                    c.capitals.add(capital[: -len(" D.C.")])
        demonyms = info.get("demonym") or []
        for demonym in [demonyms] if isinstance(demonyms, str) else demonyms:
            demonym = str(demonym).strip()
            if demonym and demonym.isascii():
                c.demonyms.add(demonym)
    found = list(by_name.values())
    all_names = {n for c in found for n in c.names}
    tails: dict[str, set[str]] = {}
    for c in found:
        for n in list(c.names):
            if " of " in n:
                tail = n.rsplit(" of ", 1)[1].strip()
                if tail and tail[0].isupper() and tail.lower() not in ("the", "a"):
                    tails.setdefault(tail, set()).add(c.name)
    for tail, owners in tails.items():
        if len(owners) == 1 and tail not in all_names:
            by_name[next(iter(owners))].names.add(tail)
    for seat, owner in SEATS_OF_GOVERNMENT.items():
        if owner in by_name:
            by_name[owner].capitals.add(seat)
    # A capital that is also a country's name (Singapore, Djibouti...) stays that country's name only.
    for c in found:
        c.capitals -= all_names
    return tuple(found)


def _unique(pairs) -> dict[str, Country]:
    """Form to country, dropping a form that two countries share (it would be a guess)."""
    index: dict[str, Country] = {}
    clash: set[str] = set()
    for form, c in pairs:
        if form in index and index[form] is not c:
            clash.add(form)
        index[form] = c
    for form in clash:
        index.pop(form, None)
    return index


@functools.lru_cache(maxsize=1)
def country_index() -> dict[str, Country]:
    """Surface form (name, short form, code or capital) to country; ambiguous forms are dropped."""
    return _unique((form, c) for c in countries() for form in c.names | c.capitals)


@functools.lru_cache(maxsize=1)
def demonym_index() -> dict[str, Country]:
    """Demonym or adjective ("Iranian", "Saudi Arabian") to country; shared demonyms are dropped."""
    return _unique((d, c) for c in countries() for d in c.demonyms)
