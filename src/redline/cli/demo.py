"""``redline demo``: the flagship analysis end to end, written to a directory as a Markdown report
and a self-contained HTML report (``report.html``).

Runs the bundled ``iran-us-2020`` scenario, compares Iran's strategies with common random numbers
(:func:`redline.experiments.compare.compare`), and writes

* ``report.md`` — outcome probabilities with 95% intervals per strategy, paired differences,
  figures, and a plain-language account of the mechanisms behind the differences, computed from
  the runs (action counts, true vs attributed casualties, red-line triggers, final state);
* ``cumulative_<strategy>.png`` — P(outcome by week w) per strategy, and
  ``cumulative_<outcome>.png`` for the thesis outcomes across strategies;
* ``results.json`` — everything in the report as numbers.

Files are written atomically (:mod:`redline.results`).
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from redline.experiments.compare import compare
from redline.report import from_datasets, write_report
from redline.results import atomic_write_bytes, atomic_write_text, cumulative_incidence
from redline.scenario import load_scenario

__all__ = ["run_demo", "mechanism_summary", "SCENARIO", "STRATEGIES", "THESIS_COMPONENTS"]

SCENARIO = "iran-us-2020"
ACTOR = "iran"
STRATEGIES = ["slow_drip", "rapid_overt", "restraint", "logit"]
THESIS_OUTCOMES = ["us_exits_iraq", "us_exits_syria", "us_iran_war", "strike_on_nuclear_sites"]

THESIS_COMPONENTS: dict[str, tuple[dict[str, Any], ...]] = {
    # Scenario id -> the thesis components `compare --robustness` checks (see
    # redline.experiments.robustness).
    # The CNN analysis's thesis (claims.yaml `slow_more_concerning`, `iraq_exit_big_win`,
    # `syria_resupply`, `broadcast_invites_strikes`): the slow, deniable response is more likely
    # to end the US presence and less likely to bring war or strikes on nuclear sites.
    "iran-us-2020": (
        {"id": "exit_iraq", "a": "slow_drip", "b": "rapid_overt", "outcome": "us_exits_iraq", "sign": 1,
         "claim": "slow_drip makes a US exit from Iraq more likely than rapid_overt"},
        {"id": "exit_syria", "a": "slow_drip", "b": "rapid_overt", "outcome": "us_exits_syria", "sign": 1,
         "claim": "slow_drip makes a US exit from Syria more likely than rapid_overt"},
        {"id": "less_war", "a": "slow_drip", "b": "rapid_overt", "outcome": "us_iran_war", "sign": -1,
         "claim": "slow_drip makes a US-Iran war less likely than rapid_overt"},
        {"id": "fewer_nuclear_strikes", "a": "slow_drip", "b": "rapid_overt", "outcome": "strike_on_nuclear_sites",
         "sign": -1, "claim": "slow_drip makes strikes on nuclear sites less likely than rapid_overt"},
    ),
}


def _mean_final(ds, name: str) -> float:
    ok = ~ds["failed"].values
    return float(ds["final_state"].sel(variable=name).values[ok].mean())


def _share(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else 0.0


def mechanism_summary(datasets: dict) -> dict[str, dict[str, Any]]:
    """Per strategy: the numbers behind each mechanism, computed from the result Datasets."""
    out: dict[str, dict[str, Any]] = {}
    for name, ds in datasets.items():
        ok = ~ds["failed"].values
        acts = ds["action_count"]
        rl_week = ds["red_line_week"]

        def count(action: str) -> float:
            return float(acts.sel(action=action).values[ok].mean())

        def fired(red_line: str) -> float:
            return _share(~np.isnan(rl_week.sel(red_line=red_line).values[ok]))

        def enforced(red_line: str) -> float:
            return _share(ds["red_line_enforced"].sel(red_line=red_line).values[ok])

        stopped = ds["stopped_week"].values[ok]
        out[name] = {
            "deniable_attacks": count("proxy_rocket_attack") + count("militia_attack"),
            "overt_attacks": count("overt_missile_strike") + count("iran_missile_retaliation"),
            "us_killed": _mean_final(ds, "us_killed"),
            "us_killed_attributed": _mean_final(ds, "us_killed_attributed"),
            "attacks_true": _mean_final(ds, "proxy_attacks") + _mean_final(ds, "overt_attacks"),
            "attacks_attributed": _mean_final(ds, "attacks_attributed"),
            "us_public_support_end": _mean_final(ds, "us_public_support"),
            "president_approval_end": _mean_final(ds, "president_approval"),
            "iraq_expulsion_pressure_end": _mean_final(ds, "iraq_expulsion_pressure"),
            "iraq_ordered_us_out": _mean_final(ds, "iraq_expulsion_ordered"),
            "us_ordered_iraq_withdrawal": _mean_final(ds, "iraq_withdrawal_ordered"),
            "us_strikes_on_militias": count("strike_militias_iraq"),
            "red_line_americans_killed_fired": fired("americans_killed"),
            "red_line_americans_killed_enforced": enforced("americans_killed"),
            "red_line_attack_pattern_fired": fired("attack_pattern"),
            "red_line_exposed_covert_work_fired": fired("exposed_covert_work"),
            "red_line_visible_breakout_fired": fired("visible_breakout"),
            "covert_swu_per_year_end": _mean_final(ds, "covert_swu_per_year"),
            "breakout_days_end": _mean_final(ds, "breakout_days"),
            "breakout_days_visible_end": _mean_final(ds, "breakout_days_visible"),
            "runs_stopped_early": _share(~np.isnan(stopped)),
            "median_stop_week": float(np.nanmedian(stopped)) if np.any(~np.isnan(stopped)) else None,
        }
    return out


def _plain_language(mech: dict, probs: dict, diffs: list[dict], a: str, b: str) -> list[str]:
    """Sentences that explain the a − b differences from the mechanism numbers (no fixed verdict)."""
    ma, mb = mech[a], mech[b]
    d = {x["outcome"]: x for x in diffs if x["a"] == a and x["b"] == b}
    lines = []

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    def sig(outcome: str) -> str:
        lo, hi = d[outcome]["ci95"]
        if lo > 0:
            return "higher"
        if hi < 0:
            return "lower"
        return "not distinguishable"

    lines.append(
        f"**Attribution.** Under `{a}` Iran and its allies make {ma['attacks_true']:.1f} attacks on US forces per run "
        f"on average, of which {ma['attacks_attributed']:.1f} are publicly pinned on Iran "
        f"({ma['us_killed']:.2f} US military deaths, {ma['us_killed_attributed']:.2f} attributed). Under `{b}` the "
        f"figures are {mb['attacks_true']:.1f} attacks, {mb['attacks_attributed']:.1f} attributed, "
        f"{mb['us_killed']:.2f} deaths, {mb['us_killed_attributed']:.2f} attributed.")
    lines.append(
        f"**Red lines see only attributed acts.** The US 'Americans killed' red line fires in "
        f"{pct(ma['red_line_americans_killed_fired'])} of `{a}` runs against {pct(mb['red_line_americans_killed_fired'])} "
        f"of `{b}` runs; US strikes on Iraqi militias average {ma['us_strikes_on_militias']:.2f} vs "
        f"{mb['us_strikes_on_militias']:.2f} per run. War (a second round of US strikes on Iran) is "
        f"{sig('us_iran_war')} under `{a}` ({d['us_iran_war']['difference']:+.3f}); "
        f"{pct(ma['runs_stopped_early'])} of `{a}` runs and {pct(mb['runs_stopped_early'])} of `{b}` runs end early "
        f"in an absorbing outcome (median week {ma['median_stop_week'] or '-'} vs {mb['median_stop_week'] or '-'}).")
    lines.append(
        f"**Iraqi pressure and the open door.** Iraq formally orders the US out in {pct(ma['iraq_ordered_us_out'])} of "
        f"`{a}` runs vs {pct(mb['iraq_ordered_us_out'])} under `{b}`; the president orders the withdrawal in "
        f"{pct(ma['us_ordered_iraq_withdrawal'])} vs {pct(mb['us_ordered_iraq_withdrawal'])}. The US exit from Iraq is "
        f"{sig('us_exits_iraq')} under `{a}` ({d['us_exits_iraq']['difference']:+.3f}), and Syria follows "
        f"({d['us_exits_syria']['difference']:+.3f}).")
    lines.append(
        f"**Casualty drip and the electorate.** Support for the deployment ends at {pct(ma['us_public_support_end'])} "
        f"under `{a}` and {pct(mb['us_public_support_end'])} under `{b}`; approval at "
        f"{pct(ma['president_approval_end'])} vs {pct(mb['president_approval_end'])}. Re-election is "
        f"{sig('president_reelected')} under `{a}` ({d['president_reelected']['difference']:+.3f}); runs that end in "
        "war before November 2020 never reach the election and count as 'not re-elected'.")
    lines.append(
        f"**Nuclear.** True breakout time ends at {ma['breakout_days_end']:.0f} days under `{a}` "
        f"({ma['breakout_days_visible_end']:.0f} as seen from outside) and {mb['breakout_days_end']:.0f} under `{b}` "
        f"({mb['breakout_days_visible_end']:.0f} visible); covert capacity averages {ma['covert_swu_per_year_end']:.0f} "
        f"vs {mb['covert_swu_per_year_end']:.0f} SWU/yr. The exposed-covert-work red line fires in "
        f"{pct(ma['red_line_exposed_covert_work_fired'])} vs {pct(mb['red_line_exposed_covert_work_fired'])} of runs, "
        f"Israel's visible-breakout red line in {pct(ma['red_line_visible_breakout_fired'])} vs "
        f"{pct(mb['red_line_visible_breakout_fired'])}. Strikes on nuclear sites are {sig('strike_on_nuclear_sites')} "
        f"under `{a}` ({d['strike_on_nuclear_sites']['difference']:+.3f}).")
    return lines


def _figure_png(curves: dict[str, np.ndarray], weeks: np.ndarray, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for label, y in curves.items():
        ax.plot(weeks, y, label=label)
    ax.set_xlabel("week after 6 Jan 2020")
    ax.set_ylabel("P(happened by week)")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def run_demo(*, out: Path, runs: int = 20_000, seed: int = 11, progress: bool = False,
             strategies: list[str] | None = None, horizon: int | None = None) -> dict:
    """Run the flagship comparison and write the report; returns ``report``, ``files``, ``elapsed_s``."""
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    strategies = list(strategies or STRATEGIES)
    loaded = load_scenario(SCENARIO)
    status = None
    if progress:
        status = Console(stderr=True).status(f"running {SCENARIO}: {', '.join(strategies)} x {runs:,} runs")
        status.start()
    try:
        res = compare(loaded, actor=ACTOR, strategies=strategies, runs=runs, horizon=horizon, seed=seed)
    finally:
        if status is not None:
            status.stop()
    datasets = res.datasets
    a, b = "slow_drip", "rapid_overt"
    mech = mechanism_summary(datasets)
    files: list[Path] = []

    curves = {name: cumulative_incidence(ds) for name, ds in datasets.items()}
    weeks = next(iter(curves.values()))["week"].values
    for name, ci in curves.items():
        path = out / f"cumulative_{name}.png"
        atomic_write_bytes(path, _figure_png({o: ci.sel(outcome=o).values for o in ci["outcome"].values.tolist()},
                                             weeks, f"{SCENARIO}: Iran plays {name}"))
        files.append(path)
    for outcome in THESIS_OUTCOMES:
        path = out / f"cumulative_{outcome}.png"
        atomic_write_bytes(path, _figure_png({n: c.sel(outcome=outcome).values for n, c in curves.items()},
                                             weeks, f"{outcome} by strategy"))
        files.append(path)

    summary = res.summary()
    summary["mechanisms"] = mech
    summary["explanation"] = _plain_language(mech, res.strategies, res.differences, a, b) \
        if a in strategies and b in strategies else []
    json_path = out / "results.json"
    atomic_write_text(json_path, json.dumps(summary, indent=2, default=str))
    files.append(json_path)

    report = out / "report.md"
    atomic_write_text(report, _markdown(summary, strategies, files, runs, seed))
    files.append(report)
    # The same comparison as one self-contained HTML page (charts inline, provenance table).
    html_input = from_datasets(datasets, {"kind": "compare", **res.summary(), "scenario_path": str(loaded.path)}, loaded=loaded)
    files.extend(write_report(html_input, out / "report.html"))
    elapsed = time.perf_counter() - started
    return {"report": str(report), "files": [str(f) for f in files], "elapsed_s": elapsed,
            "runs": runs, "seed": seed, "strategies": strategies}


def _markdown(summary: dict, strategies: list[str], files: list[Path], runs: int, seed: int) -> str:
    probs = summary["strategies"]
    outcomes = list(next(iter(probs.values())))
    lines = [
        f"# {SCENARIO}: Iran's strategies compared",
        "",
        f"Scenario `{SCENARIO}` (as of 2020-01-06, weekly steps, horizon {summary['horizon']} weeks), "
        f"{runs:,} paired runs per strategy (common random numbers), seed {seed}. "
        f"Scenario sha256 `{summary['scenario_sha256'][:12]}`. Regenerate with `redline demo --runs {runs} --seed {seed}`.",
        "",
        "## Outcome probabilities (95% Wilson intervals)",
        "",
        "| outcome | " + " | ".join(strategies) + " |",
        "|---|" + "---|" * len(strategies),
    ]
    for o in outcomes:
        cells = [f"{probs[s][o]['probability']:.3f} ({probs[s][o]['ci95'][0]:.3f}–{probs[s][o]['ci95'][1]:.3f})"
                 for s in strategies]
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    lines += ["", "## Paired differences (95% CI)", "", "| a − b | outcome | difference | 95% CI |", "|---|---|---|---|"]
    for d in summary["differences"]:
        lines.append(f"| {d['a']} − {d['b']} | {d['outcome']} | {d['difference']:+.3f} | "
                     f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] |")
    if summary.get("explanation"):
        lines += ["", "## What drives the difference between slow_drip and rapid_overt", ""]
        for sentence in summary["explanation"]:
            lines += [sentence, ""]
    lines += ["## Figures", ""]
    for f in files:
        if f.suffix == ".png":
            lines.append(f"![{f.stem}]({f.name})")
    lines += ["", "Numbers: `results.json` (including the per-strategy mechanism counts).", ""]
    return "\n".join(lines)
