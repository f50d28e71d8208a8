"""Bueno de Mesquita's expected-utility group decision model, as reconstructed by Scholz et al.

Each round, every actor ``i`` weighs a challenge against every other actor ``j``; from the signs
and sizes of the two expected utilities it may receive an offer from ``j`` (confrontation,
compromise or capitulation), accepts at most one, and all actors move at once. The forecast is the
salience × capability weighted median of the positions after the last round.

References
----------
Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In B. Bueno de
Mesquita & F. Stokman (eds.), *European Community Decision Making*, Yale UP, ch. 4, pp. 71-104.

Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno De Mesquita's group
decision model. *Journal of Theoretical Politics* 23(4): 510ff.

Notes
-----
Every pairwise quantity is an array ``(batch, actors, actors)``; the loop runs over rounds only.
The challenge probability needs, for every ordered pair, a sum over all voters. Because in one
dimension voter ``k`` prefers ``i`` to ``j`` exactly when it sits on ``i``'s side of their
midpoint, whatever its risk exponent, those sums are prefix sums over voters sorted by position,
which makes a round O(actors²) per issue instead of O(actors³).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from redline.bargaining._core import Actors, BargainingError, BargainingResult, weighted_mean, weighted_median

__all__ = ["predict", "expected_utilities", "risk_exponents"]

_CHUNK_ELEMENTS = 2 * 10**6
"""Pairwise (n x n) array elements per batch chunk: about 16 MB of float64 per array."""

_PROBABILITY = ("all_pairs", "pair")
_COMPROMISE = ("scholz", "strongest", "least_move")


def _utility(gap: np.ndarray, r: np.ndarray) -> np.ndarray:
    """BDM's risk-adjusted utility ``2 - 4 * gap ** r`` of a point ``gap`` in [0, 1] away."""
    return 2.0 - 4.0 * np.power(np.clip(gap, 0.0, None), r)


def _challenge_probabilities(x, w, rv, delta, present, normalisation):
    """``P[b, i, j]``: probability that ``i`` beats ``j`` if the pair goes to a vote.

    Voter ``k`` casts ``w_k * (d_kj ** rv_k - d_ki ** rv_k)`` with ``d = |x_k - x| / delta``
    (Scholz et al. 2011, eq. 4); ``P_ij`` is the sum of the votes for ``i`` over either the sum of
    the absolute votes on this pair (``"pair"``, the paper) or over every ordered pair
    (``"all_pairs"``, the normalisation of Scholz's own code, which makes P tiny).
    """
    batch, n = x.shape
    dist = np.abs(x[:, :, None] - x[:, None, :]) / delta[:, None, None]  # [b, k, a]
    a = np.power(dist, rv[:, :, None]) * w[:, :, None]  # weighted disutility of a for voter k
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    prefix = np.zeros((batch, n + 1, n))
    np.cumsum(np.take_along_axis(a, order[:, :, None], axis=1), axis=1, out=prefix[:, 1:, :])
    total = prefix[:, -1, :]  # [b, a]
    mid = 0.5 * (x[:, :, None] + x[:, None, :])
    flat_mid = mid.reshape(batch, n * n)
    below = np.empty((batch, n * n), dtype=np.intp)
    upto = np.empty((batch, n * n), dtype=np.intp)
    for b in range(batch):  # searchsorted has no batch axis; this is O(n² log n) per row
        below[b] = np.searchsorted(xs[b], flat_mid[b], side="left")
        upto[b] = np.searchsorted(xs[b], flat_mid[b], side="right")
    below = below.reshape(batch, n, n)
    upto = upto.reshape(batch, n, n)
    # G[b, i, j] = prefix[b, p[b, i, j], j]; p is symmetric so the i-column sum is its transpose
    g_below = np.take_along_axis(prefix, below, axis=1)
    g_upto = np.take_along_axis(prefix, upto, axis=1)
    lin = total[:, None, :] - total[:, :, None]  # sum_k w_k (A_kj - A_ki)
    left = g_below - g_below.transpose(0, 2, 1)  # voters strictly left of the midpoint
    right = lin - (g_upto - g_upto.transpose(0, 2, 1))  # voters strictly right of it
    i_left = x[:, :, None] < x[:, None, :]
    votes_for_i = np.where(i_left, left, right)
    votes_for_i = np.where(x[:, :, None] == x[:, None, :], 0.0, votes_for_i)
    votes_for_i = np.clip(votes_for_i, 0.0, None)
    votes_abs = np.clip(2.0 * votes_for_i - lin, 0.0, None)
    pair = present[:, :, None] & present[:, None, :]
    votes_for_i = np.where(pair, votes_for_i, 0.0)
    votes_abs = np.where(pair, votes_abs, 0.0)
    if normalisation == "pair":
        denom = votes_abs
    else:
        denom = np.broadcast_to(votes_abs.sum(axis=(1, 2))[:, None, None], votes_abs.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, votes_for_i / denom, 0.0)


