"""``redline breakout``: enrichment arithmetic and breakout time from stocks and centrifuges."""
from __future__ import annotations

import math

import typer
from rich.table import Table

from redline.cli.app import app
from redline.cli.common import emit_json, handle_errors, out_console, parse_assignments
from redline.errors import ParameterError
from redline.nuclear import (
    DEFAULT_ASSUMPTIONS,
    NATURAL_ASSAY,
    UF6_TO_U,
    fleet_swu_per_year,
    plan_breakout,
    significant_quantity,
)
from redline.nuclear.breakout import with_overrides

__all__ = ["breakout"]


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ParameterError(f"{what}: expected a number, got '{text}'") from None
    if not math.isfinite(value):
        raise ParameterError(f"{what}: expected a finite number, got '{text}'")
    return value


def _percent(text: str | float, what: str) -> float:
    """Parse an assay in percent into a U-235 fraction, refusing <= 0 and >= 100."""
    value = _number(str(text), what)
    if not 0.0 < value < 100.0:
        raise ParameterError(f"{what}: assay must be between 0 and 100 percent, got {value:g}%")
    return value / 100.0


def _stocks(items: list[str] | None, uf6: bool) -> dict[float, float]:
    stocks: dict[float, float] = {}
    for item in items or []:
        ((assay_text, kg_text),) = parse_assignments([item], "--stock").items()
        assay = _percent(assay_text, f"--stock {item}")
        kg = _number(kg_text, f"--stock {item}")
        if kg < 0:
            raise ParameterError(f"--stock {item}: mass must be non-negative, got {kg:g} kg")
        stocks[assay] = stocks.get(assay, 0.0) + kg * (UF6_TO_U if uf6 else 1.0)
    return stocks


