"""Centrifuge types with separative capacity per machine, each a default with a range and a basis.

Outputs of Iran's machines are not published by Iran in standard units and vary with cascade
operation; analysts infer them from the IAEA's quarterly reports (product per month, machines
being fed). Every figure below is therefore a *documented assumption* — a default inside a
low–high range, with the public material it rests on — and every one can be overridden
(``fleet_swu_per_year(..., overrides={"IR-6": 6.0})`` or ``redline breakout --swu IR-6=6``).
``docs/nuclear.md`` discusses them and their uncertainty.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from redline.errors import ParameterError, did_you_mean

__all__ = ["MachineType", "MACHINE_TYPES", "machine_type", "fleet_swu_per_year"]


@dataclass(frozen=True)
class MachineType:
    """A centrifuge model and its separative capacity, in kg-SWU per machine per year."""

    name: str
    swu_per_year: float
    low_swu_per_year: float
    high_swu_per_year: float
    basis: str

    def to_dict(self) -> dict:
        return asdict(self)


_ISIS_2019 = ("Albright & Stricker, 'IAEA Iran Safeguards Report Analysis', Institute for Science and "
              "International Security, 13 Nov 2019 (facts.yaml `iran_enrichment_capacity_swu`)")
_ISIS_2011_IR1 = ("Albright & Walrond, 'Performance of the IR-1 Centrifuge at Natanz', ISIS, "
                  "19 Oct 2011, http://isis-online.org/isis-reports/detail/test1/")
_ISIS_2011_ADV = ("Albright & Walrond, 'Iran's Advanced Centrifuges', ISIS, 19 Oct 2011, "
                  "http://isis-online.org/isis-reports/detail/irans-advanced-centrifuges")
_ISIS_2014_IR8 = ("Albright, 'Technical Note: Making Sense out of the IR-8 Centrifuge', ISIS, 23 Sep 2014, "
                  "https://isis-online.org/isis-reports/detail/technical-note-making-sense-out-of-the-ir-8-centrifuge")
_ISIS_2022_IR6 = ("Albright & Burkhard, 'The IR-6 Centrifuge Needs Further Development', ISIS, 14 Jul 2022, "
                  "https://isis-online.org/isis-reports/detail/the-ir-6-centrifuge-needs-further-development")

#: Built-in machine types. Keys are canonical names; look-ups ignore case.
MACHINE_TYPES: dict[str, MachineType] = {m.name: m for m in (
    MachineType(
        "IR-1", 0.9, 0.6, 1.0,
        f"Default = ISIS's ~4,550 SWU/yr for the JCPOA's 5,060 IR-1s, i.e. 0.90 each ({_ISIS_2019}). "
        f"Low: the falling output ISIS inferred from IAEA data in 2010-11, which we compute as about "
        f"0.75 SWU/yr, less a margin for breakage ({_ISIS_2011_IR1}). High: 1.0, assumption (a P-1-type "
        "machine running well)."),
    MachineType(
        "IR-2m", 4.0, 3.0, 5.0,
        f"Assumption: middle of the 3-5 SWU/yr commonly cited for this carbon-fibre, P-2-derived "
        f"machine ({_ISIS_2011_ADV}); no IAEA-derived production figure was found in our corpus."),
    MachineType(
        "IR-4", 4.0, 3.0, 5.0,
        f"Assumption: same as IR-2m; ISIS notes the IR-2m and IR-4 are similar in output "
        f"({_ISIS_2014_IR8})."),
    MachineType(
        "IR-5", 5.0, 3.0, 7.0,
        "Assumption: between IR-4 and IR-6 (an IR-1-length carbon-fibre machine); R&D only, installed at "
        "the Natanz pilot plant in 2019 (IAEA GOV/INF/2019/10, facts.yaml `natanz_pfep_installed_sep2019`)."),
    MachineType(
        "IR-6", 5.0, 3.5, 10.0,
        f"Default: about half of Iran's claim of ~10x an IR-1 (facts.yaml `iran_ir6_operating`), in line "
        f"with ISIS's finding that the IR-6 achieves about half its theoretical single-machine value and "
        f"two-thirds of its expected production value ({_ISIS_2022_IR6}). High = the Iranian claim."),
    MachineType(
        "IR-6s", 5.0, 3.5, 10.0,
        "Assumption: a variant of the IR-6 (IAEA GOV/INF/2019/10 lists 3 IR-6s), given the same figures."),
    MachineType(
        "IR-8", 8.0, 5.0, 16.0,
        f"Iran claimed 16x an IR-1; ISIS calls the claim exaggerated (non-standard unit, theoretical "
        f"upper bound) ({_ISIS_2014_IR8}). Default: half the claim, as for the IR-6 (assumption). R&D "
        "only; no production cascades."),
    MachineType(
        "IR-9", 12.0, 6.0, 50.0,
        "Assumption only: Iran has claimed about 50x an IR-1 (press statements, 2018-2021); default a "
        "quarter of the claim, given the IR-6/IR-8 record. R&D only."),
)}

_BY_LOWER = {name.lower(): name for name in MACHINE_TYPES}


def machine_type(name: str) -> MachineType:
    """Return the built-in :class:`MachineType` called ``name`` (case-insensitive).

    Raises
    ------
    ParameterError
        Unknown type, with the nearest known name suggested.
    """
    key = name.strip().lower()
    if key in _BY_LOWER:
        return MACHINE_TYPES[_BY_LOWER[key]]
    raise ParameterError(f"unknown machine type '{name}'{did_you_mean(name.upper(), MACHINE_TYPES)} "
                         f"(known: {', '.join(MACHINE_TYPES)}; or give its rate with --swu {name}=SWU)")


def fleet_swu_per_year(machines: Mapping[str, float],
                       overrides: Mapping[str, float] | None = None) -> tuple[float, dict[str, float]]:
    """Nameplate separative capacity of a fleet, kg-SWU per year.

    Parameters
    ----------
    machines : mapping of str to float
        Machine type name -> number of machines enriching.
    overrides : mapping of str to float, optional
        Machine type name -> kg-SWU per machine per year. Overrides a built-in default, or defines a
        type that has no default (e.g. a hypothetical covert machine).

    Returns
    -------
    total : float
        Sum over types of count x rate.
    rates : dict of str to float
        The rate used for each type in ``machines``, keyed by the canonical name.
    """
    overrides = {k.strip(): float(v) for k, v in (overrides or {}).items()}
    over_lower = {k.lower(): v for k, v in overrides.items()}
    for name, rate in overrides.items():
        if not rate >= 0:
            raise ParameterError(f"SWU rate for {name} must be non-negative, got {rate}")
    total = 0.0
    rates: dict[str, float] = {}
    for name, count in machines.items():
        if not count >= 0:
            raise ParameterError(f"machine count for {name} must be non-negative, got {count}")
        key = name.strip().lower()
        if key in over_lower:
            canonical = _BY_LOWER.get(key, name.strip())
            rate = over_lower[key]
        else:
            canonical = machine_type(name).name
            rate = MACHINE_TYPES[canonical].swu_per_year
        rates[canonical] = rate
        total += float(count) * rate
    return total, rates
