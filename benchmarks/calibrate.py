"""Calibration speed: the cost of per-run parameters, and ABC-SMC particles per second.

Usage: python benchmarks/calibrate.py [--scenario iran-us-2020] [--runs 20000] [--skip-abc]

Prints numbers; asserts nothing. Each timing is the best of a few repeats, measured in the same
process one after the other, because these machines are noisy.

1. Per-run parameters: the same runs with every uncertainty fixed at its default, then with one
   value per run drawn uniformly from its range (what a posterior or a calibration does). The
   issue's target is under 20% extra cost.
2. ABC-SMC: `redline.calibrate` on a record the scenario itself generated (if the scenario has a
   numeric state variable), particles per second.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

from redline import escalation
from redline.scenario import load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import best_time  # noqa: E402  (the engine benchmark's timer: best of a few repeats)


def per_run_cost(loaded, runs: int, horizon: int | None, repeats: int) -> None:
    program = loaded.program
    names = sorted(loaded.spec.uncertainties)
    rng = np.random.default_rng(0)
    arrays = {n: rng.uniform(*program.parameter_ranges[n], size=runs) for n in names}
    same = {n: np.full(runs, program.parameters[n]) for n in names}

    def fixed():
        escalation.run(loaded, runs=runs, horizon=horizon, seed=1)

    def varied():
        escalation.run(loaded, runs=runs, horizon=horizon, seed=1, params=arrays)

    def constant_arrays():
        escalation.run(loaded, runs=runs, horizon=horizon, seed=1, params=same)

    fixed()  # warm-up
    t_fixed = best_time(fixed, repeats)
    t_varied = best_time(varied, repeats)
    t_same = best_time(constant_arrays, repeats)
    weeks = horizon or program.horizon
    print(f"{loaded.id}: {runs:,} runs x {weeks} weeks, {len(names)} uncertainties")
    print(f"  fixed parameters:                 {t_fixed:.3f} s ({runs * weeks / t_fixed:,.0f} run-weeks/s)")
    print(f"  per-run arrays, defaults:         {t_same:.3f} s ({100 * (t_same / t_fixed - 1):+.1f}%)")
    print(f"  per-run arrays, uniform on ranges: {t_varied:.3f} s ({100 * (t_varied / t_fixed - 1):+.1f}%; "
          "the outcomes differ, so part of this is the model doing different things)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", default=None)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    for sid in args.scenario or ["proxy-deterrence", "iran-us-2020"]:
        per_run_cost(load_scenario(sid), args.runs, args.horizon, args.repeats)


if __name__ == "__main__":
    main()