def _counts(items: list[str] | None, option: str, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        ((name, text),) = parse_assignments([item], option).items()
        value = _number(text, f"{option} {item}")
        if value < 0:
            raise ParameterError(f"{option} {item}: {what} must be non-negative, got {value:g}")
        out[name] = out.get(name, 0.0) + value
    return out


def _fmt_days(days: float) -> str:
    if not math.isfinite(days):
        return "never (stocks exhausted or no capacity)"
    return f"{days:,.0f} days ({days / 30.44:.1f} months)"


@app.command()
@handle_errors
def breakout(
    stock: list[str] = typer.Option(None, "--stock", help="ASSAY=KG: kg of uranium held at ASSAY percent U-235 (repeatable)."),
    uf6: bool = typer.Option(False, "--uf6", help="Stock masses are kg of UF6, not uranium (x 238.03/352.02)."),
    machines: list[str] = typer.Option(None, "--machines", help="TYPE=COUNT centrifuges enriching, e.g. IR-1=5060 (repeatable)."),
    swu: list[str] = typer.Option(None, "--swu", help="TYPE=SWU_PER_YEAR per machine, overriding the default (repeatable)."),
    capacity_swu: float = typer.Option(None, "--capacity-swu", help="Extra fleet capacity in SWU/yr (e.g. an analyst's total estimate)."),
    efficiency: float = typer.Option(None, "--efficiency", help=f"Fraction of rated SWU delivered, (0, 1] [default {DEFAULT_ASSUMPTIONS.efficiency:g}]."),
    tails: float = typer.Option(None, "--tails", help="Tails assay in percent for every step [default 0.3 from natural, 0.711 from enriched feed]."),
    setup_days: float = typer.Option(None, "--setup-days", help=f"Set-up delay before enrichment, days [default {DEFAULT_ASSUMPTIONS.setup_days:g}]."),
    losses: float = typer.Option(None, "--losses", help="Product lost in process, percent [default 0]."),
    sq: str = typer.Option("iaea", "--sq", help="Significant quantity: iaea (25 kg U-235 at 90%), 42kg60, or custom."),
    sq_mass: float = typer.Option(None, "--sq-mass", help="Custom SQ mass, kg of uranium (with --sq custom)."),
    sq_assay: float = typer.Option(None, "--sq-assay", help="Custom SQ assay, percent (with --sq custom)."),
    count: int = typer.Option(1, "--count", help="Number of significant quantities."),
    no_natural_feed: bool = typer.Option(False, "--no-natural-feed", help="Natural uranium is not available as feed."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON on stdout."),
) -> None:
    """Days to make significant quantities of weapon-grade uranium from STOCKS with MACHINES."""
    stocks = _stocks(stock, uf6)
    fleet = _counts(machines, "--machines", "machine count")
    rates = _counts(swu, "--swu", "SWU per machine per year")
    unused = [name for name in rates if name.lower() not in {m.lower() for m in fleet}]
    if unused:
        raise ParameterError(f"--swu {unused[0]}=... given but no --machines {unused[0]}=COUNT")
    total, used_rates = fleet_swu_per_year(fleet, rates)
    if capacity_swu is not None:
        if not capacity_swu >= 0:
            raise ParameterError(f"--capacity-swu must be non-negative, got {capacity_swu:g}")
        total += capacity_swu
    if not fleet and capacity_swu is None:
        raise ParameterError("give the enrichment fleet with --machines TYPE=COUNT (or --capacity-swu)")
    if count < 1:
        raise ParameterError(f"--count must be at least 1, got {count}")
    if sq.strip().lower() != "custom" and (sq_mass is not None or sq_assay is not None):
        raise ParameterError(f"--sq-mass/--sq-assay need --sq custom, not --sq {sq}")
    quantity = significant_quantity(
        sq, mass_kg=sq_mass,
        assay=None if sq_assay is None else _percent(sq_assay, "--sq-assay"))
    if efficiency is not None and not 0.0 < efficiency <= 1.0:
        raise ParameterError(f"--efficiency must be in (0, 1], got {efficiency:g}")
    if losses is not None and not 0.0 <= losses < 100.0:
        raise ParameterError(f"--losses must be a percentage in [0, 100), got {losses:g}")
    if setup_days is not None and setup_days < 0:
        raise ParameterError(f"--setup-days must be non-negative, got {setup_days:g}")
    tails_fraction = None if tails is None else _percent(tails, "--tails")
    if tails_fraction is not None:
        feeds = [x for x in stocks if x < quantity.assay] + ([] if no_natural_feed else [NATURAL_ASSAY])
        low = [x for x in feeds if tails_fraction >= x]
        if low:
            what = "natural uranium feed (0.711%)" if min(low) == NATURAL_ASSAY else f"the {100 * min(low):g}% stock"
            raise ParameterError(f"--tails {tails:g}% is not below the assay of {what}")
    if no_natural_feed and not stocks:
        raise ParameterError("--no-natural-feed leaves nothing to enrich: give at least one --stock")
    assumptions = with_overrides(
        DEFAULT_ASSUMPTIONS, efficiency=efficiency, tails_assay=tails_fraction, setup_days=setup_days,
        loss_fraction=None if losses is None else losses / 100.0,
        natural_feed=False if no_natural_feed else None)
    plan = plan_breakout(stocks, total, sq=quantity, count=count, assumptions=assumptions,
                         machines=fleet, machine_rates=used_rates)
    if as_json:
        emit_json(plan.to_dict())
        return

    summary = Table(title="Breakout estimate", show_header=False)
    summary.add_column("", style="bold")
    summary.add_column("")
    summary.add_row("significant quantity", quantity.description)
    summary.add_row("fleet", f"{total:,.0f} SWU/yr rated, {plan.effective_swu_per_day:,.2f} SWU/day effective")
    for k, days in enumerate(plan.days_to_each_sq, start=1):
        summary.add_row(f"SQ {k}", _fmt_days(days))
    summary.add_row("separative work", f"{plan.swu_required:,.0f} SWU")
    summary.add_row("natural uranium used", f"{plan.natural_feed_kg:,.0f} kg")
    out_console.print(summary)

    steps = Table(title="Plan (in order)")
    for name in ("SQ", "source", "feed kg", "tails %", "product kg", "SWU", "days"):
        steps.add_column(name, justify="right" if name not in ("source",) else "left")
    for s in plan.steps:
        steps.add_row(str(s.sq_number), s.source, f"{s.feed_kg:,.1f}",
                      "blend" if s.tails_assay is None else f"{100 * s.tails_assay:.3g}",
                      f"{s.product_kg:,.2f}", f"{s.swu:,.0f}", f"{s.start_day:,.0f}-{s.end_day:,.0f}")
    out_console.print(steps)
    out_console.print("Assumptions: " + "; ".join(plan.assumption_lines()))
