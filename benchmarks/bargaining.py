"""Speed of the expected-utility model (Scholz et al. 2011 reconstruction), vectorised over issues.

Prints seconds and issues per second for (1) every DEU III issue in one call and (2) a synthetic
100 actors x 1,000 issues x 10 rounds problem. Run: ``python benchmarks/bargaining.py``.
"""
from __future__ import annotations

import time

import numpy as np

from redline.bargaining import Actors, expected_utility, load_deu3


def _time(actors: Actors, rounds: int) -> float:
    start = time.perf_counter()
    expected_utility.predict(actors, rounds=rounds)
    return time.perf_counter() - start


def main() -> None:
    deu = load_deu3()
    n_issues, n_actors = deu.actors.shape
    sec = _time(deu.actors, 10)
    print(f"DEU III: {n_issues} issues x {n_actors} actors x 10 rounds: {sec:.2f} s, "
          f"{n_issues / sec:.0f} issues/s")

    rng = np.random.default_rng(20261125)
    issues, actors = 1000, 100
    synthetic = Actors.from_arrays(rng.uniform(0, 100, (issues, actors)), rng.uniform(0, 1, (issues, actors)),
                                   rng.lognormal(0, 1, (issues, actors)))
    sec = _time(synthetic, 10)
    print(f"synthetic: {issues} issues x {actors} actors x 10 rounds: {sec:.2f} s, "
          f"{issues / sec:.0f} issues/s")


if __name__ == "__main__":
    main()
