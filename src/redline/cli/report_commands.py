"""Report and web-app commands: ``report`` and ``serve``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from redline.cli.app import app
from redline.cli.common import console, emit_json, handle_errors, out_console
from redline.errors import ParameterError

__all__ = ["report", "serve"]


@app.command()
@handle_errors
def report(
    result: Path = typer.Argument(..., help="A result directory (run/compare --out), a backtest JSON or a sweep store."),
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="File to write."),
    format: Optional[str] = typer.Option(None, "--format",
                                         help="html (default), pdf (one page per chart) or png (one file per chart)."),
    posterior: Optional[Path] = typer.Option(None, "--posterior",
                                             help="Add a calibration's fit: prior vs posterior, predictive checks."),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
) -> None:
    """Write a self-contained HTML report (no network needed to open it), or PDF/PNG charts for slides.

    RESULT may also be a posterior file (``redline calibrate --out``): the report then shows the fit."""
    from redline.report import load_input, with_analyses, write_report

    if not result.exists():
        raise ParameterError(f"{result}: no such result directory or file")
    data = load_input(result)
    if data.kind == "sweep":  # sensitivity indices and PRIM boxes, computed here and drawn by the report
        from redline.analysis import sweep_analyses

        data = with_analyses(data, sweep_analyses(result))
    if posterior is not None:
        from redline.calibrate import read_posterior

        data.posterior = read_posterior(posterior)
    written = write_report(data, output, format=format)
    if json_out:
        emit_json({"files": [str(p) for p in written]})
        return
    for path in written:
        out_console.print(f"[green]wrote[/green] {path}")


@app.command()
@handle_errors
def serve(
    scenarios: Optional[list[Path]] = typer.Argument(None, help="Your scenario files to open beside the bundled ones."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; the default is this machine only."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="TCP port."),
    store: Optional[Path] = typer.Option(None, "--store", help="A sweep store to browse alongside scenarios."),
) -> None:
    """Run the local web app: pick (bundled or the FILEs given) or upload a scenario, run it, compare
    strategies, browse sources."""
    try:
        import uvicorn
    except ImportError:
        raise ParameterError("the web app needs the web extra: pip install 'redline[web]'") from None
    from redline.web import create_app

    if store is not None and not store.is_file():
        raise ParameterError(f"--store {store}: no such file")
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"warning: serving on {host}, reachable from other machines; the app has no authentication",
                      markup=False)
    app = create_app(store=store, scenarios=scenarios or (), hosts=(host,))  # a bad file fails here, located
    console.print(f"redline app on http://{host if ':' not in host else f'[{host}]'}:{port}/ (Ctrl-C to stop)"
                  + (f" with {len(scenarios)} scenario file(s) of yours" if scenarios else ""),
                  markup=False, highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_keep_alive=5)
