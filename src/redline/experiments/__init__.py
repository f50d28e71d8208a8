"""Exploratory modelling: designs over uncertainties × levers × strategies, run on any executor.

>>> from redline.experiments import perform_experiments
>>> ds = perform_experiments("proxy-deterrence", "lhs", 16, runs=200, seed=1)  # doctest: +SKIP
>>> ds["probability"].sel(outcome="defender_leaves")                            # doctest: +SKIP

Vocabulary and workflow follow the EMA Workbench (Kwakkel 2017, doi:10.1016/j.envsoft.2017.06.054);
samplers and sensitivity analysers are SALib's (Herman & Usher 2017, doi:10.21105/joss.00097).
"""
from __future__ import annotations

from redline.experiments.batches import BATCH_RUNS, plan_batches
from redline.experiments.design import DESIGNS, Design, Factor, experiment_seed, make_design
from redline.experiments.execute import EXECUTORS, design_frame, perform_experiments, run_experiment

__all__ = [
    "BATCH_RUNS",
    "DESIGNS",
    "EXECUTORS",
    "Design",
    "Factor",
    "design_frame",
    "experiment_seed",
    "make_design",
    "perform_experiments",
    "plan_batches",
    "run_experiment",
]
