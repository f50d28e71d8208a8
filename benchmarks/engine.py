"""Engine speed: run-weeks per second, vectorised vs reference, and how cost grows with runs.

Usage: python benchmarks/engine.py [--scenario proxy-deterrence] [--strategy challenger=deniable]
       python benchmarks/engine.py --anticipation-only --scenario iran-us-2020

Also prints the cost of anticipation (logit choosers seeing the red lines their options trip):
the scenario with its quantal-response strategies, with anticipation on and off.

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
    parser.add_argument("--anticipation-only", action="store_true", help="Only measure the cost of anticipation.")
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    strategies = dict(s.split("=", 1) for s in (args.strategy or []))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; strategies {strategies or 'default'}")
    anticipation_cost(loaded, strategies, args.horizon)
    if args.anticipation_only:
        return
    measure(loaded, strategies, args.horizon, args.reference_runs)
    if loaded.spec.decisions:
        # Collective decisions call a bargaining model every few weeks; show the engine without them too.
        doc = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        targets = {d["target"] for d in doc["decisions"].values()}
        doc["decisions"] = {}
        doc["outcomes"] = {k: v for k, v in doc["outcomes"].items() if not any(t in str(v["condition"]) for t in targets)}
        print(f"\nwithout its collective decision(s) {', '.join(loaded.spec.decisions)}:")
        measure(scenario_from_dict(doc), strategies, args.horizon, args.reference_runs)


def anticipation_cost(loaded, strategies: dict, horizon: int, runs: int = 10_000) -> None:
    """Time with anticipation on and off, for the scenario with every actor that has a
    quantal-response (logit) strategy playing it. Runs that an absorbing outcome ends early cost
    nothing afterwards, and anticipation changes how many end early, so the cost per simulated
    run-week is printed too (the fair comparison of the engine's work)."""
    program = loaded.program
    chosen = dict(strategies)
    for actor, options in program.strategies.items():
        if actor not in chosen and program.policies[actor].kind != "logit":
            logit = [name for name, policy in options.items() if policy.kind == "logit"]
            if logit:
                chosen[actor] = logit[0]
    if not any((program.strategies[a][n] if a in chosen else program.policies[a]).kind == "logit"
               for a, n in {**{a: None for a in program.policies}, **chosen}.items()):
        print("anticipation: no quantal-response actor in this scenario; nothing to measure")
        return
    doc = loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    policies = [a["policy"] for a in doc["actors"].values() if a.get("policy")]
    policies += [s["policy"] for s in doc["strategies"].values()]
    for policy in policies:
        if policy["kind"] == "logit":
            policy["anticipate"] = False
    blind = scenario_from_dict(doc)
    timed = {}
    for label, scenario in (("with anticipation", loaded), ("without anticipation", blind)):
        escalation.run(scenario, runs=200, horizon=horizon, seed=1, strategies=chosen)  # warm-up
        best, weeks = float("inf"), 0
        for _ in range(3):
            started = time.perf_counter()
            ds = escalation.run(scenario, runs=runs, horizon=horizon, seed=1, strategies=chosen)
            best = min(best, time.perf_counter() - started)
            stopped = ds["stopped_week"].values
            weeks = int(sum(horizon if w != w else w for w in stopped))
        timed[label] = (best, weeks)
        print(f"{label}, {runs:,} runs x {horizon} weeks (strategies {chosen}): {best:.3f} s; "
              f"{weeks:,} run-weeks simulated (absorbing outcomes end runs early), "
              f"{best / weeks * 1e6:.2f} µs per run-week")
    (on, w_on), (off, w_off) = timed["with anticipation"], timed["without anticipation"]
    print(f"anticipation costs {100 * (on / off - 1):+.0f}% wall time, "
          f"{100 * ((on / w_on) / (off / w_off) - 1):+.0f}% per simulated run-week (target <= +30%)")


def measure(loaded, strategies: dict, horizon: int, n_ref: int) -> None:
    def vec(runs):
        return lambda: escalation.run(loaded, runs=runs, horizon=horizon, seed=1, strategies=strategies)

    vec(100)()  # warm-up: imports, caches
    t100 = best_time(vec(100), 5)
    t1k = best_time(vec(1_000), 5)
    t10k = best_time(vec(10_000), 3)
    t100k = best_time(vec(100_000), 1)
    t_ref = best_time(lambda: escalation.run(loaded, runs=n_ref, horizon=horizon, seed=1, strategies=strategies,
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
