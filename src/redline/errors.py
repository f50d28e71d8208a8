"""The one exception hierarchy of redline.

Every error a user can cause carries a location (file, line, column) when one is known, so that
the CLI prints a single ``file:line:col: message`` line and exits with code 2.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "RedlineError",
    "ScenarioError",
    "ExpressionError",
    "ParameterError",
    "SimulationError",
    "ResourceError",
    "Location",
    "did_you_mean",
]


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes (``\\n``,
    ``\\x1b``...): a name read from a user's file may hold them, and an error is one line."""
    return _BREAKS.sub(lambda m: repr(m.group())[1:-1], text)


class Location:
    """A place in a file: 1-based line and column."""

    __slots__ = ("file", "line", "column")

    def __init__(self, file: str | None = None, line: int | None = None, column: int | None = None):
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        parts = [one_line(self.file or "<input>")]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __repr__(self) -> str:
        return f"Location({self.file!r}, {self.line!r}, {self.column!r})"


class RedlineError(Exception):
    """Base class of every error redline reports to users."""

    def __init__(self, message: str, location: Location | None = None):
        message = one_line(str(message))
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class ScenarioError(RedlineError):
    """A scenario file that cannot be read, parsed or validated."""


class ExpressionError(RedlineError):
    """An expression that the safe expression language refuses."""


class ParameterError(RedlineError):
    """A command-line or API option out of range or unknown (strategy, parameter, outcome...)."""


class SimulationError(RedlineError):
    """A simulation that produced no usable result (e.g. every run's state went non-finite)."""


class ResourceError(RedlineError):
    """A request that would need more memory (or other resources) than its budget allows."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return ""
