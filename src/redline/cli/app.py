"""The Typer application object that every command module registers on."""
from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

__all__ = ["app"]

# Typer re-exports click's ``BadParameter`` (and, from 0.26, vendors click itself): take the
# usage-error classes from its ancestry so that either packaging is matched.
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Commands(TyperGroup):
    """The command group; with ``--json`` anywhere on the command line, a usage error (an unknown
    option, a value out of range, a missing argument) is also printed as JSON on stdout, like
    every other error (see :func:`redline.cli.common.emit_error`), and exits with code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or "--json" not in argv:
            return super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=standalone_mode, **extra)
        from redline.cli.common import emit_error

        try:
            code = super().main(args=argv, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                                **extra)
        except _USAGE_ERROR as err:
            where = f" (redline {err.ctx.info_name})" if err.ctx is not None and err.ctx.parent is not None else ""
            emit_error(f"{err.format_message()}{where}", json_mode=True)
            sys.exit(2)
        except _CLICK_ERROR as err:
            emit_error(err.format_message(), json_mode=True)
            sys.exit(err.exit_code)
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        # Without standalone mode click returns an Exit's code, or the command's return value.
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="redline",
    cls=_Commands,
    help="Model a geopolitical crisis from a sourced scenario, run it as thousands of futures, and compare strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
