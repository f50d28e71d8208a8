"""Enrichment arithmetic: the value function, separative work and the two mass balances.

All assays are **mass fractions of U-235** in uranium (0.00711 for natural uranium, 0.9 for
weapon-grade), all masses are kg of uranium (not UF6). Every function broadcasts over numpy
arrays, so the same code serves one hand calculation and 10,000 simulated runs.

References
----------
Benedict, M., Pigford, T. H. & Levi, H. W. (1981). *Nuclear Chemical Engineering*, 2nd ed.,
McGraw-Hill, ch. 12 (value function and separative work).
Glaser, A. (2008). Characteristics of the gas centrifuge for uranium enrichment and their
relevance for nuclear weapon proliferation. *Science & Global Security* 16(1-2), 1-25.
doi:10.1080/08929880802335998
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from redline.errors import ParameterError

__all__ = [
    "NATURAL_ASSAY",
    "UF6_TO_U",
    "value_function",
    "feed_per_product",
    "swu_per_product",
    "separative_work",
    "EnrichmentBalance",
    "solve_enrichment",
]

#: U-235 mass fraction of natural uranium, 0.711 wt% (0.720 atom%). Benedict et al. (1981),
#: table 12.1; the issue's check values use the same figure.
NATURAL_ASSAY = 0.00711

#: kg of uranium per kg of UF6: M(U) / M(UF6) = 238.03 / 352.02 = 0.6762 (standard atomic
#: weights, IUPAC; natural-uranium molar mass; the error for enriched uranium is < 0.1%).
#: This is the factor the IAEA's JCPOA reports use between "300 kg UF6" and "202.8 kg U".
UF6_TO_U = 238.03 / 352.02


def value_function(assay: ArrayLike) -> np.ndarray:
    """Value function of an assay, ``V(x) = (2x - 1) ln(x / (1 - x))``.

    Parameters
    ----------
    assay : array_like
        U-235 mass fraction, strictly between 0 and 1.

    Returns
    -------
    numpy.ndarray
        Dimensionless value; symmetric, ``V(x) == V(1 - x)``, and zero at ``x = 0.5``.

    References
    ----------
    Benedict, Pigford & Levi (1981), eq. 12.61.
    """
    x = np.asarray(assay, dtype=float)
    return (2.0 * x - 1.0) * np.log(x / (1.0 - x))


def feed_per_product(product_assay: ArrayLike, feed_assay: ArrayLike,
                     tails_assay: ArrayLike) -> np.ndarray:
    """kg of feed per kg of product, ``F/P = (xp - xt) / (xf - xt)``, from the two mass balances.

    ``F = P + T`` (uranium) and ``F xf = P xp + T xt`` (U-235).
    """
    xp, xf, xt = (np.asarray(a, dtype=float) for a in (product_assay, feed_assay, tails_assay))
    return (xp - xt) / (xf - xt)


def swu_per_product(product_assay: ArrayLike, feed_assay: ArrayLike,
                    tails_assay: ArrayLike) -> np.ndarray:
    """Separative work (kg-SWU) per kg of product.

    ``SWU/P = V(xp) + (T/P) V(xt) - (F/P) V(xf)`` with ``T/P = F/P - 1``.

    Examples
    --------
    >>> round(float(swu_per_product(0.90, NATURAL_ASSAY, 0.003)), 1)
    192.9
    """
    fp = feed_per_product(product_assay, feed_assay, tails_assay)
    return (value_function(product_assay) + (fp - 1.0) * value_function(tails_assay)
            - fp * value_function(feed_assay))


def separative_work(product_kg: ArrayLike, product_assay: ArrayLike, feed_assay: ArrayLike,
                    tails_assay: ArrayLike) -> np.ndarray:
    """Separative work in kg-SWU, ``SWU = P V(xp) + T V(xt) - F V(xf)``.

    Parameters
    ----------
    product_kg : array_like
        Mass of product, kg U.
    product_assay, feed_assay, tails_assay : array_like
        U-235 mass fractions with ``tails < feed < product``.

    Returns
    -------
    numpy.ndarray
        kg-SWU (non-negative whenever ``tails <= feed <= product``).
    """
    return np.asarray(product_kg, dtype=float) * swu_per_product(product_assay, feed_assay,
                                                                 tails_assay)


@dataclass(frozen=True)
class EnrichmentBalance:
    """One enrichment operation with every stream solved: masses in kg U, assays as fractions."""

    feed_kg: float
    product_kg: float
    tails_kg: float
    feed_assay: float
    product_assay: float
    tails_assay: float
    swu: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _check_assay(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ParameterError(f"{name} must be a U-235 fraction strictly between 0 and 1, got {value}")


def solve_enrichment(*, feed_kg: float | None = None, product_kg: float | None = None,
                     tails_kg: float | None = None, feed_assay: float | None = None,
                     product_assay: float | None = None, tails_assay: float | None = None,
                     swu: float | None = None) -> EnrichmentBalance:
    """Solve an enrichment operation for its unknowns from the two mass balances and SWU.

    Give either

    * all three assays and exactly one of ``feed_kg``, ``product_kg``, ``tails_kg``, ``swu``; or
    * two of the three masses and two of the three assays (the missing mass and assay follow
      from ``F = P + T`` and ``F xf = P xp + T xt``).

    Returns
    -------
    EnrichmentBalance
        All seven quantities.

    Raises
    ------
    ParameterError
        Inconsistent or under-determined input (e.g. tails not below feed, negative masses).
    """
    masses = {"feed_kg": feed_kg, "product_kg": product_kg, "tails_kg": tails_kg}
    assays = {"feed_assay": feed_assay, "product_assay": product_assay, "tails_assay": tails_assay}
    for name, value in masses.items():
        if value is not None and value < 0:
            raise ParameterError(f"{name} must be non-negative, got {value}")
    if swu is not None and swu < 0:
        raise ParameterError(f"swu must be non-negative, got {swu}")
    for name, value in assays.items():
        if value is not None:
            _check_assay(name, value)
    known_masses = [k for k, v in masses.items() if v is not None]
    known_assays = [k for k, v in assays.items() if v is not None]

    if len(known_assays) == 3:
        xf, xp, xt = feed_assay, product_assay, tails_assay
        if not xt < xf < xp:
            raise ParameterError(f"need tails < feed < product assay, got tails {xt}, feed {xf}, "
                                 f"product {xp}")
        given = known_masses + (["swu"] if swu is not None else [])
        if len(given) != 1:
            raise ParameterError("with all three assays give exactly one of feed_kg, product_kg, "
                                 f"tails_kg, swu (got {', '.join(given) or 'none'})")
        fp = float(feed_per_product(xp, xf, xt))
        per_p = float(swu_per_product(xp, xf, xt))
        if product_kg is not None:
            p = product_kg
        elif feed_kg is not None:
            p = feed_kg / fp
        elif tails_kg is not None:
            p = tails_kg / (fp - 1.0)
        else:
            p = swu / per_p
        return EnrichmentBalance(p * fp, p, p * (fp - 1.0), xf, xp, xt, p * per_p)

    if len(known_assays) == 2 and len(known_masses) == 2 and swu is None:
        f, p, t = feed_kg, product_kg, tails_kg
        if f is None:
            f = p + t
        elif p is None:
            p = f - t
        else:
            t = f - p
        if min(f, p, t) < 0 or f == 0:
            raise ParameterError(f"masses do not balance: feed {f} kg, product {p} kg, tails {t} kg")
        xf, xp, xt = feed_assay, product_assay, tails_assay
        try:
            if xf is None:
                xf = (p * xp + t * xt) / f
            elif xp is None:
                xp = (f * xf - t * xt) / p
            else:
                xt = (f * xf - p * xp) / t
        except ZeroDivisionError:
            raise ParameterError("cannot solve an assay of a stream with zero mass") from None
        for name, value in (("feed_assay", xf), ("product_assay", xp), ("tails_assay", xt)):
            _check_assay(name, value)
        if not xt < xf < xp:
            raise ParameterError(f"solved assays are not ordered tails < feed < product: "
                                 f"{xt:.6g} < {xf:.6g} < {xp:.6g}")
        return EnrichmentBalance(f, p, t, xf, xp, xt, float(separative_work(p, xp, xf, xt)))

    raise ParameterError("give three assays and one of feed_kg/product_kg/tails_kg/swu, "
                         "or two masses and two assays")