def expected_utilities(x, s, w, r, delta, present, *, q=1.0, t=1.0, reference=None,
                       voter_risk=True, probability="all_pairs"):
    """Expected utilities of challenges, from each actor's point of view.

    Parameters
    ----------
    x, s, w, r : ndarray, shape (batch, actors)
        Current positions, saliences, salience × capability weights and risk exponents.
    delta : ndarray, shape (batch,)
        Width of the issue (max - min of the initial positions).
    present : ndarray of bool, shape (batch, actors)
    q, t : float
        Probability that the status quo persists absent a challenge, and that an unchallenged
        change would move towards ``i``.
    reference : ndarray, shape (batch,), optional
        Expected policy (weighted median) used in the ``q < 1`` terms.

    Returns
    -------
    eu_ij, eu_ji : ndarray, shape (batch, actors, actors)
        ``eu_ij[b, i, j]`` is ``i``'s expected utility of challenging ``j``; ``eu_ji[b, i, j]`` is
        ``j``'s expected utility of challenging ``i`` as ``i`` estimates it (with ``r_i``).
        Scholz et al. (2011), eqs. 1-3:
        ``EU_i(ij) = s_j [P_ij U_s + (1 - P_ij) U_f] + (1 - s_j) U_s - Q U_sq - (1 - Q)[T U_b + (1 - T) U_w]``.
    """
    rv = r if voter_risk else np.ones_like(r)
    p = _challenge_probabilities(x, w, rv, delta, present, probability)
    gap = np.abs(x[:, :, None] - x[:, None, :]) / delta[:, None, None]
    ri = r[:, :, None]
    u_s = _utility(0.5 - 0.5 * gap, ri)
    u_f = _utility(0.5 + 0.5 * gap, ri)
    u_sq = _utility(np.full_like(ri, 0.5), ri)
    eu_ij = s[:, None, :] * (p * u_s + (1 - p) * u_f) + (1 - s[:, None, :]) * u_s - q * u_sq
    eu_ji = s[:, :, None] * (p.transpose(0, 2, 1) * u_s + (1 - p.transpose(0, 2, 1)) * u_f) \
        + (1 - s[:, :, None]) * u_s - q * u_sq
    if q < 1.0:
        if reference is None:
            reference = weighted_median(np.where(present, x, np.nan), w)
        to_ref = np.abs(x - reference[:, None]) / delta[:, None]  # [b, a]
        spread_i = 0.25 * (to_ref[:, :, None] + gap)  # i's better/worse-off terms
        spread_j = 0.25 * (to_ref[:, None, :] + gap)
        u_b_i, u_w_i = _utility(0.5 - spread_i, ri), _utility(0.5 + spread_i, ri)
        u_b_j, u_w_j = _utility(0.5 - spread_j, ri), _utility(0.5 + spread_j, ri)
        eu_ij = eu_ij - (1 - q) * (t * u_b_i + (1 - t) * u_w_i)
        eu_ji = eu_ji - (1 - q) * (t * u_b_j + (1 - t) * u_w_j)
    pair = present[:, :, None] & present[:, None, :]
    eye = np.eye(x.shape[1], dtype=bool)[None]
    keep = pair & ~eye
    return np.where(keep, eu_ij, 0.0), np.where(keep, eu_ji, 0.0)


def risk_exponents(x, s, w, delta, present, *, q=1.0, t=1.0, reference=None, probability="all_pairs"):
    """Risk exponents ``r_i`` in [0.5, 2] from each actor's exposure to challenges.

    With every ``r = 1``, the danger of ``i`` is ``D_i = sum_j EU_j(ji)``;
    ``R_i = (2 D_i - D_max - D_min) / (D_max - D_min)`` and ``r_i = (1 - R_i/3) / (1 + R_i/3)``
    (Bueno de Mesquita 1994, p. 80; Scholz et al. 2011, eq. 6). The most threatened actor is
    risk-acceptant (r = 0.5), the safest risk-averse (r = 2).
    """
    ones = np.ones_like(x)
    _, eu_ji = expected_utilities(x, s, w, ones, delta, present, q=q, t=t, reference=reference,
                                  voter_risk=False, probability=probability)
    danger = eu_ji.sum(axis=2)
    d_max = np.where(present, danger, -np.inf).max(axis=1, keepdims=True)
    d_min = np.where(present, danger, np.inf).min(axis=1, keepdims=True)
    span = d_max - d_min
    with np.errstate(invalid="ignore", divide="ignore"):
        big_r = np.where(span > 0, (2 * danger - d_max - d_min) / span, 0.0)
    r = (1 - big_r / 3) / (1 + big_r / 3)
    return np.where(present, r, 1.0)


