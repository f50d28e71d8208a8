"""Breakout: how long a fleet of centrifuges needs to turn existing stocks into significant quantities.

Model
-----
Every stock (and natural uranium, unless excluded) can feed one *step*: enrichment straight to the
product assay of the significant quantity (SQ), with a tails assay set by a global rule. A stock at
or above the product assay is blended down with natural uranium instead (no separative work). Each
step has a cost in kg-SWU per kg of product and a capacity (the product its stock can yield), so
the SWU needed for any amount of product is a fractional-knapsack problem: using the cheapest
product first (highest assays first) is optimal for every amount at once (Dantzig 1957). The fleet
works through the steps in that order after a single set-up delay (reconnecting cascades for
high-enrichment work), so

    days to the k-th SQ = setup_days + SWU(k * SQ / (1 - losses)) / (efficiency * fleet SWU per day)

and each of these days is the minimum over all orders. The scalar planner
(:func:`plan_breakout`) returns the whole plan for a reader to audit; :func:`breakout_days` computes
the first figure for many simulated runs at once and agrees with the planner to rounding.

References
----------
IAEA (2022). *IAEA Safeguards Glossary*, 2022 ed., §4.25 (significant quantity: 25 kg U-235 in
uranium enriched to 20% or more).
Glaser, A. (2008). Science & Global Security 16, 1-25, doi:10.1080/08929880802335998 (breakout
from LEU stocks; batch recycling and cascade reconfiguration).
Dantzig, G. B. (1957). Discrete-variable extremum problems. *Operations Research* 5(2), 266-288.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from redline.errors import ParameterError
from redline.nuclear.enrichment import NATURAL_ASSAY, feed_per_product, swu_per_product
from redline.spread import spread

__all__ = [
    "DAYS_PER_YEAR",
    "WEAPON_GRADE_ASSAY",
    "SignificantQuantity",
    "significant_quantity",
    "SQ_CONVENTIONS",
    "BreakoutAssumptions",
    "DEFAULT_ASSUMPTIONS",
    "BreakoutStep",
    "BreakoutPlan",
    "plan_breakout",
    "breakout_days",
]

DAYS_PER_YEAR = 365.25

#: Weapon-grade uranium, "about 90% U-235" by the usual convention (e.g. Albright & Burkhard,
#: ISIS, 21 Apr 2020: breakout = time to 25 kg of weapon-grade uranium).
WEAPON_GRADE_ASSAY = 0.90

_IAEA_GLOSSARY = ("IAEA Safeguards Glossary, 2022 edition, sec. 4.25: one significant quantity of "
                  "HEU (>= 20% U-235) is 25 kg of contained U-235")


@dataclass(frozen=True)
class SignificantQuantity:
    """The amount of material that counts as 'enough for one weapon': ``mass_kg`` of U at ``assay``."""

    name: str
    mass_kg: float
    assay: float
    description: str

    @property
    def u235_kg(self) -> float:
        return self.mass_kg * self.assay

    def to_dict(self) -> dict:
        return {"name": self.name, "mass_kg": self.mass_kg, "assay_percent": 100 * self.assay,
                "u235_kg": self.u235_kg, "description": self.description}


SQ_CONVENTIONS = ("iaea", "42kg60", "custom")


def significant_quantity(convention: str = "iaea", *, mass_kg: float | None = None,
                         assay: float | None = None) -> SignificantQuantity:
    """Return a significant-quantity convention.

    Parameters
    ----------
    convention : {"iaea", "42kg60", "custom"}
        ``"iaea"``: 25 kg of U-235 contained in weapon-grade (90%) uranium, i.e. 27.78 kg of U
        at 90% (IAEA Safeguards Glossary 2022, sec. 4.25; the Glossary's SQ counts U-235 in any
        uranium >= 20%, and analysts express it as weapon-grade uranium, e.g. ISIS 2020).
        ``"42kg60"``: 42 kg of U at 60% (25.2 kg U-235), the amount the IAEA's quarterly reports
        since 2022 call theoretically enough, if enriched further, for one explosive device
        (e.g. Reuters on the IAEA report of 15 Nov 2023). ``"custom"``: ``mass_kg`` at ``assay``.
    mass_kg, assay : float, optional
        For ``"custom"`` only: mass in kg U and U-235 fraction (0-1).
    """
    conv = convention.strip().lower()
    if conv != "custom" and (mass_kg is not None or assay is not None):
        raise ParameterError(f"a mass and assay for the significant quantity need convention "
                             f"'custom', not '{convention}'")
    if conv == "iaea":
        return SignificantQuantity("iaea", 25.0 / WEAPON_GRADE_ASSAY, WEAPON_GRADE_ASSAY,
                                   f"25 kg U-235 as 90% uranium ({_IAEA_GLOSSARY})")
    if conv == "42kg60":
        return SignificantQuantity("42kg60", 42.0, 0.60,
                                   "42 kg of 60% uranium (25.2 kg U-235): the IAEA reports' 'theoretically "
                                   "enough, if enriched further, for one nuclear explosive'")
    if conv == "custom":
        if mass_kg is None or assay is None:
            raise ParameterError("significant quantity 'custom' needs both a mass and an assay")
        if not mass_kg > 0:
            raise ParameterError(f"significant-quantity mass must be positive, got {mass_kg}")
        if not 0.0 < assay < 1.0:
            raise ParameterError(f"significant-quantity assay must be between 0 and 100%, got {100 * assay}%")
        return SignificantQuantity("custom", float(mass_kg), float(assay),
                                   f"{mass_kg:g} kg of {100 * assay:g}% uranium (user-defined)")
    raise ParameterError(f"unknown significant-quantity convention '{convention}' "
                         f"(choose one of {', '.join(SQ_CONVENTIONS)})")


@dataclass(frozen=True)
class BreakoutAssumptions:
    """The one global assumption set used for every breakout figure (no per-case tuning).

    Attributes
    ----------
    efficiency : float
        Fraction of the fleet's rated SWU delivered during breakout. 1.0 because the machine rates
        in :mod:`redline.nuclear.centrifuges` are already *observed* production rates; lower values
        represent the penalty of running LEU-designed cascades for HEU (Glaser 2008). Range 0.5-1.
    natural_tails_assay : float
        Tails assay when feeding natural uranium: 0.3%, the value of the check figures and of most
        textbook examples (Benedict et al. 1981); range 0.2-0.45% (Iran's FEP has run near 0.4%).
    enriched_tails_assay : float
        Tails assay when feeding enriched stock: stripped back to natural (0.711%), an assumption
        that keeps feed consumption low when stocks are limited; range 0.3-1.0%.
    tails_assay : float or None
        If set, used for every step instead of the two values above.
    setup_days : float
        One delay before enrichment starts, for reconnecting cascades and changing feed: 14 days,
        assumption; range 0-60. ISIS's estimates include a set-up period without a fixed figure
        (Albright, Burkhard & Stricker, ISIS, 1 June 2022).
    loss_fraction : float
        Product lost in hold-up and sampling during enrichment: 0, assumption (the IAEA's SQ already
        allows for conversion and manufacturing losses); range 0-0.05.
    natural_feed : bool
        Whether unlimited natural uranium can be fed (Iran holds tonnes of natural UF6).
    """

    efficiency: float = 1.0
    natural_tails_assay: float = 0.003
    enriched_tails_assay: float = NATURAL_ASSAY
    tails_assay: float | None = None
    setup_days: float = 14.0
    loss_fraction: float = 0.0
    natural_feed: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.efficiency <= 1.0:
            raise ParameterError(f"efficiency must be in (0, 1], got {self.efficiency}")
        for name in ("natural_tails_assay", "enriched_tails_assay", "tails_assay"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                raise ParameterError(f"{name} must be between 0 and 100%, got {100 * value}%")
        if not self.setup_days >= 0:
            raise ParameterError(f"setup_days must be non-negative, got {self.setup_days}")
        if not 0.0 <= self.loss_fraction < 1.0:
            raise ParameterError(f"loss_fraction must be in [0, 1), got {self.loss_fraction}")

    def tails_for(self, feed_assay: float) -> float | None:
        """Tails assay for a step fed at ``feed_assay``; None when the feed cannot be stripped."""
        if self.tails_assay is not None:
            return self.tails_assay if feed_assay > self.tails_assay else None
        if feed_assay > self.enriched_tails_assay:
            return self.enriched_tails_assay
        if feed_assay > self.natural_tails_assay:
            return self.natural_tails_assay
        return None

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_ASSUMPTIONS = BreakoutAssumptions()


@dataclass(frozen=True)
class _Route:
    """One way to make product: a feed stock, its tails, cost and yield."""

    feed_assay: float
    tails_assay: float | None      # None: blend-down, no enrichment
    swu_per_kg_product: float
    product_per_kg_feed: float
    natural: bool


def _route(feed_assay: float, product_assay: float, a: BreakoutAssumptions,
           natural: bool = False) -> _Route | None:
    if feed_assay >= product_assay:
        # Blend down with natural uranium: 1 kg of stock makes (xf - xn)/(xp - xn) kg of product.
        per_feed = (feed_assay - NATURAL_ASSAY) / (product_assay - NATURAL_ASSAY)
        return _Route(feed_assay, None, 0.0, per_feed, natural)
    tails = a.tails_for(feed_assay)
    if tails is None:
        return None
    return _Route(feed_assay, tails, float(swu_per_product(product_assay, feed_assay, tails)),
                  1.0 / float(feed_per_product(product_assay, feed_assay, tails)), natural)


@functools.lru_cache(maxsize=256)
def _routes(assays: tuple[float, ...], product_assay: float, a: BreakoutAssumptions) -> tuple[tuple[int, _Route], ...]:
    """Usable routes (index into ``assays``, or -1 for natural feed) in the optimal order.

    Cached on its exact inputs (floats and a frozen assumption set): a simulation asks for the
    same stock assays every week, and the routes' physics is scalar work repeated for nothing.
    """
    routes = []
    for i, x in enumerate(assays):
        r = _route(x, product_assay, a)
        if r is not None:
            routes.append((i, r))
    if a.natural_feed:
        r = _route(NATURAL_ASSAY, product_assay, a, natural=True)
        if r is not None:
            routes.append((-1, r))
    # Cheapest SWU per kg of product first; among equals, the higher assay (less feed) first,
    # finite stocks before natural feed.
    routes.sort(key=lambda ir: (ir[1].swu_per_kg_product, -ir[1].feed_assay, ir[1].natural))
    return tuple(routes)


def _validate_stocks(stocks_kg: Mapping[float, float]) -> dict[float, float]:
    clean: dict[float, float] = {}
    for assay, kg in stocks_kg.items():
        assay, kg = float(assay), float(kg)
        if not 0.0 < assay < 1.0:
            raise ParameterError(f"stock assay must be between 0 and 100%, got {100 * assay:g}%")
        if not kg >= 0:
            raise ParameterError(f"stock mass must be non-negative, got {kg:g} kg at {100 * assay:g}%")
        clean[assay] = clean.get(assay, 0.0) + kg
    return clean


@dataclass(frozen=True)
class BreakoutStep:
    """One step of a breakout plan: one feed stock enriched (or blended) to the product assay."""

    sq_number: int
    source: str
    feed_assay: float
    product_assay: float
    tails_assay: float | None
    feed_kg: float
    product_kg: float
    tails_kg: float
    swu: float
    start_day: float
    end_day: float

    def to_dict(self) -> dict:
        return {
            "sq_number": self.sq_number,
            "source": self.source,
            "operation": "blend down" if self.tails_assay is None else "enrich",
            "feed_assay_percent": 100 * self.feed_assay,
            "product_assay_percent": 100 * self.product_assay,
            "tails_assay_percent": None if self.tails_assay is None else 100 * self.tails_assay,
            "feed_kg": self.feed_kg,
            "product_kg": self.product_kg,
            "tails_kg": self.tails_kg,
            "swu": self.swu,
            "start_day": self.start_day,
            "end_day": self.end_day,
        }


@dataclass(frozen=True)
class BreakoutPlan:
    """An auditable breakout plan: days, separative work, feed per step, stocks used, assumptions."""

    significant_quantity: SignificantQuantity
    count: int
    days_to_each_sq: list[float]
    swu_for_each_sq: list[float]
    steps: list[BreakoutStep]
    stocks_kg: dict[float, float]
    stocks_used_kg: dict[float, float]
    natural_feed_kg: float
    fleet_swu_per_year: float
    assumptions: BreakoutAssumptions
    machines: dict[str, float] = field(default_factory=dict)
    machine_rates: dict[str, float] = field(default_factory=dict)

    @property
    def days_to_first_sq(self) -> float:
        return self.days_to_each_sq[0]

    @property
    def swu_required(self) -> float:
        """kg-SWU for all ``count`` significant quantities."""
        return float(sum(self.swu_for_each_sq))

    @property
    def effective_swu_per_day(self) -> float:
        return self.fleet_swu_per_year * self.assumptions.efficiency / DAYS_PER_YEAR

    def assumption_lines(self) -> list[str]:
        a = self.assumptions
        if a.tails_assay is not None:
            tails = f"tails {100 * a.tails_assay:g}% for every step"
        else:
            tails = (f"tails {100 * a.natural_tails_assay:g}% from natural feed, "
                     f"{100 * a.enriched_tails_assay:g}% from enriched feed")
        lines = [
            f"significant quantity: {self.significant_quantity.description}",
            f"fleet: {self.fleet_swu_per_year:,.0f} SWU/yr rated x efficiency {a.efficiency:g} "
            f"= {self.effective_swu_per_day:,.2f} SWU/day",
            tails,
            f"set-up delay before enrichment: {a.setup_days:g} days",
            f"product losses: {100 * a.loss_fraction:g}%",
            "natural uranium feed: " + ("unlimited" if a.natural_feed else "none"),
            "steps enrich each stock straight to the product assay, cheapest SWU per kg first "
            "(optimal for every SQ count); stocks at or above the product assay are blended down "
            "with natural uranium",
        ]
        lines += [f"{name}: {rate:g} SWU/machine/yr x {self.machines.get(name, 0):g}"
                  for name, rate in self.machine_rates.items()]
        return lines

    def to_dict(self) -> dict:
        def pct(d: Mapping[float, float]) -> dict[str, float]:
            return {f"{100 * k:g}": v for k, v in sorted(d.items())}
        return {
            "days_to_first_sq": self.days_to_first_sq,
            "days_to_each_sq": list(self.days_to_each_sq),
            "swu_required": self.swu_required,
            "swu_for_each_sq": list(self.swu_for_each_sq),
            "count": self.count,
            "significant_quantity": self.significant_quantity.to_dict(),
            "fleet_swu_per_year": self.fleet_swu_per_year,
            "effective_swu_per_day": self.effective_swu_per_day,
            "machines": dict(self.machines),
            "machine_swu_per_year": dict(self.machine_rates),
            "stocks_kg": pct(self.stocks_kg),
            "stocks_used_kg": pct(self.stocks_used_kg),
            "natural_feed_kg": self.natural_feed_kg,
            "plan": [s.to_dict() for s in self.steps],
            "assumptions": {**self.assumptions.to_dict(), "notes": self.assumption_lines()},
        }


def plan_breakout(stocks_kg: Mapping[float, float], swu_per_year: float, *,
                  sq: SignificantQuantity | str = "iaea", count: int = 1,
                  assumptions: BreakoutAssumptions = DEFAULT_ASSUMPTIONS,
                  machines: Mapping[str, float] | None = None,
                  machine_rates: Mapping[str, float] | None = None) -> BreakoutPlan:
    """Plan the fastest production of ``count`` significant quantities from existing stocks.

    Parameters
    ----------
    stocks_kg : mapping of float to float
        U-235 fraction (0-1) -> kg of uranium held at that assay.
    swu_per_year : float
        Rated separative capacity of the fleet, kg-SWU per year
        (see :func:`redline.nuclear.centrifuges.fleet_swu_per_year`).
    sq : SignificantQuantity or str
        A convention name for :func:`significant_quantity` or an instance.
    count : int
        Number of significant quantities, produced one after another.
    assumptions : BreakoutAssumptions
        Tails, efficiency, set-up delay, losses, natural feed.
    machines, machine_rates : mapping, optional
        Recorded in the plan for the reader (the fleet behind ``swu_per_year``).

    Returns
    -------
    BreakoutPlan
        ``days_to_each_sq[k]`` is the minimum time to hold ``k + 1`` SQs; ``inf`` if the stocks
        cannot make them (no natural feed) or the fleet has no capacity.
    """
    if isinstance(sq, str):
        sq = significant_quantity(sq)
    if int(count) != count or count < 1:
        raise ParameterError(f"count must be a positive integer, got {count}")
    if not swu_per_year >= 0:
        raise ParameterError(f"fleet capacity must be non-negative, got {swu_per_year} SWU/yr")
    stocks = _validate_stocks(stocks_kg)
    a = assumptions
    assays = sorted(stocks, reverse=True)
    routes = _routes(tuple(assays), sq.assay, a)
    remaining = {i: stocks[x] for i, x in enumerate(assays)}
    per_day = swu_per_year * a.efficiency / DAYS_PER_YEAR
    need_per_sq = sq.mass_kg / (1.0 - a.loss_fraction)

    steps: list[BreakoutStep] = []
    days, swus = [], []
    used = {x: 0.0 for x in assays}
    natural_kg = 0.0
    cum_swu = 0.0
    feasible = True
    any_enrichment = False
    for k in range(1, int(count) + 1):
        need = need_per_sq
        swu_k = 0.0
        for i, r in routes:
            if need <= 1e-12 * need_per_sq:
                break
            cap = np.inf if i < 0 else remaining[i] * r.product_per_kg_feed
            take = min(cap, need)
            if take <= 0:
                continue
            feed = take / r.product_per_kg_feed
            swu = take * r.swu_per_kg_product
            if r.tails_assay is not None:
                any_enrichment = True
            start = (a.setup_days if any_enrichment else 0.0) + _days(cum_swu, per_day)
            cum_swu += swu
            swu_k += swu
            end = (a.setup_days if any_enrichment else 0.0) + _days(cum_swu, per_day)
            if i < 0:
                natural_kg += feed
                source = "natural uranium"
            else:
                remaining[i] -= feed
                used[assays[i]] += feed
                source = f"stock at {100 * assays[i]:g}%"
            tails_kg = feed - take if r.tails_assay is not None else 0.0
            if r.tails_assay is None:
                # blending consumes natural uranium as diluent rather than producing tails
                natural_kg += take - feed
            steps.append(BreakoutStep(k, source, r.feed_assay, sq.assay, r.tails_assay, feed, take,
                                      tails_kg, swu, start, end))
            need -= take
        if need > 1e-9 * need_per_sq:
            feasible = False
        swus.append(swu_k if feasible else np.inf)
        days.append((a.setup_days if any_enrichment else 0.0) + _days(cum_swu, per_day)
                    if feasible else np.inf)
    return BreakoutPlan(sq, int(count), days, swus, steps, stocks,
                        {x: v for x, v in used.items() if v > 0}, natural_kg, float(swu_per_year), a,
                        dict(machines or {}), dict(machine_rates or {}))


def _days(swu: float, per_day: float) -> float:
    if swu <= 0:
        return 0.0
    return swu / per_day if per_day > 0 else np.inf


def breakout_days(stocks_kg: Mapping[float, ArrayLike] | ArrayLike, swu_per_year: ArrayLike, *,
                  assays: ArrayLike | None = None, sq: SignificantQuantity | str = "iaea",
                  efficiency: ArrayLike | None = None,
                  assumptions: BreakoutAssumptions = DEFAULT_ASSUMPTIONS) -> np.ndarray:
    """Days to the first significant quantity, for many runs at once (vectorised over runs).

    Same model and same numbers as :func:`plan_breakout` (``days_to_first_sq``); loops only over
    the few stock assays.

    Parameters
    ----------
    stocks_kg : mapping of float to array_like, or array_like of shape (runs, n_assays)
        Either ``{assay_fraction: kg_per_run}`` (each value a scalar or an array of shape
        ``(runs,)``), or a 2-D array of kg with its column assays given in ``assays``.
    swu_per_year : array_like, shape (runs,) or scalar
        Rated fleet capacity per run, kg-SWU per year.
    assays : array_like of shape (n_assays,), optional
        U-235 fractions of the columns when ``stocks_kg`` is an array.
    sq : SignificantQuantity or str
        Significant-quantity convention (``"iaea"``, ``"42kg60"``) or an instance.
    efficiency : array_like, optional
        Per-run efficiency in (0, 1]; defaults to ``assumptions.efficiency``.
    assumptions : BreakoutAssumptions
        Global assumption set (tails, set-up delay, losses, natural feed).

    Returns
    -------
    numpy.ndarray of float, shape (runs,)
        Days; ``inf`` where the stocks cannot make one SQ (no natural feed) or capacity is zero;
        0 where blending existing stock suffices.

    Examples
    --------
    >>> import numpy as np
    >>> d = breakout_days({0.0367: np.array([203.0, 0.0])}, np.array([4554.0, 4554.0]))
    >>> bool(d[0] < d[1])
    True
    """
    if isinstance(sq, str):
        sq = _named_quantity(sq)
    a = assumptions
    if isinstance(stocks_kg, Mapping):
        col_assays = [float(x) for x in stocks_kg]
        columns = [np.asarray(v, dtype=float) for v in stocks_kg.values()]
    else:
        if assays is None:
            raise ParameterError("breakout_days needs `assays` when stocks are given as an array")
        matrix = np.atleast_2d(np.asarray(stocks_kg, dtype=float))
        col_assays = [float(x) for x in np.asarray(assays, dtype=float).ravel()]
        if matrix.shape[-1] != len(col_assays):
            raise ParameterError(f"stocks have {matrix.shape[-1]} columns but {len(col_assays)} assays")
        columns = [matrix[:, j] for j in range(matrix.shape[1])]
    for x in col_assays:
        if not 0.0 < x < 1.0:
            raise ParameterError(f"stock assay must be between 0 and 100%, got {100 * x:g}%")
    rate = np.asarray(swu_per_year, dtype=float)
    if efficiency is None and a.efficiency == 1.0:
        per_day = rate / DAYS_PER_YEAR  # rate * 1.0 is rate, bit for bit: one pass fewer
    else:
        per_day = rate * np.asarray(a.efficiency if efficiency is None else efficiency, dtype=float) / DAYS_PER_YEAR
    shapes = {np.shape(per_day), *(c.shape for c in columns)}
    shape = shapes.pop() if len(shapes) == 1 else np.broadcast_shapes(*shapes)
    if np.shape(per_day) != shape:
        per_day = np.broadcast_to(per_day, shape)  # gives the result its shape

    # need, swu and enriched start as scalars (the same numbers as full arrays of them, without
    # allocating three arrays a call) and become arrays at the first stock route. swu starts
    # as its first term rather than 0 + it (which differs only in the sign of a zero, and swu is
    # read only where it is positive).
    need = sq.mass_kg / (1.0 - a.loss_fraction)
    tol = 1e-9 * need
    swu = None
    enrichment_takes = []  # what each enrichment route makes, for the runs' set-up (see _stock_days)
    routes = _routes(tuple(col_assays), sq.assay, a)
    natural = any(i < 0 for i, _ in routes)
    for k, (i, r) in enumerate(routes):
        if i >= 0:
            kg = columns[i]
            take = np.minimum(np.maximum(kg, spread(0.0, kg)) * r.product_per_kg_feed, spread(need, kg))
        else:
            take = need
        if r.swu_per_kg_product > 0:
            swu = take * r.swu_per_kg_product if swu is None else swu + take * r.swu_per_kg_product
        if r.tails_assay is not None:
            enrichment_takes.append(take)
        if not (natural and k == len(routes) - 1):  # what is still needed is read after this route
            need = need - take
    days = _stock_days(swu, per_day, enrichment_takes, a.setup_days)
    if natural:
        # Natural feed takes all that is still needed, which leaves need - need: 0, or NaN for a
        # NaN stock, and neither is above tol. Every run makes its SQ; no test needed.
        return days
    return np.where(need > tol, np.inf, days)


def _stock_days(swu, per_day, enrichment_takes: list, setup_days: float) -> np.ndarray:
    """Days of the breakout's work: ``swu / per_day`` where ``swu > 0``, plus ``setup_days``
    where enrichment runs (some enrichment route makes product, ``take > 0``); elsewhere 0.0.

    Where ``swu`` is positive in every run (the usual case: one reduction tells), enrichment runs
    in every run too, so neither mask is built (five passes over the runs fewer): only routes
    that enrich count separative work, at a positive cost per kg (a blend-down's is 0.0), and a
    sum is positive only where one of its terms is, i.e. where such a route makes product.
    Otherwise the masks are built and the days computed under them (numpy's masked loops cost
    several times a plain one, so a mask that holds everywhere is left out).
    """
    if swu is not None and np.size(swu) and np.min(swu) > 0:  # a NaN fails it
        days = np.empty(np.shape(per_day))
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(swu, per_day, out=days)
        return np.add(days, setup_days, out=days)
    days = np.zeros(np.shape(per_day))
    if swu is not None:
        positive = swu > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(swu, per_day, out=days, where=True if _everywhere(positive) else positive)
    if enrichment_takes:
        enriched = functools.reduce(np.logical_or, [take > 0 for take in enrichment_takes])
        np.add(days, setup_days, out=days, where=True if _everywhere(enriched) else enriched)
    return days


def _everywhere(mask) -> bool:
    """Whether ``mask`` (a bool array, or one truth value for every run) holds in every run."""
    return bool(mask.all()) if isinstance(mask, np.ndarray) else bool(mask)


@functools.lru_cache(maxsize=None)
def _named_quantity(convention: str) -> SignificantQuantity:
    """:func:`significant_quantity` for a convention name, built once (the result is frozen)."""
    return significant_quantity(convention)


def with_overrides(assumptions: BreakoutAssumptions, **changes) -> BreakoutAssumptions:
    """Return ``assumptions`` with the non-None ``changes`` applied (validated)."""
    return replace(assumptions, **{k: v for k, v in changes.items() if v is not None})
