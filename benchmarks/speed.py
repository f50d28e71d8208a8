"""Engine cost on the fixed flagship workload, as a multiple of a numpy unit (issue [speed]).

Usage: python benchmarks/speed.py [--runs 10000] [--horizon 104] [--repeats 3] [--profile]

The workload is the flagship as it stood before its rebuild, frozen in
``../shared/bench/iran-us-2020-v1.yaml`` (10,000 runs x 104 weeks, Iran on ``slow_drip``), the
same one the contract check ``13-speed`` times through the CLI. The unit is 50 uniform draws and
100 elementwise operations per run-week on arrays of 10,000 (the check's unit, measured here in
the same process, interleaved with the workload, because these machines are shared and noisy).

Prints the best time, run-weeks per second, the ratio to the unit (goal <= 4), and with
``--profile`` the top of a cProfile of one run (by own time) and the engine's time per phase of
the week. Asserts nothing. ``REDLINE_NATIVE=0`` times the numpy code alone (no compiled
kernels; the same numbers).
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import io
import os
import platform
import pstats
import time
from pathlib import Path

import numpy as np

from redline import escalation, native
from redline.escalation import engine
from redline.scenario import load_scenario

WORKLOAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "iran-us-2020-v1.yaml"
PHASES = ("apply_events", "choose", "apply_actions", "deliver_attributions", "run_processes", "run_decisions",
          "run_red_lines", "run_regimes", "record_outcomes", "check_finite")


def unit_seconds(n: int = 10_000) -> float:
    """Seconds per run-week of the numpy unit (best of 5 x 20 weeks)."""
    rng = np.random.default_rng(0)
    a, b, out = rng.random(n), rng.random(n), np.empty(n)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(20):
            for _ in range(50):
                rng.random(n, out=out)
            for _ in range(50):
                np.multiply(a, b, out=out)
                np.add(out, a, out=out)
        best = min(best, (time.perf_counter() - started) / 20)
    return best / n


def machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def phase_times(scenario, kwargs) -> dict[str, float]:
    """Seconds spent in each phase of the engine's week, for one run."""
    spent: collections.Counter = collections.Counter()
    saved = {name: getattr(engine._Block, name) for name in PHASES}

    def timed(name, fn):
        def wrapper(self, *args, **kw):
            started = time.perf_counter()
            try:
                return fn(self, *args, **kw)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    try:
        for name, fn in saved.items():
            setattr(engine._Block, name, timed(name, fn))
        escalation.run(scenario, **kwargs)
    finally:
        for name, fn in saved.items():
            setattr(engine._Block, name, fn)
    return dict(spent.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(WORKLOAD))
    parser.add_argument("--strategy", action="append", default=None, help="ACTOR=NAME (default iran=slow_drip)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--horizon", type=int, default=104)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also print a profile and the time per phase")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    strategies = dict(s.split("=", 1) for s in (args.strategy or ["iran=slow_drip"]))
    kwargs = dict(runs=args.runs, horizon=args.horizon, seed=1, strategies=strategies)
    print(f"machine: {machine()}")
    started = time.perf_counter()
    on = native.enabled()  # compiled once per process; escalation.run does it before its clock starts
    print(f"compiled kernels (redline.native): " + (f"on, built in {time.perf_counter() - started:.3f} s "
          "(llvmlite import and compilation, once per process)" if on else "off (numpy code only)"))
    escalation.run(scenario, **{**kwargs, "runs": 200})  # warm-up: imports, caches
    best, unit = float("inf"), float("inf")
    for _ in range(args.repeats):  # interleaved, so a burst of load hits both alike
        started = time.perf_counter()
        escalation.run(scenario, **kwargs)
        best = min(best, time.perf_counter() - started)
        unit = min(unit, unit_seconds())
    run_weeks = args.runs * args.horizon
    ratio = best / run_weeks / unit
    print(f"workload {Path(args.scenario).name}, {args.runs:,} runs x {args.horizon} weeks, {strategies}: "
          f"{best:.3f} s = {run_weeks / best / 1e6:.2f} M run-weeks/s")
    print(f"numpy unit: {unit * 1e9:.1f} ns per run-week; workload / unit = {ratio:.1f}x (goal <= 4)")
    if args.profile:
        print("\ntime per phase of the week (s):")
        for name, seconds in phase_times(scenario, kwargs).items():
            print(f"  {name:22s} {seconds:.3f}")
        profiler = cProfile.Profile()
        profiler.enable()
        escalation.run(scenario, **kwargs)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        print("\nprofile (own time):")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    main()