def _one_round(x, s, w, delta, present, *, q, t, probability, voter_risk, risk, compromise,
               capitulation):
    reference = weighted_median(np.where(present, x, np.nan), w) if q < 1.0 else None
    if risk:
        r = risk_exponents(x, s, w, delta, present, q=q, t=t, reference=reference,
                           probability=probability)
    else:
        r = np.ones_like(x)
    eu_ij, eu_ji = expected_utilities(x, s, w, r, delta, present, q=q, t=t, reference=reference,
                                      voter_risk=voter_risk, probability=probability)
    xi, xj = x[:, :, None], x[:, None, :]
    confront = (eu_ji > eu_ij) & (eu_ij > 0)
    comp = (eu_ji > 0) & (eu_ij < 0) & (eu_ji > -eu_ij)
    capit = (eu_ji > 0) & (eu_ij < 0) & (eu_ji < -eu_ij) if capitulation else np.zeros_like(comp)
    with np.errstate(invalid="ignore", divide="ignore"):
        comp_pos = xi + (xj - xi) * np.abs(eu_ij / eu_ji)
    move_to_j = np.broadcast_to(xj, eu_ij.shape)
    new = x.copy()

    def nearest(mask, target):
        dist = np.where(mask, np.abs(target - xi), np.inf)
        k = np.argmin(dist, axis=2)[..., None]
        return np.take_along_axis(target, k, axis=2)[..., 0], mask.any(axis=2)

    c_pos, has_c = nearest(confront, move_to_j)
    if compromise == "least_move":
        m_pos, has_m = nearest(comp, comp_pos)
    elif compromise == "scholz":
        # The rule of Scholz's code as re-implemented by the reference (jmckib/bdm-scholz-
        # expected-utility-model, ``compromise_best_offer_key``): the offer whose EU-weighted mean
        # of the two positions, (|EU_i(ij)| x_i + |EU_j(ji)| x_j) / (|EU_i(ij)| + |EU_j(ji)|),
        # is smallest. It equals "strongest" on the worked example but not in general.
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (np.abs(eu_ij) * xi + np.abs(eu_ji) * xj) / (np.abs(eu_ij) + np.abs(eu_ji))
        key = np.where(comp, weighted, np.inf)
        m_pos = np.take_along_axis(comp_pos, np.argmin(key, axis=2)[..., None], axis=2)[..., 0]
        has_m = comp.any(axis=2)
    else:
        # Accept the compromise demanded by the most eager challenger (largest EU_j(ji)): this
        # reproduces every round of the reference reconstruction of Scholz's code, where the
        # paper's "least move" rule does not (Belgium's jump to 4.80 in round 4).
        key = np.where(comp, -np.abs(eu_ji), np.inf)
        m_pos = np.take_along_axis(comp_pos, np.argmin(key, axis=2)[..., None], axis=2)[..., 0]
        has_m = comp.any(axis=2)
    k_pos, has_k = nearest(capit, move_to_j)
    new = np.where(has_k, k_pos, new)
    new = np.where(has_m, m_pos, new)
    new = np.where(has_c, c_pos, new)
    return np.where(present, new, np.nan), r


