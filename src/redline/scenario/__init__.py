"""Scenario files: safe YAML reading, the pydantic schema, cross-reference checks and compilation."""
from __future__ import annotations

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
