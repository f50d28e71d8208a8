"""Figures of a result, drawn with matplotlib's object API (no pyplot, so it is safe in the web
app's worker threads): outcome probabilities with intervals, cumulative probability over dated
weeks, fan charts of state variables, sensitivity bars, PRIM boxes and a calibration plot.

Every function returns a :class:`matplotlib.figure.Figure`; :func:`to_svg` and :func:`to_png`
turn one into text or bytes for embedding.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never a GUI backend: reports are written on servers and in CI
# Names and units come from scenario files: '$...$' in them is text, never mathtext (a malformed
# formula would stop the report, and mathtext is not a language scenario authors should need).
matplotlib.rcParams["text.parse_math"] = False

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from redline.errors import ParameterError  # noqa: E402
from redline.forecast.scoring import calibration_table  # noqa: E402
from redline.results.summary import cumulative_incidence, outcome_summary  # noqa: E402

__all__ = [
    "PALETTE",
    "outcome_bars",
    "cumulative_chart",
    "fan_charts",
    "sensitivity_bars",
    "prim_boxes",
    "calibration_plot",
    "backtest_calibration_plot",
    "save_figure",
    "posterior_panels",
    "predictive_panels",
    "week_dates",
    "key_variables",
    "to_svg",
    "to_png",
    "to_data_uri",
]

# Colour-blind safe (Okabe & Ito 2008, "Color Universal Design").
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

_RC = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "text.parse_math": False,
    "svg.fonttype": "none",  # keep text as text: smaller files, searchable, selectable
    "svg.hashsalt": "redline",  # deterministic ids, so the same result gives the same report
}
# matplotlib's rcParams are process-global; the lock keeps concurrent web jobs from interleaving.
_LOCK = threading.RLock()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def week_dates(as_of: dt.date | str | None, weeks: Sequence[int]) -> list[dt.date] | None:
    """The date at the end of each week: week 1 starts on ``as_of`` and ends 7 days later."""
    if as_of is None:
        return None
    start = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)[:10])
    return [start + dt.timedelta(days=7 * int(w)) for w in weeks]


def key_variables(ds: xr.Dataset, names: Sequence[str] | None = None, limit: int = 6,
                  skip: Sequence[str] = ()) -> list[str]:
    """State variables worth a fan chart: those that move across runs or weeks, in scenario order.

    ``skip`` names variables to leave out (e.g. per-week flow counters, which are noise).
    """
    if "trajectory" not in ds:
        return []
    available = ds["variable"].values.tolist()
    chosen = [n for n in (names or available) if n in available and n not in skip]
    moving = []
    for name in chosen:
        values = ds["trajectory"].sel(variable=name).values
        if np.nanmax(values) - np.nanmin(values) > 1e-12:
            moving.append(name)
    return moving[:limit]


def outcome_bars(blocks: Mapping[str, Mapping[str, Mapping]], *, title: str = "Outcome probabilities",
                 xlabel: str = "probability over the horizon (whiskers: 95% Wilson interval)") -> Figure:
    """Horizontal bars of P(outcome) with 95% intervals, one bar per strategy within each outcome.

    ``blocks`` maps strategy (or ``""`` for a single run) -> :func:`outcome_summary` output.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        names = list(blocks)
        outcomes = list(next(iter(blocks.values())))
        height = max(1.6, 0.35 * len(outcomes) * max(len(names), 1) + 0.9)
        fig = _figure(7.5, height)
        ax = fig.add_subplot()
        bar = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            y = np.arange(len(outcomes)) + i * bar - 0.4 + bar / 2
            p = np.array([blocks[name][o]["probability"] for o in outcomes], dtype=float)
            lo = np.array([blocks[name][o]["ci95"][0] for o in outcomes], dtype=float)
            hi = np.array([blocks[name][o]["ci95"][1] for o in outcomes], dtype=float)
            p, lo, hi = (np.nan_to_num(a) for a in (p, lo, hi))
            colour = PALETTE[i % len(PALETTE)]
            ax.barh(y, p, height=bar * 0.9, color=colour, alpha=0.85, label=name or None)
            ax.errorbar(p, y, xerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)], fmt="none", ecolor="#222", elinewidth=1, capsize=2)
            for yy, pp, hh in zip(y, p, hi):
                ax.text(hh + 0.01, yy, f"{pp:.1%}", va="center", fontsize=8)
        ax.set_yticks(np.arange(len(outcomes)), [o.replace("_", " ") for o in outcomes])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.1)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        if len(names) > 1:
            ax.legend(title="strategy", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return fig


def cumulative_chart(datasets: Mapping[str, xr.Dataset], *, as_of: dt.date | str | None = None,
                     title: str = "Cumulative probability by date") -> Figure:
    """P(outcome has happened by the end of each week), one panel per outcome, one line per strategy."""
    with _LOCK, matplotlib.rc_context(_RC):
        first = next(iter(datasets.values()))
        outcomes = first["outcome"].values.tolist()
        cols = min(3, len(outcomes)) or 1
        rows = -(-len(outcomes) // cols) or 1
        fig = _figure(3.3 * cols + 0.6, 2.5 * rows + 0.5)
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        curves = {name: cumulative_incidence(ds) for name, ds in datasets.items()}
        for k, outcome in enumerate(outcomes):
            ax = axes[k // cols][k % cols]
            for i, (name, curve) in enumerate(curves.items()):
                weeks = curve["week"].values
                x = week_dates(as_of, weeks) or weeks
                ax.plot(x, curve.sel(outcome=outcome).values, color=PALETTE[i % len(PALETTE)], lw=1.6,
                        label=name or "P")
            ax.set_title(outcome.replace("_", " "), loc="left", fontsize=9)
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.grid(alpha=0.25)
            _week_axis(ax, as_of, label_weeks=True)
        return _finish_grid(fig, axes, len(outcomes), rows, cols, legend=len(curves) > 1, title=title)


def _week_axis(ax, as_of, *, label_weeks: bool) -> None:
    """Dates on the x axis when the scenario's start is known, else (optionally) a 'week' label."""
    if as_of is not None:
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b %Y"))
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
    elif label_weeks:
        ax.set_xlabel("week")


def _finish_grid(fig, axes, used: int, rows: int, cols: int, *, legend: bool, title: str) -> Figure:
    """Hide unused panels, add the legend once and the title."""
    for k in range(used, rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    if legend:
        axes[0][0].legend(frameon=False, fontsize=8)
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
    return fig


def fan_charts(datasets: Mapping[str, xr.Dataset], variables: Sequence[str], *,
               as_of: dt.date | str | None = None, units: Mapping[str, str] | None = None,
               title: str = "State variables: median and 5–95% band") -> Figure:
    """Fan charts: per variable, the weekly median and the 25–75% and 5–95% bands over runs."""
    with _LOCK, matplotlib.rc_context(_RC):
        cols = min(3, len(variables)) or 1
        rows = -(-len(variables) // cols) or 1
        fig = _figure(3.3 * cols + 0.6, 2.4 * rows + 0.5)
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, var in enumerate(variables):
            ax = axes[k // cols][k % cols]
            for i, (name, ds) in enumerate(datasets.items()):
                ok = ~ds["failed"].values
                traj = ds["trajectory"].sel(variable=var).values[:, ok]  # (week, run)
                weeks = ds["week"].values
                x = week_dates(as_of, weeks) or weeks
                if traj.shape[1] == 0:
                    continue
                p05, p25, p50, p75, p95 = np.nanpercentile(traj, [5, 25, 50, 75, 95], axis=1)
                colour = PALETTE[i % len(PALETTE)]
                ax.fill_between(x, p05, p95, color=colour, alpha=0.15, lw=0)
                ax.fill_between(x, p25, p75, color=colour, alpha=0.25, lw=0)
                ax.plot(x, p50, color=colour, lw=1.5, label=name or "median")
            unit = (units or {}).get(var)
            ax.set_title(var.replace("_", " ") + (f" ({unit})" if unit else ""), loc="left", fontsize=9)
            ax.grid(alpha=0.25)
            _week_axis(ax, as_of, label_weeks=False)
        return _finish_grid(fig, axes, len(variables), rows, cols, legend=len(datasets) > 1, title=title)


def sensitivity_bars(indices: Mapping[str, Mapping[str, float]], *, title: str = "Sensitivity") -> Figure:
    """Bars of sensitivity indices per input; ``indices`` maps output -> {input: index}.

    Inputs are sorted by their largest index, so the assumptions that drive the answer come first.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        outputs = list(indices)
        inputs = sorted({i for d in indices.values() for i in d},
                        key=lambda i: -max(abs(indices[o].get(i, 0.0) or 0.0) for o in outputs))
        fig = _figure(7.5, max(1.6, 0.3 * len(inputs) * max(1, len(outputs)) ** 0.5 + 1.0))
        ax = fig.add_subplot()
        bar = 0.8 / max(len(outputs), 1)
        for k, out in enumerate(outputs):
            y = np.arange(len(inputs)) + k * bar - 0.4 + bar / 2
            ax.barh(y, [indices[out].get(i, 0.0) or 0.0 for i in inputs], height=bar * 0.9,
                    color=PALETTE[k % len(PALETTE)], label=out.replace("_", " "))
        ax.set_yticks(np.arange(len(inputs)), [i.replace("_", " ") for i in inputs])
        ax.invert_yaxis()
        ax.axvline(0, color="#444", lw=0.8)
        ax.set_title(title, loc="left")
        if len(outputs) > 1:
            ax.legend(frameon=False, fontsize=8)
        return fig


def prim_boxes(boxes: Sequence[Mapping], ranges: Mapping[str, tuple[float, float]] | None = None, *,
               title: str = "Scenario discovery (PRIM boxes)") -> Figure:
    """PRIM boxes drawn as restricted intervals within each input's full range.

    Each box is ``{"limits": {input: [low, high]}, "coverage": c, "density": d, "label": ...}``;
    ``ranges`` gives each input's full range (default: the union of the boxes' limits).
    """
    with _LOCK, matplotlib.rc_context(_RC):
        inputs = list(dict.fromkeys(i for b in boxes for i in b.get("limits", {})))
        fig = _figure(7.5, max(1.6, 0.4 * len(inputs) * max(1, len(boxes)) ** 0.5 + 1.2 + 0.2 * len(boxes)))
        ax = fig.add_subplot()
        full = dict(ranges or {})
        for name in inputs:
            if name not in full:
                lows = [b["limits"][name][0] for b in boxes if name in b["limits"]]
                highs = [b["limits"][name][1] for b in boxes if name in b["limits"]]
                full[name] = (min(lows), max(highs))
        bar = 0.8 / max(len(boxes), 1)
        for k, box in enumerate(boxes):
            label = box.get("label") or f"box {k + 1}"
            stats = ", ".join(f"{s} {box[s]:.0%}" for s in ("coverage", "density") if box.get(s) is not None)
            for j, name in enumerate(inputs):
                lo, hi = full[name]
                span = (hi - lo) or 1.0
                limits = box.get("limits", {}).get(name)
                if limits is None:
                    continue
                a, b = (limits[0] - lo) / span, (limits[1] - lo) / span
                y = j + k * bar - 0.4 + bar / 2
                ax.barh(y, b - a, left=a, height=bar * 0.9, color=PALETTE[k % len(PALETTE)], alpha=0.8,
                        label=f"{label} ({stats})" if j == 0 or name == inputs[0] else None)
                ax.text(b + 0.01, y, f"{limits[0]:.3g}–{limits[1]:.3g}", va="center", fontsize=7)
        ax.set_yticks(np.arange(len(inputs)), [i.replace("_", " ") for i in inputs])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.25)
        ax.set_xlabel("position within each input's full range (0 = low, 1 = high)")
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=1)
        return fig


def calibration_plot(forecasts: Sequence[float], outcomes: Sequence[bool | int], *, bins: int = 5,
                     labels: Sequence[str] | None = None, title: str = "Calibration",
                     table: Sequence[Mapping[str, Any]] | None = None,
                     questions: Sequence[Mapping[str, Any]] | None = None) -> Figure:
    """Reliability diagram (Murphy & Winkler 1977): observed frequency against mean forecast per
    equal-width bin, marker area proportional to the questions in the bin (their number written on
    it), bars the Wilson 95% interval of the observed frequency (Wilson 1927), with the diagonal of
    perfect calibration.

    ``table`` is the bins already computed (:func:`redline.forecast.scoring.calibration_table`, as a
    backtest carries them); otherwise they are computed from ``forecasts`` and ``outcomes`` in
    ``bins`` bins. With ``questions`` (a backtest's per-question rows: ``id``, ``probability``,
    ``ci95``, ``outcome``, ``baselines``) a second panel shows each question's forecast beside the
    baselines' and what happened. ``labels`` names the questions in that panel when the rows have no
    ``id``.
    """
    if table is None:
        table = calibration_table(forecasts, outcomes, bins)
    shown = [b for b in table if b["n"]]
    with _LOCK, matplotlib.rc_context(_RC):
        fig = _figure(11.0 if questions else 4.8, 4.8 if questions else 4.2)
        if questions:
            ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        else:
            ax, ax2 = fig.add_subplot(), None
        ax.plot([0, 1], [0, 1], color="#888", lw=1, ls="--", label="perfect calibration")
        for b in shown:
            lo, hi = b["observed_ci95"]
            ax.plot([b["mean_forecast"]] * 2, [lo, hi], color=PALETTE[0], lw=1, alpha=0.5)
        ax.scatter([b["mean_forecast"] for b in shown], [b["observed"] for b in shown],
                   s=[40 + 60 * b["n"] for b in shown], color=PALETTE[0], zorder=3, label="questions (area ∝ number)")
        for b in shown:
            ax.annotate(str(b["n"]), (b["mean_forecast"], b["observed"]), ha="center", va="center", color="white",
                        fontsize=8, zorder=4)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("forecast probability (bin mean)")
        ax.set_ylabel("observed frequency")
        ax.set_title(title, loc="left", fontsize=9)
        ax.legend(frameon=False, fontsize=8, loc="lower right")
        if ax2 is not None:
            _question_panel(ax2, questions, labels)
        return fig


def _question_panel(ax, rows: Sequence[Mapping[str, Any]], labels: Sequence[str] | None) -> None:
    """Each scored question's forecast (with its interval) beside the baselines' and the outcome."""
    y = list(range(len(rows)))
    ax.axvline(0.5, color="#ccc", lw=1)
    loo = [(r["baselines"]["base_rate_loo"]["probability"], i) for i, r in enumerate(rows)
           if "base_rate_loo" in r.get("baselines", {})]
    if loo:
        ax.scatter([p for p, _ in loo], [i for _, i in loo], marker="|", s=120, color=PALETTE[1],
                   label="base rate (leave-one-out)")
    pub = [(r["baselines"]["public_forecast"]["probability"], i) for i, r in enumerate(rows)
           if "public_forecast" in r.get("baselines", {})]
    if pub:
        ax.scatter([p for p, _ in pub], [i for _, i in pub], marker="x", color=PALETTE[2], label="public forecast")
    for i, r in enumerate(rows):
        if r.get("ci95"):
            lo, hi = r["ci95"]
            ax.plot([lo, hi], [i, i], color=PALETTE[0], lw=2, alpha=0.6)
    ax.scatter([r["probability"] for r in rows], y, color=PALETTE[0], zorder=3, label="model")
    ax.scatter([1.0 if r["outcome"] else 0.0 for r in rows], y, marker="s", facecolor="none", edgecolor="black",
               s=60, label="what happened (1 / 0)")
    ax.set_yticks(y)
    ax.set_yticklabels([str(r.get("id", labels[i] if labels else i + 1)) for i, r in enumerate(rows)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("probability")
    ax.set_title("forecasts per question", loc="left", fontsize=9)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize=7, frameon=False)


def backtest_calibration_plot(result: Mapping[str, Any]) -> Figure:
    """The calibration figure of a :func:`redline.forecast.backtest` result: its reliability diagram
    (the backtest's own bins), titled with the Brier score's Murphy (1973) decomposition, and the
    per-question panel."""
    rows = list(result["questions"])
    d = result["decomposition"]
    brier = result["brier"]["score"]
    title = f"{result['scenario']}: {result['n_scored']} resolved questions"
    if brier is not None:
        title += f"\nBrier {brier:.3f} = REL {d['reliability']:.3f} − RES {d['resolution']:.3f} + UNC {d['uncertainty']:.3f}"
        if abs(d["within_bin"]) > 5e-4:
            title += f" {d['within_bin']:+.3f}"
    return calibration_plot([r["probability"] for r in rows], [bool(r["outcome"]) for r in rows],
                            table=result["calibration"], title=title, questions=rows)


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path``; the file type follows the suffix (``.png``, ``.svg``, ``.pdf``)."""
    path = Path(path)
    try:
        with _LOCK, matplotlib.rc_context(_RC):
            fig.savefig(path, dpi=dpi)
    except (OSError, ValueError) as err:
        raise ParameterError(f"cannot write plot '{path}': {err}") from None
    return path


def to_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no external references)."""
    buf = io.StringIO()
    with _LOCK, matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def to_png(fig: Figure, dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    with _LOCK, matplotlib.rc_context(_RC):
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def to_data_uri(fig: Figure, dpi: int = 150) -> str:
    return "data:image/png;base64," + base64.b64encode(to_png(fig, dpi)).decode("ascii")


def summaries(datasets: Mapping[str, xr.Dataset]) -> dict[str, dict]:
    """Strategy -> :func:`outcome_summary`, for :func:`outcome_bars`."""
    return {name: outcome_summary(ds) for name, ds in datasets.items()}


def _grid(n: int, cols: int = 3, width: float = 9.0, height: float = 2.3):
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig = _figure(width, height * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes, rows, cols


def posterior_panels(names: Sequence[str], theta: np.ndarray, weights: np.ndarray,
                     priors: Mapping[str, Sequence[float]], *, limit: int = 12,
                     title: str = "Prior and posterior of each calibrated parameter") -> Figure:
    """Per parameter: the posterior (weighted histogram of the particles) over its uniform prior.

    Parameters are ordered by how much the record narrowed them (posterior sd over prior sd), so
    with many parameters the ``limit`` most informed are shown.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        w = np.asarray(weights, dtype=float) / np.sum(weights)
        ratios = []
        for k, name in enumerate(names):
            lo, hi = priors[name]
            sd = np.sqrt(w @ np.square(theta[:, k] - w @ theta[:, k]))
            ratios.append(sd / ((hi - lo) / np.sqrt(12)))
        order = np.argsort(ratios)[:limit]
        fig, axes, rows, cols = _grid(len(order))
        for i, k in enumerate(order):
            ax = axes[i // cols][i % cols]
            name = names[k]
            lo, hi = priors[name]
            edges = np.linspace(lo, hi, 31)
            dens, _ = np.histogram(theta[:, k], bins=edges, weights=w, density=True)
            ax.stairs(dens, edges, fill=True, color=PALETTE[0], alpha=0.6, label="posterior")
            ax.hlines(1 / (hi - lo), lo, hi, color=PALETTE[1], lw=1.5, ls="--", label="prior (uniform)")
            ax.set_title(f"{name} (sd ×{ratios[k]:.2f})", loc="left", fontsize=8)
            ax.set_yticks([])
        return _finish_grid(fig, axes, len(order), rows, cols, legend=True, title=title)


def predictive_panels(checks: Mapping[str, Mapping], samples: Mapping[str, Sequence[float]], *,
                      title: str = "Posterior predictive check of each observation") -> Figure:
    """Per observation: the distribution of its statistic in fresh runs drawn from the posterior,
    its 90% interval, and the value the record observed (Gelman, Meng & Stern 1996)."""
    with _LOCK, matplotlib.rc_context(_RC):
        ids = [i for i in checks if samples.get(i)]
        fig, axes, rows, cols = _grid(max(len(ids), 1), cols=4, width=10.0, height=2.0)
        for i, oid in enumerate(ids):
            ax = axes[i // cols][i % cols]
            c = checks[oid]
            values = np.asarray(samples[oid], dtype=float)
            lo, hi = min(values.min(), c["observed"]), max(values.max(), c["observed"])
            whole = np.all(values == np.round(values)) and hi - lo <= 60
            edges = np.arange(lo - 0.5, hi + 1.5) if whole else np.linspace(lo, hi if hi > lo else lo + 1, 26)
            ax.hist(values, bins=edges, color=PALETTE[0], alpha=0.6, density=True, label="posterior predictive")
            if c.get("ci90"):
                ax.axvspan(c["ci90"][0], c["ci90"][1], color="0.85", zorder=0, label="90% interval")
            ax.axvline(c["observed"], color=PALETTE[1] if c.get("within") else "#B00020", lw=2, label="observed")
            ax.set_title(oid, loc="left", fontsize=8)
            ax.set_yticks([])
        return _finish_grid(fig, axes, len(ids), rows, cols, legend=bool(ids), title=title)
