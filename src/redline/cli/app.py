"""The Typer application object that every command module registers on."""
from __future__ import annotations

import typer

app = typer.Typer(
    name="redline",
    help="Model a geopolitical crisis from a sourced scenario, run it as thousands of futures, and compare strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
