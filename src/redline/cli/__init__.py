"""The ``redline`` command line. Each command lives in its own module and registers on ``app``."""
from __future__ import annotations

from redline.cli.app import app

# Command modules register themselves on import; keep this list sorted by workflow.
from redline.cli import scenario_commands  # noqa: F401,E402  demo, list, validate, run, compare, trace
from redline.cli import breakout  # noqa: F401,E402  [3/7] nuclear
from redline.cli import bargain  # noqa: F401,E402  [4/7] bargaining

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``redline`` console script."""
    app()
