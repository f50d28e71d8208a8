"""Experiments benchmarks: redline vs Mesa, Dask 2 workers vs 1, memory of large runs.

Prints every figure in one run (no pass/fail asserts)::

    python benchmarks/experiments.py            # all three
    python benchmarks/experiments.py --quick    # smaller sizes, for a smoke run

1. **redline vs Mesa 3**: ``proxy-deterrence`` at its defaults, the challenger on each strategy,
   run by the vectorised engine and by the hand-written Mesa model in ``mesa_baseline.py``, in
   the same process, best of three alternating timings each; runs per second, the ratio, and a
   two-proportion z test per outcome (the comparison only means something if both models give
   the same probabilities).
2. **Dask scaling**: the same flagship (``iran-us-2020``) LHS sweep on a ``LocalCluster`` with 1 and
   with 2 worker processes (cluster started beforehand and reached through ``--address``, as on a
   real cluster); speed-up, and scheduler overhead per experiment measured on near-empty
   experiments (1 run, 1 week) against the serial executor.
3. **Memory**: peak RSS of a fresh process running ``escalation.run`` in summary mode for 100,000
   runs × 104 weeks, and how it grows with runs and weeks.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _without_decisions():
    """proxy-deterrence minus its collective decision (host parliament), which Mesa does not mirror."""
    import yaml

    from redline.scenario import bundled_scenarios
    from redline.scenario.load import scenario_from_dict

    data = yaml.safe_load(bundled_scenarios()["proxy-deterrence"].read_text())
    decisions = data.pop("decisions", {}) or {}
    for d in decisions.values():
        data["state"].pop(d["target"], None)
        for oid in [o for o, spec in data["outcomes"].items() if d["target"] in spec["condition"]]:
            data["outcomes"].pop(oid)
    return scenario_from_dict(data, name="proxy-deterrence (no decisions)"), sorted(decisions)


def pooled_z(p: float, n: int, q: float, m: int) -> float:
    """The z score of the difference between two sample proportions ``p`` (of ``n`` runs) and
    ``q`` (of ``m``), with the pooled standard error (a floor keeps it defined at 0 and 1)."""
    pooled = (p * n + q * m) / (n + m)
    return (p - q) / math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / m))


def mesa_vs_redline(mesa_runs: int, redline_runs: int, repeats: int = 3) -> None:
    import mesa_baseline

    from redline.results import outcome_summary
    from redline.escalation import run
    from redline.scenario import load_scenario

    full = load_scenario("proxy-deterrence")
    scenario, dropped = _without_decisions()
    run(scenario, runs=100, seed=0)  # warm-up (compilation, imports)
    print("== redline vs Mesa 3 (proxy-deterrence, defaults) ==")
    if dropped:
        t = time.perf_counter()
        run(full, runs=redline_runs, seed=1)
        print(f"(the bundled file also has collective decision(s) {', '.join(dropped)}, not mirrored in Mesa: "
              f"compared without them; redline with them: {redline_runs / (time.perf_counter() - t):,.0f} runs/s)")
    for strategy in ("deniable", "loud"):
        # Each side is timed `repeats` times, alternating, and its best time kept (as timeit does):
        # the machine's speed drifts, and the best of alternating runs sees both at their best.
        t_red, t_mesa = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            ds = run(scenario, runs=redline_runs, seed=1, strategies={"challenger": strategy})
            t_red.append(time.perf_counter() - t)
            t = time.perf_counter()
            mes = mesa_baseline.simulate(mesa_runs, seed=2, strategy=strategy)
            t_mesa.append(time.perf_counter() - t)
        red = outcome_summary(ds)  # the same numbers every repeat (same seeds)
        rate_red, rate_mesa = redline_runs / min(t_red), mesa_runs / min(t_mesa)
        ratios = sorted(redline_runs / a / (mesa_runs / b) for a, b in zip(t_red, t_mesa))
        print(f"challenger={strategy}: redline {rate_red:,.0f} runs/s ({redline_runs:,} runs), "
              f"Mesa {rate_mesa:,.0f} runs/s ({mesa_runs:,} runs), best of {repeats} each -> ratio "
              f"{rate_red / rate_mesa:,.0f}x (repeat by repeat {ratios[0]:,.0f}x to {ratios[-1]:,.0f}x)")
        for name, p_mesa in mes.items():
            p_red = red[name]["probability"]
            z = pooled_z(p_red, redline_runs, p_mesa, mesa_runs)
            verdict = "agree" if abs(z) < 3 else "DIFFER"
            print(f"    P({name}): redline {p_red:.4f}  Mesa {p_mesa:.4f}  z = {z:+.2f}  {verdict}")
        not_mirrored = sorted(set(red) - set(mes))
        if not_mirrored:
            print(f"    not mirrored in Mesa: {', '.join(not_mirrored)}")


def dask_scaling(samples: int, runs: int, overhead_n: int) -> None:
    import logging

    from dask.distributed import LocalCluster

    from redline.experiments import perform_experiments
    from redline.scenario import load_scenario

    scenario = load_scenario("iran-us-2020")
    print(f"== Dask LocalCluster (iran-us-2020, lhs {samples} samples × strategies, {runs} runs each) ==")
    times = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster:
            addr = cluster.scheduler_address
            # warm the workers (imports, scenario compilation) so both timings measure the sweep
            perform_experiments(scenario, "lhs", 2, runs=10, seed=99, executor="dask", address=addr,
                                strategies={"iran": ["slow_drip"]})
            t = time.perf_counter()
            ds = perform_experiments(scenario, "lhs", samples, runs=runs, seed=5, executor="dask", address=addr)
            times[workers] = time.perf_counter() - t
        n = ds.sizes["experiment"]
        print(f"{workers} worker(s): {n} experiments in {times[workers]:.1f} s ({n / times[workers]:.2f} exp/s)")
    print(f"speed-up 2 vs 1 workers: {times[1] / times[2]:.2f}x")
    # scheduler overhead: near-empty experiments, dask (1 worker) minus serial, per experiment
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        addr = cluster.scheduler_address
        perform_experiments(scenario, "lhs", 2, runs=1, horizon=1, seed=98, executor="dask", address=addr,
                            strategies={"iran": ["slow_drip"]})
        kw = dict(runs=1, horizon=1, seed=7, strategies={"iran": ["slow_drip"]})
        t = time.perf_counter()
        perform_experiments(scenario, "lhs", overhead_n, executor="dask", address=addr, **kw)
        t_dask = time.perf_counter() - t
    t = time.perf_counter()
    perform_experiments(scenario, "lhs", overhead_n, executor="serial", **kw)
    t_serial = time.perf_counter() - t
    print(f"scheduler overhead: {(t_dask - t_serial) / overhead_n * 1e3:.2f} ms per experiment "
          f"({overhead_n} one-run experiments: dask {t_dask:.2f} s, serial {t_serial:.2f} s; work is sent in chunks)")


# Peak RSS of the child's own address space: VmHWM (Linux). Not ru_maxrss, which Linux carries
# over exec from the forked copy of this (large, after the Mesa and Dask runs) parent.
_RSS = """
import resource, sys, time
from redline.escalation import run
runs, weeks = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
ds = run("proxy-deterrence", runs=runs, horizon=weeks, seed=3)
elapsed = time.perf_counter() - t
try:
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(peak, elapsed)
"""


def memory(sizes: list[tuple[int, int]]) -> None:
    print("== peak RSS, summary mode (proxy-deterrence; fresh process each) ==")
    for runs, weeks in sizes:
        out = subprocess.run([sys.executable, "-c", _RSS, str(runs), str(weeks)], capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"{runs:>9,} runs × {weeks:>3} weeks: peak RSS {float(out[0]):7.0f} MB  ({float(out[1]):.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--only", choices=["mesa", "dask", "memory"], help="run one benchmark")
    a = ap.parse_args()
    if a.only in (None, "mesa"):
        mesa_vs_redline(500 if a.quick else 3000, 20_000 if a.quick else 100_000, 1 if a.quick else 3)
    if a.only in (None, "dask"):
        dask_scaling(4 if a.quick else 12, 100 if a.quick else 300, 50 if a.quick else 200)
    if a.only in (None, "memory"):
        sizes = [(10_000, 104), (50_000, 104), (100_000, 104), (100_000, 52), (100_000, 208)]
        memory([(10_000, 104), (100_000, 104)] if a.quick else sizes)


if __name__ == "__main__":
    main()
