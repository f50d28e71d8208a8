"""Bundled evaluation data: the DEU III data set of EU legislative decisions.

The copy under ``redline/data/deu3/`` is read with :mod:`importlib.resources`, so the benchmark
works offline. See ``redline/data/deu3/README.md`` for provenance and licence (CC BY 4.0,
Arregui & Perarnaud, doi:10.34810/data53).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

from redline.bargaining._core import Actors

__all__ = ["Deu3", "load_deu3"]

_FIRST_POSITION, _N_ACTORS = 13, 30


@dataclass(frozen=True)
class Deu3:
    """DEU III issues with an observed outcome.

    Attributes
    ----------
    actors : Actors
        Positions (0-100, ``NaN`` where an actor holds none), saliences (0-100 rescaled to 0-1),
        capabilities (the file's GDP row, the same for every issue) and status quo (``rp``).
    outcome : ndarray, shape (issues,)
        The decision outcome on the issue's 0-100 scale.
    issue_ids, proposal_ids : tuple of str
        ``isnr`` and ``prnr`` per issue (proposals group issues for cross-validation).
    procedure : tuple of str
        ``COD`` or ``CNS`` per issue.
    """

    actors: Actors
    outcome: np.ndarray
    issue_ids: tuple[str, ...]
    proposal_ids: tuple[str, ...]
    procedure: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.outcome)

    @property
    def commission(self) -> np.ndarray:
        """The Commission's position per issue (``NaN`` where it has none)."""
        return self.actors.positions[:, self.actors.names.index("com")]


def _float(text: str) -> float:
    return float(text) if text.strip() else np.nan


def load_deu3(*, with_outcome: bool = True) -> Deu3:
    """Load DEU III (Arregui & Perarnaud 2022, doi:10.1080/13501763.2021.1991983).

    Parameters
    ----------
    with_outcome : bool
        Keep only the 353 issues with a recorded outcome (default) or all 364.

    Returns
    -------
    Deu3
    """
    raw = resources.files("redline").joinpath("data", "deu3", "deu3.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(raw), delimiter="\t", quotechar='"'))
    header = rows[0]
    pcols = range(_FIRST_POSITION, _FIRST_POSITION + _N_ACTORS)
    scols = range(_FIRST_POSITION + _N_ACTORS, _FIRST_POSITION + 2 * _N_ACTORS)
    names = tuple(header[k][1:] for k in pcols)
    gdp = np.array([_float(rows[1][k]) for k in pcols])  # line 2 is the capability row
    body = rows[2:]
    pos = np.array([[_float(r[k]) for k in pcols] for r in body])
    sal = np.array([[_float(r[k]) for k in scols] for r in body]) / 100.0
    i_rp, i_out = header.index("rp"), header.index("out")
    rp = np.array([_float(r[i_rp]) for r in body])
    out = np.array([_float(r[i_out]) for r in body])
    keep = ~np.isnan(out) if with_outcome else np.ones(len(body), bool)
    sal = np.where(np.isnan(pos), 0.0, np.nan_to_num(sal))
    actors = Actors.from_arrays(pos[keep], sal[keep], np.broadcast_to(gdp, pos[keep].shape),
                                status_quo=rp[keep], names=names, source="DEU III")
    col = {h: k for k, h in enumerate(header)}
    pick = [r for r, k in zip(body, keep) if k]
    return Deu3(actors, out[keep], tuple(r[col["isnr"]] for r in pick),
                tuple(r[col["prnr"]] for r in pick), tuple(r[col["proc"]] for r in pick))
