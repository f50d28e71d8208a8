"""Salience × capability weighted median: the weighted median voter.

References
----------
Black, D. (1948). On the rationale of group decision-making. *Journal of Political Economy*
56(1): 23-34. doi:10.1086/256633.

Achen, C. H. (2006). Institutional realism and bargaining models. In Thomson et al. (eds.),
*The European Union Decides*, Cambridge UP, ch. 4 (the weighted median as a benchmark).
"""
from __future__ import annotations

from redline.bargaining._core import Actors, BargainingResult, weighted_median
from redline.bargaining.mean import power_weights

__all__ = ["predict"]


def predict(actors: Actors, *, salience_power: float = 1.0, capability_power: float = 1.0) -> BargainingResult:
    """Predict the lower weighted median of positions, weights ``s_i^a c_i^b``.

    The lower weighted median is the smallest position ``x`` such that actors at ``<= x`` hold
    at least half the weight; on one dimension it beats every other position in pairwise
    weighted votes (Black 1948).

    Returns
    -------
    BargainingResult
        ``prediction`` shaped (batch,); no rounds.
    """
    w = power_weights(actors, salience_power, capability_power)
    return BargainingResult("weighted_median", weighted_median(actors.positions, w),
                            params=dict(salience_power=salience_power, capability_power=capability_power))
