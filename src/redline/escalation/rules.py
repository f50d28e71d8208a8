"""The week's choice rules, shared by the vectorised engine and the reference interpreter.

Both interpreters call these functions (the engine with one value per run, the reference with
Python floats), so edge cases cannot drift apart:

* a scripted probability is clipped to ``[0, 1]``; NaN counts as 0 (the action is not taken);
  when a track's probabilities sum past 1 they are renormalised (a red line's graded responses
  are always renormalised, with equal shares when all are 0);
* an expected utility that is NaN counts as 0; ±inf is bounded to ±:data:`UTILITY_BOUND`, so an
  infinitely attractive action stays the most attractive one instead of becoming neutral;
* the logit rationality λ is sanitised the same way (NaN -> 0: a uniform choice);
* logit weights are the quantal response P(a) ∝ exp(λ U(a)) over the available options and a
  'do nothing' option at U = 0 (McKelvey & Palfrey 1995, Games Econ. Behav. 10(1),
  doi:10.1006/game.1995.1023), computed with the maximum subtracted so large λU neither
  overflows nor saturates.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["UTILITY_BOUND", "scripted_weights", "sanitise_utility", "logit_weights", "sum_in_order"]

UTILITY_BOUND = 1e6
"""Largest magnitude an expected utility (or a rationality) may take after sanitising."""


def sanitise_utility(value):
    """NaN -> 0, ±inf -> ±UTILITY_BOUND; finite values pass unchanged (arrays or floats)."""
    if type(value) is np.ndarray and value.dtype == np.float64 and np.isfinite(value).all():
        return value  # the usual case, at a fraction of nan_to_num's cost
    if isinstance(value, float) and math.isfinite(value):
        return value  # a number (np.float64 is a float): nan_to_num would give it back as np.float64
    return np.nan_to_num(value, nan=0.0, posinf=UTILITY_BOUND, neginf=-UTILITY_BOUND)


def sum_in_order(arrays: Sequence):
    """The sum of ``arrays`` (at least one), added one after another from the first: the numbers
    np.sum over the stacked options gives, without stacking them."""
    total = arrays[0]
    for a in arrays[1:]:
        total = total + a
    return total


def scripted_weights(probabilities: Sequence, available: Sequence | None = None, *, renormalise: bool = False):
    """Choice weights of one track of a scripted policy.

    ``probabilities[i]`` is option *i*'s probability, ``available[i]`` whether it may be taken
    (None: all may). Each probability is clipped to [0, 1] with NaN as 0; unavailable options
    weigh 0; a track whose weights sum past 1 is scaled to sum to 1. ``renormalise``: always scale
    to a total of 1, with equal shares when every weight is 0 (a red line's graded responses).
    """
    weights = [np.fmin(np.fmax(p, 0.0), 1.0) for p in probabilities]  # fmax/fmin: NaN -> 0
    if available is not None:
        # Clipped weights are finite, so a product with the mask is the same as np.where (cheaper).
        weights = [np.multiply(w, ok) for w, ok in zip(weights, available)]
    if not weights:
        return []
    total = sum_in_order(weights)
    if renormalise:
        empty = total <= 0
        return [np.where(empty, 1.0 / len(weights), w / np.where(empty, 1.0, total)) for w in weights]
    if not np.any(total > 1.0):  # the usual case: nothing to scale (w * 1.0 is w)
        return weights
    scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
    return [w * scale for w in weights]


def logit_weights(rationality, utilities: Sequence, available: Sequence | None = None, *, nothing: bool = True):
    """Quantal-response weights of one track; with ``nothing`` the remainder to 1 is 'do nothing'
    (utility 0), without it one option is always chosen (a red line's graded responses)."""
    lam = sanitise_utility(rationality)
    scores = [lam * sanitise_utility(u) for u in utilities]
    if available is not None:
        scores = [np.where(ok, s, -np.inf) for s, ok in zip(scores, available)]
    if not scores:
        return []
    if nothing and len(scores) == 1:
        return [_one_against_nothing(scores[0])]
    top = scores[0]
    for s in scores[1:]:  # the maximum over options, as np.max over the stacked options
        top = np.maximum(top, s)
    if nothing:
        top = np.maximum(top, 0.0)  # 0: the 'do nothing' option
    exps = [np.exp(s - top) for s in scores]
    total = sum_in_order(exps)
    denom = (np.exp(-top) if nothing else 0.0) + total
    return [e / denom for e in exps]


def _one_against_nothing(score):
    """The logit weight of a lone option with score ``score`` (λU, or -inf where unavailable)
    against 'do nothing' at 0: exp(s − m) / (exp(−m) + exp(s − m)) with m = max(s, 0), the
    general formula's numbers with one exponential instead of two. Of exp(s − m) and exp(−m)
    one is exp(0) = 1 and the other exp(−|s|): for s ≥ 0 the weight is 1 / (exp(−s) + 1), for
    s < 0 it is exp(s) / (1 + exp(s)) (s − 0 and −0 are exact, and addition commutes). Scores
    are finite or -inf (sanitised utilities times a sanitised rationality)."""
    tail = np.exp(-np.abs(score))
    return np.where(score >= 0, 1.0, tail) / (1.0 + tail)
