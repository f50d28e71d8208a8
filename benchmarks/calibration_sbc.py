"""Simulation-based calibration of `redline calibrate` (Talts, Betancourt, Simpson, Vehtari & Gelman
2018, arXiv:1804.06788): are the posteriors it returns calibrated?

Usage: python benchmarks/calibration_sbc.py [--replications 100] [--particles 400] [--figure FILE]

Each replication draws a "true" parameter vector from the prior, simulates one record from the
scenario with it (the count of events after 30 weeks of a weekly Bernoulli process whose rate is
uncertain, plus a parameter that affects nothing), calibrates on that record with its own seed and
ranks the true value among L = 99 draws from the posterior. If the posteriors are right, each rank
is uniform on 0..99 whatever the truth was. Prints the rank histogram (10 bins), a chi-square test
of uniformity per parameter and the time per calibration; with --figure, draws the histograms.
Asserts nothing.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import chi2

from redline import escalation
from redline.calibrate import calibrate
from redline.scenario import scenario_from_dict

WEEKS = 30
SCENARIO = {
    "meta": {"id": "sbc-coin", "title": "SBC: one uncertain weekly event rate", "as_of": "2020-01-06",
             "step": "week", "horizon": WEEKS},
    "actors": {"nature": {"name": "Nature", "kind": "other", "assumption": "by construction",
                          "policy": {"kind": "scripted", "probabilities": {"event": "event_rate"}}}},
    "state": {"events": {"type": "counter", "initial": 0, "assumption": "by construction"}},
    "actions": {"event": {"actor": "nature", "effects": [{"var": "events", "add": 1}], "assumption": "by construction"}},
    "uncertainties": {
        "event_rate": {"default": 0.5, "low": 0.05, "high": 0.95, "assumption": "uniform prior"},
        "idle_knob": {"default": 0.5, "low": 0.0, "high": 1.0, "assumption": "affects nothing"},
    },
}
RECORD = """\
origin: 2020-08-03
observations:
  - id: events_by_week_{weeks}
    date: 2020-07-30
    statistic: events
    value: {value}
    assumption: drawn from the scenario with the replication's true parameters
"""
L = 99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--particles", type=int, default=400)
    parser.add_argument("--figure", type=Path, default=None)
    args = parser.parse_args()
    loaded = scenario_from_dict(SCENARIO)
    names = list(SCENARIO["uncertainties"])
    ranks = {n: [] for n in names}
    rng = np.random.default_rng(20180406)
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.replications):
            truth = {n: rng.uniform(u["low"], u["high"]) for n, u in SCENARIO["uncertainties"].items()}
            one = escalation.run(loaded, runs=1, seed=10_000 + r, params=truth)
            k = int(one["final_state"].sel(variable="events").values[0])
            rec = Path(tmp) / f"record_{r}.yaml"
            rec.write_text(RECORD.format(weeks=WEEKS, value=k))
            started = time.perf_counter()
            result = calibrate(loaded, rec, particles=args.particles, seed=r)
            seconds.append(time.perf_counter() - started)
            draws = rng.choice(result.weights.size, size=L, p=result.weights)
            for j, n in enumerate(result.names):
                ranks[n].append(int(np.sum(result.theta[draws, j] < truth[n])))
    bins = 10
    print(f"{args.replications} replications, {args.particles} particles each, {np.mean(seconds):.1f} s per "
          f"calibration (median {np.median(seconds):.1f} s)")
    figures = {}
    for n in names:
        counts = np.bincount(np.array(ranks[n]) * bins // (L + 1), minlength=bins)
        expected = args.replications / bins
        stat = float(np.sum(np.square(counts - expected) / expected))
        p = float(chi2.sf(stat, bins - 1))
        figures[n] = counts
        print(f"{n}: rank histogram {counts.tolist()} (expected {expected:.0f} per bin); chi-square {stat:.2f} on "
              f"{bins - 1} df, p = {p:.3f}")
    if args.figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), sharey=True)
        for ax, n in zip(axes, names):
            ax.bar(np.arange(bins) * (L + 1) / bins, figures[n], width=(L + 1) / bins, align="edge", color="#4c72b0",
                   edgecolor="white")
            mean = args.replications / bins
            band = 1.96 * np.sqrt(mean * (1 - 1 / bins))
            ax.axhspan(mean - band, mean + band, color="0.85", zorder=0)
            ax.axhline(mean, color="0.4", lw=1)
            ax.set_title(n)
            ax.set_xlabel(f"rank of the true value among {L} posterior draws")
        axes[0].set_ylabel("replications")
        fig.suptitle(f"Simulation-based calibration, {args.replications} replications (grey: 95% band if uniform)")
        fig.tight_layout()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.figure, dpi=110)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
