"""Shared containers and vectorised helpers of the bargaining models.

Every model takes an :class:`Actors` table whose arrays are shaped ``(batch, actors)``. The
leading axis is only a batch axis: it holds issues when a data set is benchmarked, or simulation
runs when one decision is re-evaluated in every run. An actor that takes no part in one batch row
(e.g. a member state that had not joined the EU when a proposal was discussed) has a ``NaN``
position there; the models give it zero weight.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redline.errors import ParameterError, did_you_mean

__all__ = [
    "Actors",
    "BargainingError",
    "BargainingResult",
    "weighted_mean",
    "weighted_median",
]


class BargainingError(ParameterError):
    """An actors table or a model option that the bargaining models cannot use."""


@dataclass(frozen=True)
class Actors:
    """Positions, saliences and capabilities of actors on one or more issues.

    Parameters
    ----------
    positions : ndarray, shape (batch, actors)
        Ideal points on the issue scale (any units). ``NaN`` marks an actor absent from a row.
    saliences : ndarray, shape (batch, actors)
        How much each actor cares, in [0, 1].
    capabilities : ndarray, shape (batch, actors)
        Clout (votes, GDP, seats...), non-negative; only ratios matter.
    status_quo : ndarray, shape (batch,), optional
        The outcome if no agreement is reached (``NaN`` where unknown).
    names : tuple of str
        Actor names, one per column.
    """

    positions: np.ndarray
    saliences: np.ndarray
    capabilities: np.ndarray
    status_quo: np.ndarray | None = None
    names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_arrays(
        cls,
        positions,
        saliences,
        capabilities,
        status_quo=None,
        names=None,
        **meta: Any,
    ) -> Actors:
        """Build a validated table, promoting 1-D inputs to one batch row.

        ``capabilities`` and ``saliences`` broadcast against ``positions`` (e.g. one GDP row for
        every issue). Raises :class:`BargainingError` on shapes or values the models cannot use.
        """
        pos = np.atleast_2d(np.asarray(positions, dtype=float))
        if pos.ndim != 2:
            raise BargainingError(f"positions must be shaped (batch, actors), got {pos.shape}")
        try:
            sal = np.broadcast_to(np.asarray(saliences, dtype=float), pos.shape).copy()
            cap = np.broadcast_to(np.asarray(capabilities, dtype=float), pos.shape).copy()
        except ValueError as err:
            raise BargainingError(f"saliences/capabilities do not match positions {pos.shape}: {err}") from None
        present = ~np.isnan(pos)
        sal[~present] = 0.0
        cap[~present] = 0.0
        if np.isnan(sal).any() or np.isnan(cap).any():
            raise BargainingError("salience or capability is NaN for an actor that holds a position")
        if (sal < 0).any() or (sal > 1).any():
            raise BargainingError("saliences must lie in [0, 1]")
        if (cap < 0).any():
            raise BargainingError("capabilities must be non-negative")
        sq = None
        if status_quo is not None:
            sq = np.broadcast_to(np.asarray(status_quo, dtype=float), pos.shape[:1]).copy()
        if names is None:
            names = tuple(f"actor{k + 1}" for k in range(pos.shape[1]))
        names = tuple(str(n) for n in names)
        if len(names) != pos.shape[1]:
            raise BargainingError(f"{len(names)} names for {pos.shape[1]} actors")
        return cls(pos, sal, cap, sq, names, dict(meta))

    @property
    def present(self) -> np.ndarray:
        """Boolean mask ``(batch, actors)`` of actors holding a position."""
        return ~np.isnan(self.positions)

    @property
    def weights(self) -> np.ndarray:
        """Salience × capability, the effective power of each actor (zero where absent)."""
        return self.saliences * self.capabilities

    @property
    def shape(self) -> tuple[int, int]:
        return self.positions.shape  # type: ignore[return-value]

    def take(self, rows) -> Actors:
        """Return the table restricted to some batch rows (e.g. a cross-validation fold)."""
        sq = None if self.status_quo is None else self.status_quo[rows]
        return Actors(self.positions[rows], self.saliences[rows], self.capabilities[rows], sq,
                      self.names, self.meta)


@dataclass(frozen=True)
class BargainingResult:
    """What every model returns.

    Attributes
    ----------
    model : str
        Model name.
    prediction : ndarray, shape (batch,)
        Predicted outcome per issue (or per run).
    rounds : ndarray, shape (rounds + 1, batch, actors), optional
        Actor positions after each round, round 0 being the input (round-based models only).
    round_medians, round_means : ndarray, shape (rounds + 1, batch), optional
        Salience × capability weighted median and mean of the positions after each round.
    params : dict
        The parameter values the model used.
    diagnostics : dict
        Model-specific extras (e.g. the last round's risk exponents), arrays.
    """

    model: str
    prediction: np.ndarray
    rounds: np.ndarray | None = None
    round_medians: np.ndarray | None = None
    round_means: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """A JSON-ready summary (lists, not arrays)."""
        out: dict[str, Any] = {"model": self.model, "prediction": self.prediction.tolist(),
                               "params": dict(self.params)}
        if self.rounds is not None:
            hist = []
            for r in range(self.rounds.shape[0]):
                entry: dict[str, Any] = {"round": r}
                if self.round_medians is not None:
                    entry["median"] = self.round_medians[r].tolist()
                if self.round_means is not None:
                    entry["mean"] = self.round_means[r].tolist()
                pos = self.rounds[r]
                if names:
                    entry["positions"] = [dict(zip(names, row.tolist())) for row in pos]
                else:
                    entry["positions"] = pos.tolist()
                hist.append(entry)
            out["rounds"] = hist
        return out


def _as_weights(positions: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    present = ~np.isnan(positions)
    w = np.where(present, np.nan_to_num(weights), 0.0)
    return np.where(present, positions, 0.0), w


def weighted_mean(positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean along the last axis, ignoring ``NaN`` positions.

    The "compromise model" of Achen (2006), in Thomson et al. (eds.), *The European Union
    Decides*, Cambridge UP, ch. 4, when ``weights`` = salience × capability.
    Rows with zero total weight give ``NaN``.
    """
    x, w = _as_weights(positions, weights)
    total = w.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (x * w).sum(axis=-1) / total, np.nan)


def weighted_median(positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Lower weighted median along the last axis, ignoring ``NaN`` positions.

    The smallest position ``x`` such that actors at positions ``<= x`` hold at least half of the
    total weight; on one dimension this is the weighted Condorcet winner (Black 1948, "On the
    rationale of group decision-making", J. Political Economy 56(1), doi:10.1086/256633).
    """
    x, w = _as_weights(positions, weights)
    x = np.where(w > 0, x, np.inf)  # weightless actors sort last and never become the median
    order = np.argsort(x, axis=-1, kind="stable")
    xs = np.take_along_axis(x, order, axis=-1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    total = cum[..., -1:]
    # tolerance so that an exact half (e.g. two equal actors) picks the lower one, as documented
    idx = np.argmax(cum >= 0.5 * total * (1 - 1e-12), axis=-1)[..., None]
    med = np.take_along_axis(xs, idx, axis=-1)[..., 0]
    return np.where(total[..., 0] > 0, med, np.nan)


def check_model_name(name: str, known: dict[str, Any]) -> None:
    """Raise a :class:`BargainingError` suggesting the nearest model name."""
    if name not in known:
        raise BargainingError(f"unknown bargaining model '{name}'{did_you_mean(name, known)}; "
                              f"known: {', '.join(sorted(known))}")
