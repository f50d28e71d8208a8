"""How fast the example could run at all: ``proxy-deterrence`` hand-written as one compiled loop.

Usage: python benchmarks/compiled_floor.py [--runs 200000] [--mesa-runs 2000] [--repeats 3]

Issue [speed] asks for the example at 100x a lean Mesa 3 model. This script measures what that
asks of the machine: the Mesa baseline's semantics (``benchmarks/mesa_baseline.py``, itself a
mirror of the scenario without its host-parliament decision) written by hand for this one
scenario as a numba function, one run after another, every week's arithmetic in registers.
Nothing in it is general: no scenario file, no expressions, no bounds beyond the ones this
scenario needs, no records beyond four outcome flags. It is the floor a scenario compiler could
approach, not something redline could ship. It draws in two ways: numba's own generator
(numpy's legacy Mersenne Twister and Poisson sampler), and a SplitMix64 stream (Steele, Lea &
Flood 2014; the generator redline's streams hash with) with Poisson draws by inversion, the
faster.

It prints runs per second and nanoseconds per run-week for both loops, redline (the same
scenario through ``redline.escalation.run``) and Mesa, each the best of ``--repeats`` timings
taken in turn in this process, with each one's outcome probabilities: all must agree within
sampling error (the largest z score over the outcomes is printed against the fastest).

Needs the ``bench`` extra (mesa, numba).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mesa_baseline as mb  # noqa: E402
from experiments import _without_decisions, pooled_z  # noqa: E402

from redline.escalation import run as run_redline  # noqa: E402
from redline.results import outcome_summary  # noqa: E402

OUTCOMES = ("defender_leaves", "open_war", "retaliation", "punished")


# SplitMix64 (Steele, Lea & Flood 2014), the generator redline's streams hash with
_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@numba.njit
def _splitmix_uniform(state: np.ndarray) -> float:
    """The next SplitMix64 output of ``state`` (one uint64, moved on) as a double in [0, 1)."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * 2.0 ** -53


@numba.njit
def _splitmix_poisson(state: np.ndarray, rate: float) -> float:
    """A Poisson draw by inversion (sequential search, one uniform: the rates here are small)."""
    u = _splitmix_uniform(state)
    k, p = 0, math.exp(-rate)
    cumulative = p
    while u > cumulative and p > 0.0:
        k += 1
        p *= rate / k
        cumulative += p
    return float(k)


@numba.njit
def _numpy_uniform(state: np.ndarray) -> float:
    """numba's own generator (numpy's legacy Mersenne Twister)."""
    return np.random.random()


@numba.njit
def _numpy_poisson(state: np.ndarray, rate: float) -> float:
    return float(np.random.poisson(rate))


@numba.njit
def _simulate(uniform, poisson, seed: int, runs: int, loud: bool, horizon: int, attribution: float,
              sensitivity: float, credibility: float, inclination: float, warning_share: float) -> np.ndarray:
    """Outcome counts (defender_leaves, open_war, retaliation, punished) over ``runs`` runs, in
    the Mesa baseline's weekly order (see its ``ProxyDeterrence.step``), drawing with the
    compiled functions ``uniform`` and ``poisson``."""
    np.random.seed(seed)
    state = np.array([seed], dtype=np.uint64)
    hits = np.zeros(4, dtype=np.int64)
    pending_deaths = np.zeros(mb.MAX_DELAY)
    pending_attacks = np.zeros(mb.MAX_DELAY)
    attacks_window = np.zeros(4)
    attributed_window = np.zeros(8)
    for _ in range(runs):
        pending_deaths[:] = 0.0
        pending_attacks[:] = 0.0
        attacks_window[:] = 0.0
        attributed_window[:] = 0.0
        presence, support, tension, war = 1000.0, 0.5 + 0.1 * uniform(state), 10.0, False
        last_fired = -10
        reached = np.zeros(4, dtype=np.bool_)
        for w in range(1, horizon + 1):
            casualties, attributed_attacks = 0.0, 0.0
            attack = uniform(state) < 0.3
            draw_down = False
            if support < 0.5:
                utility = inclination * (0.5 - support) * 4
                draw_down = uniform(state) < 1.0 / (1.0 + math.exp(-mb.RATIONALITY * utility))
            tension_add = 0.0
            if attack and not loud:
                deaths = poisson(state, 0.3)
                casualties += deaths
                tension_add += 2.0
                if uniform(state) < attribution:
                    delay = min(int(poisson(state, 2.0)), mb.MAX_DELAY - 1)
                    if delay == 0:
                        attributed_attacks += 1.0
                    else:
                        pending_deaths[(w + delay) % mb.MAX_DELAY] += deaths
                        pending_attacks[(w + delay) % mb.MAX_DELAY] += 1.0
            elif attack:
                casualties += poisson(state, 1.0)
                tension_add += 15.0
                attributed_attacks += 1.0
            tension = min(100.0, tension + tension_add)
            if draw_down:
                presence = max(0.0, presence - 100.0)
            slot = w % mb.MAX_DELAY
            attributed_attacks += pending_attacks[slot]
            pending_deaths[slot] = 0.0
            pending_attacks[slot] = 0.0
            if war:
                casualties += poisson(state, 0.5)
                tension = min(100.0, tension + 8.0)
            attacks_window[w % 4] = 1.0 if attack else 0.0
            support = min(1.0, max(0.0, support - sensitivity * casualties))
            support = min(1.0, max(0.0, support + 0.02 * (0.55 - support) - 0.002 * attacks_window.sum()))
            tension *= 0.9
            attributed_window[w % 8] = attributed_attacks
            resting = w - last_fired <= 1
            if attributed_attacks > 0 and attributed_window.sum() >= 2 and not resting:
                last_fired = w
                if uniform(state) < credibility:
                    warning = uniform(state) < warning_share
                    tension = min(100.0, tension + (10.0 if warning else 30.0))
                    support = min(1.0, support + (0.01 if warning else 0.02))
                    reached[2] = True
                    reached[3] = reached[3] or not warning
            u = uniform(state)
            if war:
                war = not u < (0.25 if tension < 60 else 0.04)
            else:
                war = u < min(max((tension - 60) / 100, 0.0), 1.0)
            reached[1] = reached[1] or war
            if presence <= 0:
                reached[0] = True
                break
        for k in range(4):
            hits[k] += reached[k]
    return hits


