"""A sweep store keeps the scenario it ran (path and text), so its report is complete even after
the file has moved or changed."""
from __future__ import annotations

import pytest

pytest.importorskip("duckdb")

from redline.experiments import perform_experiments  # noqa: E402
from redline.report.inputs import load_input  # noqa: E402
from redline.results.store import ResultsStore  # noqa: E402
from tests.conftest import write_yaml  # noqa: E402


def test_store_keeps_the_scenario_and_the_report_finds_it_after_the_file_is_gone(tmp_path, example_doc):
    example_doc["meta"]["id"] = "my-sweep"
    example_doc["meta"]["title"] = "A sweep of my own"
    scenario = write_yaml(tmp_path / "mine.yaml", example_doc)
    text = scenario.read_text()
    store = tmp_path / "sweep.duckdb"
    perform_experiments(str(scenario), "lhs", 8, runs=50, seed=1, horizon=10, store=store, progress=False)
    with ResultsStore.open(store) as st:
        path, kept = st.scenario_source()
    assert path == str(scenario.resolve()) and kept == text
    scenario.unlink()  # moved away: the report still has its scenario
    report_input = load_input(store)
    assert report_input.loaded is not None and report_input.loaded.spec.meta.title == "A sweep of my own"
    assert not any("not found" in n for n in report_input.notes)
    assert report_input.summary["scenario_path"] == str(scenario.resolve())
