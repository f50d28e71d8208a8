"""The calibration (reliability) diagram of a backtest, drawn with matplotlib (Agg, no display)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from redline.errors import ParameterError

__all__ = ["plot_calibration"]


def plot_calibration(result: dict[str, Any], path: str | Path) -> Path:
    """Write the reliability diagram of a :func:`~redline.forecast.backtest` result to ``path``.

    Left: observed frequency against mean forecast per bin (marker area ∝ questions in the bin,
    bars: Wilson 95% intervals of the observed frequency), with the diagonal of perfect
    calibration. Right: each scored question's forecast, model against baselines.
    The file type follows the suffix (``.png``, ``.svg``, ``.pdf``).
    """
    try:
        import matplotlib
    except ImportError:
        raise ParameterError("the calibration plot needs matplotlib: pip install 'redline[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration")
    bins = [b for b in result["calibration"] if b["n"]]
    for b in bins:
        lo, hi = b["observed_ci95"]
        ax.plot([b["mean_forecast"]] * 2, [lo, hi], color="tab:blue", lw=1, alpha=0.5)
    ax.scatter([b["mean_forecast"] for b in bins], [b["observed"] for b in bins],
               s=[40 + 60 * b["n"] for b in bins], color="tab:blue", zorder=3, label="model (area ∝ questions)")
    for b in bins:
        ax.annotate(str(b["n"]), (b["mean_forecast"], b["observed"]), ha="center", va="center", color="white",
                    fontsize=8, zorder=4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability (bin mean)")
    ax.set_ylabel("observed frequency")
    d = result["decomposition"]
    brier = result["brier"]["score"]
    title = f"{result['scenario']}: {result['n_scored']} resolved questions"
    if brier is not None:
        title += f"\nBrier {brier:.3f} = REL {d['reliability']:.3f} − RES {d['resolution']:.3f} + UNC {d['uncertainty']:.3f}"
        if abs(d["within_bin"]) > 5e-4:
            title += f" {d['within_bin']:+.3f}"
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)

    rows = result["questions"]
    y = range(len(rows))
    ax2.axvline(0.5, color="0.8", lw=1)
    ax2.scatter([r["baselines"]["base_rate_loo"]["probability"] for r in rows], y, marker="|", s=120,
                color="tab:orange", label="base rate (leave-one-out)")
    pub = [(r["baselines"]["public_forecast"]["probability"], i) for i, r in enumerate(rows)
           if "public_forecast" in r["baselines"]]
    if pub:
        ax2.scatter([p for p, _ in pub], [i for _, i in pub], marker="x", color="tab:green", label="public forecast")
    for i, r in enumerate(rows):
        lo, hi = r["ci95"]
        ax2.plot([lo, hi], [i, i], color="tab:blue", lw=2, alpha=0.6)
    ax2.scatter([r["probability"] for r in rows], y, color="tab:blue", zorder=3, label="model")
    ax2.scatter([1.0 if r["outcome"] else 0.0 for r in rows], y, marker="s", facecolor="none", edgecolor="black",
                s=60, label="what happened (1 / 0)")
    ax2.set_yticks(list(y))
    ax2.set_yticklabels([r["id"] for r in rows], fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlim(-0.05, 1.05)
    ax2.set_xlabel("probability")
    ax2.set_title("forecasts per question", fontsize=9)
    ax2.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, fontsize=7, frameon=False)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except (OSError, ValueError) as err:
        raise ParameterError(f"cannot write plot '{path}': {err}") from None
    finally:
        plt.close(fig)
    return path
