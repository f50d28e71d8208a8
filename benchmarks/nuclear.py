"""Benchmark: breakout_days for 10,000 runs' enrichment states in one vectorised call, and the
share of flagship simulation time spent in nuclear code.

Prints evaluations per second of :func:`redline.nuclear.breakout_days`, the scalar planner for
comparison, then profiles ``redline.escalation.run('iran-us-2020', runs=10000, seed=1)`` with
cProfile (after a small warm-up run, so imports are not counted) and reports the time spent in
``redline/nuclear/`` and ``redline/functions.py`` (the expression functions ``breakout_days``,
``swu_per_kg``, ``feed_per_kg`` that the flagship calls every week), including the numpy calls made
from there, against the whole run. The profiler slows Python-level code more than numpy, so the
shares are indicative; the unprofiled wall time of the same run is printed beside them.

Run: ``python benchmarks/nuclear.py``
"""
from __future__ import annotations

import cProfile
import pstats
import time

import numpy as np

from redline.nuclear import breakout_days, plan_breakout

RUNS = 10_000
ASSAYS = [0.0367, 0.045, 0.2, 0.6]          # stock columns a flagship state would carry
REPEATS = 200
HORIZON_WEEKS = 104
FLAGSHIP = "iran-us-2020"


def _is_nuclear(filename: str) -> bool:
    path = filename.replace("\\", "/")
    return "redline/nuclear/" in path or path.endswith("redline/functions.py")


def _time_entering(stats: pstats.Stats, inside) -> float:
    """Cumulative time of calls that enter code matched by ``inside`` from outside it, i.e. all the
    time spent in that code and in whatever it calls (numpy included), counted once."""
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, _tt, _ct, callers) in stats.stats.items():
        if not inside(filename):
            continue
        for (caller_file, _l, _n), (_ccc, _cnc, _ctt, caller_ct) in callers.items():
            if not inside(caller_file):
                total += caller_ct
    return total


def flagship_share(runs: int = RUNS, seed: int = 1) -> dict[str, float]:
    """Profile one flagship run and return seconds in nuclear code, seconds in the collective
    decisions (for scale), the profiled total and the unprofiled wall time."""
    from redline import escalation
    from redline.scenario import load_scenario

    loaded = load_scenario(FLAGSHIP)
    escalation.run(loaded, runs=200, seed=seed)  # warm-up: imports, caches
    started = time.perf_counter()
    escalation.run(loaded, runs=runs, seed=seed)
    wall = time.perf_counter() - started
    profile = cProfile.Profile()
    profile.enable()
    escalation.run(loaded, runs=runs, seed=seed)
    profile.disable()
    stats = pstats.Stats(profile)
    return {
        "nuclear_s": _time_entering(stats, _is_nuclear),
        "decisions_s": _time_entering(stats, lambda f: "redline/bargaining/" in f.replace("\\", "/")),
        "profiled_total_s": stats.total_tt,
        "wall_s": wall,
    }


def main() -> None:
    rng = np.random.default_rng(0)
    stocks = rng.uniform(0.0, 1000.0, size=(RUNS, len(ASSAYS))) * [1.0, 1.0, 0.2, 0.05]
    swu = rng.uniform(4_000.0, 30_000.0, size=RUNS)
    eff = rng.uniform(0.6, 1.0, size=RUNS)

    breakout_days(stocks, swu, assays=ASSAYS, efficiency=eff)  # warm-up
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        breakout_days(stocks, swu, assays=ASSAYS, efficiency=eff)
        times.append(time.perf_counter() - t)
    per_call = float(np.median(times))
    print(f"breakout_days: {RUNS:,} runs x {len(ASSAYS)} stock assays + natural feed")
    print(f"  median time per call: {per_call * 1e3:.2f} ms (best {min(times) * 1e3:.2f} ms)")
    print(f"  evaluations per second: {RUNS / per_call:,.0f}")
    print(f"  over a {HORIZON_WEEKS}-week horizon (one call per simulated week): "
          f"{per_call * HORIZON_WEEKS:.2f} s")

    t = time.perf_counter()
    n_scalar = 500
    for r in range(n_scalar):
        plan_breakout(dict(zip(ASSAYS, stocks[r])), float(swu[r]))
    scalar = (time.perf_counter() - t) / n_scalar
    print(f"  scalar planner for comparison: {scalar * 1e3:.3f} ms per run "
          f"({scalar * RUNS:.2f} s for {RUNS:,} runs; vectorised speed-up x{scalar * RUNS / per_call:,.0f})")

    share = flagship_share()
    total = share["profiled_total_s"]
    print(f"flagship {FLAGSHIP}: escalation.run(runs={RUNS:,}, seed=1), default strategies, 104 weeks")
    print(f"  wall time without profiler: {share['wall_s']:.2f} s")
    print(f"  under cProfile: {total:.2f} s in all; nuclear code (redline/nuclear + redline/functions.py, "
          f"with the numpy it calls) {share['nuclear_s']:.2f} s = {100 * share['nuclear_s'] / total:.1f}%")
    print(f"  for scale, the Iraqi bargaining game (redline/bargaining) {share['decisions_s']:.2f} s = "
          f"{100 * share['decisions_s'] / total:.1f}%")


if __name__ == "__main__":
    main()
