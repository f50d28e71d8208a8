"""Enrichment physics and breakout arithmetic (pure, vectorised over runs).

``redline.nuclear`` answers "how long would it take to make a significant quantity of
weapon-grade uranium from these stocks with these centrifuges?" from first principles
(separative work), and shows its work as an auditable plan. See ``docs/nuclear.md``.
"""
from __future__ import annotations

from redline.nuclear.breakout import (
    DEFAULT_ASSUMPTIONS,
    SQ_CONVENTIONS,
    WEAPON_GRADE_ASSAY,
    BreakoutAssumptions,
    BreakoutPlan,
    BreakoutStep,
    SignificantQuantity,
    breakout_days,
    plan_breakout,
    significant_quantity,
)
from redline.nuclear.centrifuges import MACHINE_TYPES, MachineType, fleet_swu_per_year, machine_type
from redline.nuclear.enrichment import (
    NATURAL_ASSAY,
    UF6_TO_U,
    EnrichmentBalance,
    feed_per_product,
    separative_work,
    solve_enrichment,
    swu_per_product,
    value_function,
)

__all__ = [
    "DEFAULT_ASSUMPTIONS",
    "SQ_CONVENTIONS",
    "WEAPON_GRADE_ASSAY",
    "BreakoutAssumptions",
    "BreakoutPlan",
    "BreakoutStep",
    "SignificantQuantity",
    "breakout_days",
    "plan_breakout",
    "significant_quantity",
    "MACHINE_TYPES",
    "MachineType",
    "fleet_swu_per_year",
    "machine_type",
    "NATURAL_ASSAY",
    "UF6_TO_U",
    "EnrichmentBalance",
    "feed_per_product",
    "separative_work",
    "solve_enrichment",
    "swu_per_product",
    "value_function",
]
