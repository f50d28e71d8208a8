"""Enrichment physics and breakout arithmetic (pure, vectorised over runs).

``redline.nuclear`` answers "how long would it take to make a significant quantity of
weapon-grade uranium from these stocks with these centrifuges?" from first principles
(separative work), and shows its work as an auditable plan. See ``docs/nuclear.md``.
"""
from __future__ import annotations

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
    "NATURAL_ASSAY",
    "UF6_TO_U",
    "EnrichmentBalance",
    "feed_per_product",
    "separative_work",
    "solve_enrichment",
    "swu_per_product",
    "value_function",
]
