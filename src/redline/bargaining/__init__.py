"""Spatial bargaining and expected-utility models of collective decisions.

Every model module exposes ``predict(actors, *, ...) -> BargainingResult`` over an
:class:`Actors` table shaped ``(batch, actors)``; the batch axis holds issues (benchmarks) or
simulation runs (one decision re-taken in every run).

>>> from redline import bargaining
>>> actors = bargaining.Actors.from_arrays([0.0, 100.0], [1.0, 1.0], [1.0, 1.0])
>>> float(bargaining.predict(actors, model="nash").prediction[0])
50.0
"""
from __future__ import annotations

from collections.abc import Callable

from redline.bargaining import expected_utility, fitted, mean, median, nash
from redline.bargaining._core import (
    Actors,
    BargainingError,
    BargainingResult,
    check_model_name,
    weighted_mean,
    weighted_median,
)
from redline.bargaining.datasets import Deu3, load_deu3
from redline.bargaining.io import ActorsTableError, read_actors

__all__ = [
    "Actors",
    "ActorsTableError",
    "BargainingError",
    "BargainingResult",
    "Deu3",
    "MODELS",
    "ALIASES",
    "expected_utility",
    "fitted",
    "load_deu3",
    "mean",
    "median",
    "model_function",
    "nash",
    "predict",
    "read_actors",
    "weighted_mean",
    "weighted_median",
]

#: canonical model name -> ``predict`` function
MODELS: dict[str, Callable[..., BargainingResult]] = {
    "weighted_mean": mean.predict,
    "weighted_median": median.predict,
    "nash_bargaining": nash.predict,
    "bdm_expected_utility": expected_utility.predict,
    "cv_fitted": fitted.predict,
}

#: short names accepted by the CLI and :func:`predict`
ALIASES: dict[str, str] = {
    "mean": "weighted_mean",
    "median": "weighted_median",
    "nash": "nash_bargaining",
    "bdm": "bdm_expected_utility",
    "eu": "bdm_expected_utility",
    "expected_utility": "bdm_expected_utility",
    "scholz": "bdm_expected_utility",
    "fitted": "cv_fitted",
}


def model_function(name: str) -> Callable[..., BargainingResult]:
    """The ``predict`` function of a model given its name or alias."""
    canonical = ALIASES.get(name, name)
    check_model_name(canonical, {**MODELS, **ALIASES})
    return MODELS[canonical]


def predict(actors: Actors, *, model: str = "bdm_expected_utility", **options) -> BargainingResult:
    """Run one model by name (see :data:`MODELS` and :data:`ALIASES`) with its options."""
    return model_function(model)(actors, **options)
