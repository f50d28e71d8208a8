"""Reports: one self-contained HTML file (or PDF / PNG figures) from a run, a comparison, a sweep
store or a backtest. ``redline report RESULT -o report.html``."""
from __future__ import annotations

from redline.report.build import FORMATS, build_figures, build_html, write_report
from redline.report.graph import scenario_svg
from redline.report.inputs import ReportInput, from_datasets, load_input, with_analyses

__all__ = ["FORMATS", "ReportInput", "build_figures", "build_html", "from_datasets", "load_input", "scenario_svg",
           "with_analyses", "write_report"]