def predict(
    actors: Actors,
    *,
    rounds: int = 10,
    q: float = 1.0,
    t: float = 1.0,
    probability: Literal["all_pairs", "pair"] = "all_pairs",
    voter_risk: bool = True,
    risk: bool = True,
    compromise: Literal["scholz", "strongest", "least_move"] = "scholz",
    capitulation: bool = False,
    forecast: Literal["median", "mean"] = "median",
    chunk_size: int | None = None,
) -> BargainingResult:
    """Run the expected-utility model for a fixed number of rounds.

    Parameters
    ----------
    actors : Actors
        Table shaped (batch, actors); the batch axis may hold issues or simulation runs.
    rounds : int
        Number of bargaining rounds (Scholz et al. 2011 stop after a fixed number).
    q : float
        Probability that the status quo persists if ``i`` does not challenge (``Q``).
    t : float
        Probability that an unchallenged change favours ``i`` (``T``); used only when ``q < 1``.
    probability : {"all_pairs", "pair"}
        Normalisation of the challenge probability: ``"pair"`` as in the paper, ``"all_pairs"`` as
        in Scholz's code (reproduces the published per-round numbers).
    voter_risk : bool
        Voters discount distance with their own risk exponent (Scholz's code) or linearly.
    risk : bool
        Compute risk exponents (Bueno de Mesquita 1994) or fix every ``r = 1``.
    compromise : {"scholz", "strongest", "least_move"}
        How an actor with several compromise offers picks one: ``"scholz"`` as Scholz's code does
        (the offer with the smallest EU-weighted mean of the two positions; the reference
        re-implementation, on the worked example and on DEU III), ``"strongest"`` the offer of the
        challenger with the largest expected utility of challenging it (agrees with Scholz's code
        on the worked example only), or ``"least_move"`` the offer that moves it least (the
        paper's text).
    capitulation : bool
        Allow the capitulation offer (never fires in Scholz's code).
    forecast : {"median", "mean"}
        Which salience × capability weighted summary of the final positions is the prediction.
    chunk_size : int, optional
        Batch rows per vectorised block (bounds memory at about ``chunk_size * actors² * 8`` bytes
        per array); default keeps arrays near 2 million elements.

    Returns
    -------
    BargainingResult
        ``prediction`` (batch,), ``rounds`` (rounds + 1, batch, actors), ``round_medians`` and
        ``round_means`` (rounds + 1, batch), and ``params`` incl. the last risk exponents.
    """
    if probability not in _PROBABILITY:
        raise BargainingError(f"probability must be one of {_PROBABILITY}, got '{probability}'")
    if compromise not in _COMPROMISE:
        raise BargainingError(f"compromise must be one of {_COMPROMISE}, got '{compromise}'")
    if forecast not in ("median", "mean"):
        raise BargainingError(f"forecast must be 'median' or 'mean', got '{forecast}'")
    if int(rounds) != rounds or rounds < 0:
        raise BargainingError(f"rounds must be a non-negative integer, got {rounds}")
    if not 0.0 <= q <= 1.0 or not 0.0 <= t <= 1.0:
        raise BargainingError(f"q and t are probabilities in [0, 1], got q={q}, t={t}")
    rounds = int(rounds)
    present = actors.present
    x0 = np.where(present, actors.positions, 0.0)
    s = actors.saliences
    w = actors.weights
    batch, n = x0.shape
    lo = np.where(present, x0, np.inf).min(axis=1)
    hi = np.where(present, x0, -np.inf).max(axis=1)
    delta = np.where(hi > lo, hi - lo, 1.0)  # a degenerate issue never moves (all gaps are 0)
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // max(n * n, 1))
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise BargainingError(f"chunk_size must be a positive integer, got {chunk_size}")
    chunk_size = int(chunk_size)
    from redline.budget import check_memory

    # the round history and the (chunk, actors, actors) pair arrays of one round, before allocating
    check_memory({"round history": 8.0 * 3 * (rounds + 1) * batch * n,
                  "pair arrays": 8.0 * 12 * min(chunk_size, batch) * n * n},
                 f"the expected-utility model ({rounds} rounds, {batch:,} issues × {n} actors)",
                 "lower rounds or chunk_size")
    history = np.full((rounds + 1, batch, n), np.nan)
    history[0] = np.where(present, x0, np.nan)
    last_r = np.ones((batch, n))
    for start in range(0, batch, chunk_size):
        sl = slice(start, start + chunk_size)
        x = x0[sl]
        for k in range(1, rounds + 1):
            x_new, r = _one_round(x, s[sl], w[sl], delta[sl], present[sl], q=q, t=t,
                                  probability=probability, voter_risk=voter_risk, risk=risk,
                                  compromise=compromise, capitulation=capitulation)
            history[k, sl] = x_new
            last_r[sl] = r
            x = np.where(present[sl], x_new, 0.0)
    medians = weighted_median(history, w[None])
    means = weighted_mean(history, w[None])
    prediction = medians[-1] if forecast == "median" else means[-1]
    params = dict(rounds=rounds, q=q, t=t, probability=probability, voter_risk=voter_risk,
                  risk=risk, compromise=compromise, capitulation=capitulation, forecast=forecast)
    return BargainingResult("bdm_expected_utility", prediction, history, medians, means, params,
                            {"risk_exponents": last_r})
