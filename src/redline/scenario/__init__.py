"""Scenario files: safe YAML reading, the pydantic schema, cross-reference checks and compilation."""
from __future__ import annotations

import redline.functions  # noqa: F401  registers domain functions (breakout_days) with the expression language
from redline.scenario.compile import Program, week_of
from redline.scenario.load import (
    LoadedScenario,
    bundled_scenarios,
    load_scenario,
    scenario_from_dict,
    scenario_from_text,
)
from redline.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Program",
    "Scenario",
    "bundled_scenarios",
    "load_scenario",
    "scenario_from_dict",
    "scenario_from_text",
    "week_of",
]
