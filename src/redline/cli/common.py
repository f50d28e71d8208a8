"""Shared plumbing for CLI commands: error handling, JSON output, option parsing."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from redline.errors import ParameterError, RedlineError
from redline.jsonable import to_jsonable

console = Console(stderr=True)
out_console = Console()

__all__ = ["console", "out_console", "handle_errors", "emit_json", "emit_error", "error_payload", "parse_assignments",
           "parse_numbers", "to_jsonable", "POSTERIOR", "PRIOR", "choose_posterior", "number_table"]

# The names under which commands take their ``--json`` flag; :func:`handle_errors` reads them to
# decide whether an error is printed as JSON on stdout.
_JSON_FLAGS = ("json_out", "as_json")

POSTERIOR = typer.Option(None, "--posterior", help="Draw each run's parameters from this posterior (redline calibrate).")
PRIOR = typer.Option(False, "--prior", help="Ignore the posterior shipped beside the scenario; run from the priors.")


def number_table(title: str, label: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A table of numbers per named row (an outcome, a variable...): ``label`` heads the names,
    ``columns`` the numbers, right-justified; each row is its name then its cells, already formatted."""
    table = Table(title=title)
    table.add_column(label)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (the only thing on stdout in ``--json`` mode)."""
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2) + "\n")
    sys.stdout.flush()


def error_payload(message: str, file: str | None = None, line: int | None = None,
                  column: int | None = None) -> dict:
    """The ``--json`` form of an error: ``{"error": {"file", "line", "column", "message"}}``."""
    return {"error": {"file": file, "line": line, "column": column, "message": " ".join(message.split())}}


def emit_error(err: RedlineError | str, *, json_mode: bool) -> None:
    """Report a user error: one ``file:line:col: message`` line on stderr and, in ``--json``
    mode, the same error as JSON on stdout (so a script reading stdout always gets JSON)."""
    if isinstance(err, RedlineError):
        loc = err.location
        payload = error_payload(err.message, *((loc.file, loc.line, loc.column) if loc is not None else ()))
        line = str(err)
    else:
        payload, line = error_payload(err), err
    # One line, exactly ``file:line:col: message``, so editors and scripts can jump to it.
    sys.stderr.write(" ".join(line.split("\n")) + "\n")
    if json_mode:
        emit_json(payload)


def handle_errors(func: Callable) -> Callable:
    """Turn a :class:`RedlineError` into one ``file:line:col: message`` line and exit code 2
    (and, when the command was given ``--json``, the error as JSON on stdout)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RedlineError as err:
            emit_error(err, json_mode=any(bool(kwargs.get(flag)) for flag in _JSON_FLAGS))
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            console.print("interrupted")
            raise typer.Exit(code=130) from None
        except OSError as err:
            # a read-only folder, a full disk, a file where a folder was expected: one line, exit 2
            where = err.filename if err.filename is not None else "redline"
            sys.stderr.write(f"{where}: {err.strerror or err}\n")
            raise typer.Exit(code=2) from None
        except MemoryError:
            sys.stderr.write("redline: out of memory; lower --runs, --samples or the scenario's windows "
                             "(and see $REDLINE_MEMORY_BUDGET)\n")
            raise typer.Exit(code=2) from None
        except RecursionError:
            sys.stderr.write("redline: input nested too deeply\n")
            raise typer.Exit(code=2) from None

    return wrapper


def parse_assignments(items: list[str] | None, option: str) -> dict[str, str]:
    """Parse repeated ``NAME=VALUE`` options into a dict, refusing malformed items."""
    result: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError(f"{option} expects NAME=VALUE, got '{item}'")
        name, value = item.split("=", 1)
        name, value = name.strip(), value.strip()
        if not name or not value:
            raise ParameterError(f"{option} expects NAME=VALUE, got '{item}'")
        result[name] = value
    return result


def parse_numbers(items: list[str] | None, option: str) -> dict[str, float]:
    """Parse repeated ``NAME=NUMBER`` options (``--param``, ``--constant``) into floats."""
    numbers = {}
    for name, value in parse_assignments(items, option).items():
        try:
            numbers[name] = float(value)
        except ValueError:
            raise ParameterError(f"{option} {name} needs a number, got '{value}'") from None
    return numbers


def choose_posterior(loaded, posterior, prior: bool, *, quiet: bool = False):
    """The posterior a command uses: ``--posterior FILE``, else the one shipped beside the scenario
    (:func:`redline.calibrate.shipped_posterior`, the web app's choice too; said so on stderr) unless
    ``--prior``; None for the priors."""
    from redline.calibrate import load_posterior, shipped_posterior

    if posterior is not None:
        if prior:
            raise ParameterError("--posterior and --prior exclude each other")
        return load_posterior(posterior, loaded)
    post = shipped_posterior(loaded, prior=prior)
    if post is not None and not quiet:
        console.print(f"using the posterior shipped with {loaded.id} ({post.path.name}, {post.particles:,} particles); "
                      "--prior runs from the priors", highlight=False)
    return post

