"""Analysis of a sweep's results: global sensitivity indices and scenario discovery (PRIM, CART).

Summaries of single simulations (outcome probabilities, intervals, paired differences) live in
:mod:`redline.results.summary`.
"""
from __future__ import annotations

from redline.analysis.discovery import Box, cart, discover_store, plot_discovery, prim
from redline.analysis.sensitivity import METHODS, analyse, analyse_store, plot_sensitivity
from redline.analysis.sweep import sweep_analyses

__all__ = ["Box", "METHODS", "analyse", "analyse_store", "cart", "discover_store", "plot_discovery",
           "plot_sensitivity", "prim", "sweep_analyses"]
