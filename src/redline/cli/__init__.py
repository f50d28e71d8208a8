"""The ``redline`` command line. Each command lives in a module of this package and registers on
``app`` when imported; every module here except ``app``, ``common`` and ``demo`` (the flagship
analysis behind ``redline demo``, imported when that command runs) is a command module."""
from __future__ import annotations

import importlib
import pkgutil

from redline.cli.app import app

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in ("app", "common", "demo"):
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``redline`` console script."""
    app()
