"""redline: sourced, executable models of geopolitical crises, run as thousands of futures.

The public API::

    import redline
    loaded = redline.load_scenario("proxy-deterrence")
    ds = redline.simulate(loaded, runs=2000, seed=1)
    cmp = redline.compare(loaded, actor="challenger", strategies=["deniable", "loud"], seed=1)
    cmp.differences                     # paired differences with 95% intervals

Everything else is reached through its subpackage (``redline.escalation``, ``redline.results``,
...). The names below are imported on first use (PEP 562): ``import redline`` runs on every CLI
start-up, and importing the report layer eagerly would add matplotlib (about 1 s) to ``redline --help``.
"""
from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version as _version
from typing import TYPE_CHECKING, Any

try:
    __version__ = _version("redline")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

_PUBLIC = {
    "load_scenario": "redline.scenario",
    "simulate": "redline.experiments.compare",
    "compare": "redline.experiments.compare",
    "perform_experiments": "redline.experiments",
    "forecast": "redline.forecast",
    "backtest": "redline.forecast",
    "write_report": "redline.report",
    "load_record": "redline.calibrate",
    "load_posterior": "redline.calibrate",
    "draft_article": "redline.draft",
    "RedlineError": "redline.errors",
    "ScenarioError": "redline.errors",
    "ExpressionError": "redline.errors",
    "ParameterError": "redline.errors",
}

_SUBPACKAGES = ("calibrate",)  # public workflow packages: ``redline.calibrate.calibrate(scenario, record, ...)``

__all__ = ["__version__", *_PUBLIC, *_SUBPACKAGES]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from redline.errors import ExpressionError, ParameterError, RedlineError, ScenarioError
    from redline.experiments import perform_experiments
    from redline.experiments.compare import compare, simulate
    from redline import calibrate
    from redline.calibrate import load_posterior, load_record
    from redline.forecast import backtest, forecast
    from redline.draft import draft_article
    from redline.report import write_report
    from redline.scenario import load_scenario


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'redline' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC) | set(_SUBPACKAGES))
