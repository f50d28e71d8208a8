"""Benchmark: breakout_days for 10,000 runs' enrichment states in one vectorised call.

Prints evaluations per second. The share of flagship simulation time spent in nuclear code can
only be measured once the flagship scenario runs end to end; until then this prints the cost per
simulated week and what it would be over a horizon.

Run: ``python benchmarks/nuclear.py``
"""
from __future__ import annotations

import time

import numpy as np

from redline.nuclear import breakout_days, plan_breakout

RUNS = 10_000
ASSAYS = [0.0367, 0.045, 0.2, 0.6]          # stock columns a flagship state would carry
REPEATS = 200
HORIZON_WEEKS = 104


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
    print("  share of flagship simulation time: not measured yet (the flagship does not run end to "
          "end in this tree); compare the per-week figure above with the flagship's week time.")


if __name__ == "__main__":
    main()