GENERATORS = {"numpy": (_numpy_uniform, _numpy_poisson), "splitmix": (_splitmix_uniform, _splitmix_poisson)}


def compiled(runs: int, strategy: str, seed: int = 0, generator: str = "splitmix") -> dict[str, float]:
    """Outcome probabilities of the compiled loop at the scenario's defaults, drawing with
    ``generator``: numba's Mersenne Twister and Poisson sampler, or a SplitMix64 stream with
    Poisson draws by inversion (what redline's streams compute, and the faster of the two)."""
    p = mb.DEFAULTS
    hits = _simulate(*GENERATORS[generator], seed, runs, strategy == "loud", mb.HORIZON,
                     p["attribution_probability"], p["casualty_sensitivity"], p["defender_credibility"],
                     p["withdrawal_inclination"], mb.SHARES["warning_strike"])
    return {k: h / runs for k, h in zip(OUTCOMES, hits)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200_000, help="runs of the compiled loop and of redline")
    ap.add_argument("--mesa-runs", type=int, default=2_000, help="runs of the Mesa model")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    scenario, _ = _without_decisions()
    for generator in GENERATORS:
        compiled(100, "deniable", generator=generator)  # compile (numba) and warm up, outside the clock
    run_redline(scenario, runs=100, seed=0)
    for strategy in ("deniable", "loud"):
        contenders = [(f"compiled, {g}", args.runs, lambda n, g=g: compiled(n, strategy, seed=1, generator=g))
                      for g in GENERATORS]
        contenders += [("redline", args.runs, lambda n: run_redline(scenario, runs=n, seed=1,
                                                                     strategies={"challenger": strategy})),
                       ("mesa", args.mesa_runs, lambda n: mb.simulate(n, seed=1, strategy=strategy))]
        best = {name: math.inf for name, _, _ in contenders}
        probs = {}
        for _ in range(args.repeats):
            for name, runs, call in contenders:
                t = time.perf_counter()
                out = call(runs)
                best[name] = min(best[name], (time.perf_counter() - t) / runs)
                probs[name] = out if isinstance(out, dict) else \
                    {k: outcome_summary(out)[k]["probability"] for k in OUTCOMES}
        print(f"challenger={strategy} (best of {args.repeats}):")
        fastest = min(best, key=best.get)
        floor = best[fastest]
        for name, per_run in best.items():
            n = args.mesa_runs if name == "mesa" else args.runs
            z = "" if name == fastest else \
                f"  max |z| against it {_largest_z(probs[name], n, probs[fastest], args.runs):.2f}"
            print(f"  {name:18s} {1 / per_run:>12,.0f} runs/s  {per_run / mb.HORIZON * 1e9:8.1f} ns per run-week  "
                  f"{per_run / floor:6.1f}x the fastest{z}")
        print(f"  Mesa / fastest {best['mesa'] / floor:,.0f}x, Mesa / redline {best['mesa'] / best['redline']:,.0f}x: "
              f"100x Mesa is {best['mesa'] / 100 / floor:.1f}x the fastest compiled loop's time, "
              f"redline {best['redline'] / floor:.1f}x")


def _largest_z(p: dict[str, float], n: int, q: dict[str, float], m: int) -> float:
    """The largest |z| over the outcomes between two samples' probabilities (:func:`pooled_z`)."""
    return max(abs(pooled_z(p[k], n, q[k], m)) for k in OUTCOMES)


if __name__ == "__main__":
    main()
