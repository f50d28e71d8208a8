"""Regenerate the figures of docs/calibration.md from its worked example.

Usage: python docs/calibration_figures.py   (writes docs/img/calibration_*.png; about 10 s)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from redline.calibrate import calibrate, read_posterior
from redline.report import figures as F

HERE = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coin.posterior.parquet"
        calibrate(HERE / "calibration" / "coin.yaml", HERE / "calibration" / "coin.record.yaml", particles=4000, seed=1,
                  out=out)
        post = read_posterior(out)
    priors = {k: v["prior"] for k, v in post.metadata["parameters"].items()}
    (HERE / "img").mkdir(exist_ok=True)
    (HERE / "img" / "calibration_prior_posterior.png").write_bytes(
        F.to_png(F.posterior_panels(post.names, post.theta, post.weights, priors), dpi=110))
    (HERE / "img" / "calibration_predictive.png").write_bytes(
        F.to_png(F.predictive_panels(post.metadata["checks"], post.metadata["predictive"]), dpi=110))
    for name, p in post.metadata["parameters"].items():
        print(f"{name}: mean {p['mean']:.3f}, median {p['median']:.3f}, ci90 [{p['ci90'][0]:.3f}, {p['ci90'][1]:.3f}]")


if __name__ == "__main__":
    main()
