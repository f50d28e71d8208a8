"""``redline demo``: the flagship analysis end to end, calibrated, written to a directory as a
Markdown report, a self-contained HTML report (``report.html``) and ``results.json``.

The bundled ``iran-us-2020`` scenario starts in May 2019 and is calibrated on the 2019 record
(its posterior ships beside it; every run draws its parameters from it). The demo

* reports the record and the posterior predictive checks kept in the posterior file;
* forecasts the scenario's own questions (2020-2025) under Iran's own (logit) choices;
* compares Iran's strategies ``slow_drip``, ``rapid_overt`` and ``restraint`` with common random
  numbers and the same posterior draws (paired differences with 95% intervals), with the mechanism
  counts behind them and cumulative-probability figures;
* splits the ``slow_drip`` − ``rapid_overt`` difference into the parts deniability and tempo carry
  (a 2 x 2 factorial of the strategy ``factorial``, :mod:`redline.experiments.factorial`).

Files are written atomically (:mod:`redline.results`).
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from redline.results import atomic_write_bytes, atomic_write_text

__all__ = ["run_demo", "mechanism_summary", "SCENARIO", "STRATEGIES", "THESIS_COMPONENTS"]

SCENARIO = "iran-us-2020"
ACTOR = "iran"
STRATEGIES = ["slow_drip", "rapid_overt", "restraint"]
THESIS_OUTCOMES = ["us_exits_iraq", "us_iran_war", "iraq_orders_forces_out", "strike_on_nuclear_sites"]
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
HORIZON = 139  # to the end of 2021
ORIGIN_WEEK = 36  # 2020-01-06
FACTORS = {"iran_deniable": [0, 1], "iran_fast": [0, 1]}
FACTOR_CELL = {"iran_lethal": 1, "iran_political_effort": 0.3, "iran_nuclear_loud": 0}
MEASURES = {
    "us_killed_2020_21": ("us_killed - (sum(us_killed, last=105) - sum(us_killed, last=104))", HORIZON),
    "us_exits_iraq_2021": ("us_troops_iraq <= 0", HORIZON),
    "us_iran_war_2020_21": ("sum(war, last=104) >= 1", HORIZON),
    "president_reelected": ("president_reelected", 83),
}


def _mean_final(ds, name: str) -> float:
    ok = ~ds["failed"].values
    return float(ds["final_state"].sel(variable=name).values[ok].mean())


def mechanism_summary(datasets: dict) -> dict[str, dict[str, Any]]:
    """Per strategy: the numbers behind each mechanism (means over runs at the horizon)."""
    out: dict[str, dict[str, Any]] = {}
    for name, ds in datasets.items():
        ok = ~ds["failed"].values
        acts = ds["action_count"]

        def count(*actions: str) -> float:
            return float(sum(acts.sel(action=a).values[ok].mean() for a in actions))

        def fired(red_line: str) -> float:
            return float(np.mean(~np.isnan(ds["red_line_week"].sel(red_line=red_line).values[ok])))

        out[name] = {
            "attacks_true": _mean_final(ds, "proxy_attacks") + _mean_final(ds, "attacks_from_iran"),
            "attacks_attributed": _mean_final(ds, "attacks_attributed"),
            "us_killed": _mean_final(ds, "us_killed"),
            "us_killed_attributed": _mean_final(ds, "us_killed_attributed"),
            "us_strikes_proxies": _mean_final(ds, "us_strikes_proxies"),
            "us_strikes_on_iran": _mean_final(ds, "us_strikes_on_iran"),
            "red_line_americans_killed_fired": fired("americans_killed"),
            "red_line_attack_pattern_fired": fired("attack_pattern"),
            "red_line_iranian_state_attack_fired": fired("iranian_state_attack"),
            "iraq_expulsion_pressure_end": _mean_final(ds, "iraq_expulsion_pressure"),
            "iraq_parliament_resolutions": _mean_final(ds, "iraq_parliament_resolutions"),
            "iraq_ordered_us_out": _mean_final(ds, "iraq_expulsion_ordered"),
            "us_drawdowns_iraq": count("drawdown_iraq"),
            "us_ordered_iraq_exit": _mean_final(ds, "iraq_exit_ordered"),
            "us_troops_iraq_end": _mean_final(ds, "us_troops_iraq"),
            "president_approval_end": _mean_final(ds, "president_approval"),
            "iran_enrichment_level_end": _mean_final(ds, "iran_enrichment_level"),
            "nuclear_site_attacks": _mean_final(ds, "nuclear_site_attacks"),
        }
    return out


def _figure_png(curves: dict[str, np.ndarray], weeks: np.ndarray, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for label, y in curves.items():
        ax.plot(weeks, y, label=label)
    ax.axvline(ORIGIN_WEEK, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("week after 6 May 2019 (dashed: 6 Jan 2020, the record's origin)")
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


def run_demo(*, out: Path, runs: int = 5000, seed: int = 11, progress: bool = False,
             strategies: list[str] | None = None, horizon: int | None = None) -> dict:
    """Run the calibrated flagship analysis and write the report; returns ``report``, ``files``,
    ``elapsed_s`` and the numbers."""
    from redline.experiments.compare import compare
    from redline.results import cumulative_incidence
    from redline.calibrate import shipped_posterior
    from redline.experiments.factorial import run_factorial, split_difference
    from redline.forecast import forecast, questions_from_scenario
    from redline.scenario import load_scenario

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    strategies = list(strategies or STRATEGIES)
    horizon = horizon or HORIZON
    loaded = load_scenario(SCENARIO)
    posterior = shipped_posterior(loaded)
    status = None
    if progress:
        from rich.console import Console

        status = Console(stderr=True).status(f"running {SCENARIO} ({runs:,} runs per arm, posterior draws)")
        status.start()
    try:
        draws = posterior.draw(runs, seed) if posterior is not None else None
        fc = forecast(loaded, questions_from_scenario(loaded), runs=runs, seed=seed, params=draws)
        res = compare(loaded, actor=ACTOR, strategies=strategies, runs=runs, horizon=horizon, seed=seed,
                      posterior=posterior)
        fact = run_factorial(loaded, actor=ACTOR, strategy="factorial", factors=FACTORS, measures=MEASURES,
                             runs=max(runs // 2, 200), seed=seed,
                             params={**(posterior.draw(max(runs // 2, 200), seed) if posterior else {}), **FACTOR_CELL})
    finally:
        if status is not None:
            status.stop()
    datasets = res.datasets
    res = res.summary()
    files: list[Path] = []
    curves = {name: cumulative_incidence(ds) for name, ds in datasets.items()}
    weeks = next(iter(curves.values()))["week"].values
    for outcome in THESIS_OUTCOMES:
        path = out / f"cumulative_{outcome}.png"
        atomic_write_bytes(path, _figure_png({n: c.sel(outcome=outcome).values for n, c in curves.items()},
                                             weeks, f"{outcome} by Iran's strategy (posterior draws)"))
        files.append(path)
    split = {m: split_difference(fact, m, {"iran_deniable": 1, "iran_fast": 0}, {"iran_deniable": 0, "iran_fast": 1})
             for m in MEASURES}
    summary = dict(res)
    summary["posterior"] = posterior.describe() if posterior is not None else None
    summary["record_checks"] = (posterior.metadata.get("checks") if posterior is not None else None) or {}
    summary["forecasts"] = [{"id": q.id, "question": q.question, "close_date": q.close_date.isoformat(),
                             "probability": q.probability, "ci95": q.ci95} for q in fc.questions]
    summary["mechanisms"] = mechanism_summary(datasets)
    summary["thesis_split"] = split
    json_path = out / "results.json"
    atomic_write_text(json_path, json.dumps(summary, indent=2, default=str))
    files.append(json_path)
    report = out / "report.md"
    atomic_write_text(report, _markdown(summary, strategies, files, runs, seed, horizon))
    files.append(report)
    from redline.report import from_datasets, write_report

    html_input = from_datasets(datasets, {"kind": "compare", **res, "scenario_path": str(loaded.path)}, loaded=loaded)
    files.extend(write_report(html_input, out / "report.html"))
    elapsed = time.perf_counter() - started
    return {"report": str(report), "files": [str(f) for f in files], "elapsed_s": elapsed,
            "runs": runs, "seed": seed, "strategies": strategies, "posterior": summary["posterior"]}


def _eff(block: dict) -> str:
    lo, hi = block["ci95"]
    return f"{block['effect']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _markdown(summary: dict, strategies: list[str], files: list[Path], runs: int, seed: int, horizon: int) -> str:
    post = summary.get("posterior")
    lines = [
        f"# {SCENARIO}: the calibrated flagship analysis",
        "",
        f"Scenario `{SCENARIO}` (from 2019-05-06, weekly, calibrated on the record up to 2020-01-06), sha256 "
        f"`{summary['scenario_sha256'][:12]}`; "
        + (f"each run's parameters drawn from the shipped posterior ({post['particles']:,} particles, sha256 "
           f"`{post['sha256'][:12]}`)" if post else "parameters at their defaults (no posterior found)")
        + f"; {runs:,} runs, seed {seed}. Regenerate with `redline demo --runs {runs} --seed {seed}`.",
        "",
    ]
    checks = summary.get("record_checks") or {}
    if checks:
        inside = sum(bool(c.get("within")) for c in checks.values())
        lines += ["## The record and the fit", "",
                  f"{inside} of {len(checks)} observations of the 2019 record fall inside the posterior predictive 90% "
                  "interval:", "", "| observation | observed | predictive mean | 90% interval |", "|---|---|---|---|"]
        for oid, c in checks.items():
            lines.append(f"| {oid} | {c['observed']:g} | {c['predictive_mean']:.3g} | "
                         f"{c['ci90'][0]:.3g}–{c['ci90'][1]:.3g} |")
        lines.append("")
    lines += ["## Forecasts (Iran choosing by its own policy)", "", "| question | closes | P (95% MC interval) |",
              "|---|---|---|"]
    for q in summary["forecasts"]:
        ci = q["ci95"] or [float("nan")] * 2
        p = "-" if q["probability"] is None else f"{q['probability']:.3f}"
        lines.append(f"| {q['question']} | {q['close_date']} | {p} ({ci[0]:.3f}–{ci[1]:.3f}) |")
    probs = summary["strategies"]
    outcomes = list(next(iter(probs.values())))
    lines += ["", f"## Iran's strategies compared (to week {horizon}, the end of 2021; 95% Wilson intervals)", "",
              "| outcome | " + " | ".join(strategies) + " |", "|---|" + "---|" * len(strategies)]
    for o in outcomes:
        cells = [f"{probs[s][o]['probability']:.3f} ({probs[s][o]['ci95'][0]:.3f}–{probs[s][o]['ci95'][1]:.3f})"
                 for s in strategies]
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    lines += ["", "Paired differences (common random numbers and posterior draws; 95% CI):", "",
              "| a − b | outcome | difference | 95% CI |", "|---|---|---|---|"]
    for d in summary["differences"]:
        lines.append(f"| {d['a']} − {d['b']} | {d['outcome']} | {d['difference']:+.3f} | "
                     f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] |")
    lines += ["", "## Which factor carries slow_drip − rapid_overt", "",
              "`slow_drip` and `rapid_overt` differ only in deniability and tempo (both lethal, political effort 0.3, "
              "quiet nuclear steps). The 2 x 2 factorial splits each difference (Shapley, 95% intervals):", "",
              "| measure | difference | deniability | tempo | interaction |", "|---|---|---|---|---|"]
    for m, s in summary["thesis_split"].items():
        lines.append(f"| {m} | {_eff(s['difference'])} | {_eff(s['iran_deniable'])} | {_eff(s['iran_fast'])} | "
                     f"{_eff(s['interaction'])} |")
    lines += ["", "## Mechanisms (means per run at the horizon)", "", "| | " + " | ".join(strategies) + " |",
              "|---|" + "---|" * len(strategies)]
    mech = summary["mechanisms"]
    for key in next(iter(mech.values())):
        lines.append(f"| {key} | " + " | ".join(f"{mech[s][key]:.3f}" for s in strategies) + " |")
    lines += ["", "## Figures", ""]
    for f in files:
        if f.suffix == ".png":
            lines.append(f"![{f.stem}]({f.name})")
    lines += ["", "Numbers: `results.json`. The full analysis (32-cell factorial, calibration) is docs/flagship.md.", ""]
    return "\n".join(lines)
