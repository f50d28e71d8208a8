"""Engine speed: run-weeks per second, vectorised vs reference, and how cost grows with runs.

Usage: python benchmarks/engine.py [--scenario proxy-deterrence] [--strategy challenger=deniable]

Prints numbers; asserts nothing. Ratios are measured in the same process, one after the other,
because these machines are noisy. Each timing is the best of a few repeats.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

from redline import escalation
from redline.scenario import load_scenario, scenario_from_dict


def best_time(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="proxy-deterrence")
    parser.add_argument("--strategy", action="append", default=None, help="ACTOR=NAME")
    parser.add_argument("--horizon", type=int, default=104)
    parser.add_argument("--reference-runs", type=int, default=1000)
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    strategies = dict(s.split("=", 1) for s in (args.strategy or []))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; strategies {strategies or 'default'}")
    measure(loaded, strategies, args.horizon, args.reference_runs)
    if loaded.spec.decisions:
        # Collective decisions call a bargaining model every few weeks; show the engine without them too.
        doc = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        targets = {d["target"] for d in doc["decisions"].values()}
        doc["decisions"] = {}
        doc["outcomes"] = {k: v for k, v in doc["outcomes"].items() if not any(t in str(v["condition"]) for t in targets)}
        print(f"\nwithout its collective decision(s) {', '.join(loaded.spec.decisions)}:")
        measure(scenario_from_dict(doc), strategies, args.horizon, args.reference_runs)


def measure(loaded, strategies: dict, horizon: int, n_ref: int) -> None:
    def vec(runs):
        return lambda: escalation.run(loaded, runs=runs, horizon=horizon, rng=1, strategies=strategies)

    vec(100)()  # warm-up: imports, caches
    t100 = best_time(vec(100), 5)
    t1k = best_time(vec(1_000), 5)
    t10k = best_time(vec(10_000), 3)
    t100k = best_time(vec(100_000), 1)
    t_ref = best_time(lambda: escalation.run(loaded, runs=n_ref, horizon=horizon, rng=1, strategies=strategies,
                                             engine="reference"), 1)
    ref_per_run = t_ref / n_ref
    print(f"vectorised, 10,000 runs x {horizon} weeks: {t10k:.3f} s = {10_000 * horizon / t10k:,.0f} run-weeks/s")
    print(f"vectorised, 100,000 runs x {horizon} weeks: {t100k:.3f} s = {100_000 * horizon / t100k:,.0f} run-weeks/s")
    print(f"reference, {n_ref:,} runs x {horizon} weeks: {t_ref:.3f} s = {n_ref * horizon / t_ref:,.0f} run-weeks/s")
    print(f"speed-up of vectorised over reference on 10,000 runs: {ref_per_run * 10_000 / t10k:.0f}x "
          f"(target >= 50x; reference time per run x 10,000)")
    print(f"scaling: 100 runs {t100:.3f} s, 1,000 runs {t1k:.3f} s, 10,000 runs {t10k:.3f} s; "
          f"10,000/100 time ratio {t10k / t100:.1f}x for 100x the runs (target well under 100x)")


if __name__ == "__main__":
    main()
