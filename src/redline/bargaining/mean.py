"""Salience × capability weighted mean: the "compromise model".

References
----------
Achen, C. H. (2006). Institutional realism and bargaining models. In R. Thomson, F. N. Stokman,
C. H. Achen & T. König (eds.), *The European Union Decides*, Cambridge UP, ch. 4, pp. 86-123.
(Derived there as the approximate Nash bargaining solution with
quadratic utilities; the strongest simple benchmark on the DEU data.)
"""
from __future__ import annotations

import numpy as np

from redline.bargaining._core import Actors, BargainingResult, weighted_mean

__all__ = ["predict", "power_weights"]


def power_weights(actors: Actors, salience_power: float = 1.0, capability_power: float = 1.0) -> np.ndarray:
    """Weights ``s ** salience_power * c ** capability_power`` (zero for absent actors)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.power(actors.saliences, salience_power) * np.power(actors.capabilities, capability_power)
    return np.where(actors.present & (actors.weights > 0), np.nan_to_num(w), 0.0)


def predict(actors: Actors, *, salience_power: float = 1.0, capability_power: float = 1.0) -> BargainingResult:
    """Predict ``sum_i w_i x_i / sum_i w_i`` with ``w_i = s_i^a c_i^b`` (Achen 2006).

    Parameters
    ----------
    actors : Actors
        Table shaped (batch, actors).
    salience_power, capability_power : float
        Exponents ``a`` and ``b`` of the weights; 1 and 1 give the classic compromise model,
        ``b = 0`` salience-only weights.

    Returns
    -------
    BargainingResult
        ``prediction`` shaped (batch,); no rounds.
    """
    w = power_weights(actors, salience_power, capability_power)
    return BargainingResult("weighted_mean", weighted_mean(actors.positions, w),
                            params=dict(salience_power=salience_power, capability_power=capability_power))
