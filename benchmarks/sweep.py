"""Sweep batching benchmark: one engine call per experiment (before) vs batched experiments (now).

Prints its figures in one process (no pass/fail asserts)::

    python benchmarks/sweep.py                 # flagship, lhs 6 points x 4 strategies, 300 runs
    python benchmarks/sweep.py --quick         # same at a 104-week horizon
    python benchmarks/sweep.py --samples 12 --runs 1000

"Before" is the same sweep with ``batch_runs=1``: every experiment alone in its own engine call,
seeded by its own spawned seed — exactly how sweeps ran before batching (same numbers). "Now" is
the default (``BATCH_RUNS`` runs per engine call). Both run serially in this process, after a
warm-up, on the same design; the script prints wall and CPU seconds, the ratio, and how far the
two sweeps' outcome probabilities are apart (they use different random numbers, so they agree
only within sampling error: the mean over experiments of the difference, and its z score).
"""
from __future__ import annotations

import argparse
import math
import time


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="iran-us-2020")
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--horizon", type=int, default=None, help="weeks (default: the scenario's)")
    ap.add_argument("--quick", action="store_true", help="104-week horizon")
    a = ap.parse_args()

    import numpy as np

    from redline.experiments import perform_experiments
    from redline.experiments.batches import BATCH_RUNS, plan_batches
    from redline.experiments.design import make_design
    from redline.scenario import load_scenario

    loaded = load_scenario(a.scenario)
    horizon = 104 if a.quick and a.horizon is None else a.horizon
    kw = dict(runs=a.runs, seed=5, horizon=horizon)
    perform_experiments(loaded, "lhs", 2, runs=20, seed=99, horizon=horizon)  # warm-up: imports, caches
    design = make_design(loaded, "lhs", a.samples, seed=5)
    n = design.n_experiments
    batches = plan_batches(design, a.runs)
    print(f"== {loaded.id}: lhs {a.samples} points x {len(design.strategy_combinations)} strategy combinations = "
          f"{n} experiments x {a.runs} runs, {horizon or loaded.program.horizon} weeks ==")
    before, w1, c1 = timed(lambda: perform_experiments(loaded, design, batch_runs=1, **kw))
    print(f"before (one engine call per experiment, {n} calls): {w1:7.1f} s wall, {c1:7.1f} s CPU, "
          f"{n / w1:.2f} exp/s")
    now, w2, c2 = timed(lambda: perform_experiments(loaded, design, **kw))
    print(f"now    (batches of <= {BATCH_RUNS:,} runs, {len(batches)} calls):  {w2:7.1f} s wall, {c2:7.1f} s CPU, "
          f"{n / w2:.2f} exp/s")
    print(f"speed-up: {w1 / w2:.2f}x wall, {c1 / c2:.2f}x CPU")
    p1, p2 = before["probability"].values, now["probability"].values
    for k, outcome in enumerate(before["outcome"].values.tolist()):
        x, y = p1[:, k], p2[:, k]
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():  # e.g. an outcome dated past the horizon: no probability in either sweep
            print(f"    {outcome:<28} no probability (not checked within the horizon)")
            continue
        diff = y[ok] - x[ok]
        # binomial variance of each experiment's probability, both sweeps
        var = ((x[ok] * (1 - x[ok]) + y[ok] * (1 - y[ok])) / a.runs).sum() / ok.sum() ** 2
        z = diff.mean() / math.sqrt(var) if var > 0 else 0.0
        print(f"    {outcome:<28} mean P before {x[ok].mean():.4f}  now {y[ok].mean():.4f}  "
              f"diff {diff.mean():+.4f}  z = {z:+.2f}")


if __name__ == "__main__":
    main()
