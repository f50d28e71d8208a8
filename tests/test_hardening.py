"""Regression tests for the red-team faults (issue 20): file reads, silent wrong numbers,
exhaustion, tracebacks and the web app. Each test names the fault it pins down."""
from __future__ import annotations

import os

import pytest

from redline.errors import ScenarioError
from redline.scenario import load_scenario
from tests.conftest import write_yaml


# ---------------------------------------------------------------- file reads


@pytest.mark.parametrize("text", ["/etc/passwd", "../secret.txt", "a/../../secret.txt", "~/secret.txt",
                                  "..", "sub/./x.txt", "C:\\secret.txt", "x\n.txt"])
def test_source_text_outside_the_scenario_folder_is_refused(tmp_path, example_doc, text):
    example_doc["sources"]["local"] = {"title": "A local text", "text": text}
    with pytest.raises(ScenarioError, match="relative path below the scenario's folder") as err:
        load_scenario(write_yaml(tmp_path / "s.yaml", example_doc))
    assert ":" in str(err.value).split(" ")[0]  # located: file:line:col


def test_symlink_out_of_the_scenario_folder_is_not_read(tmp_path, example_doc):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    folder = tmp_path / "scenario"
    folder.mkdir()
    os.symlink(secret, folder / "article.txt")
    example_doc["sources"]["local"] = {"title": "A local text", "text": "article.txt"}
    loaded = load_scenario(write_yaml(folder / "s.yaml", example_doc))
    assert loaded.source_texts == {} and loaded.missing_texts == ["local"]


def test_source_text_found_below_the_folder_and_in_redline_sources(tmp_path, example_doc, monkeypatch):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("below the folder")
    extra = tmp_path / "elsewhere"
    extra.mkdir()
    (extra / "b.txt").write_text("from REDLINE_SOURCES")
    monkeypatch.setenv("REDLINE_SOURCES", str(extra))
    example_doc["sources"]["a"] = {"title": "A", "text": "texts/a.txt"}
    example_doc["sources"]["b"] = {"title": "B", "text": "b.txt"}
    loaded = load_scenario(write_yaml(tmp_path / "s.yaml", example_doc))
    assert loaded.source_texts == {"a": "below the folder", "b": "from REDLINE_SOURCES"}


def test_result_folder_scenario_path_cannot_reach_outside_files(tmp_path, example_doc):
    """A damaged or hostile result folder names a scenario that quotes ../secret: nothing leaks."""
    from redline.report.inputs import from_datasets

    (tmp_path / "secret.txt").write_text("TOP SECRET")
    folder = tmp_path / "evil"
    folder.mkdir()
    example_doc["sources"]["local"] = {"title": "x", "text": "../secret.txt"}
    path = write_yaml(folder / "s.yaml", example_doc)
    rin = from_datasets({}, {"kind": "run", "scenario_path": str(path)})
    assert rin.loaded is None and "not found" in rin.notes[0]


# ---------------------------------------------------------------- silent wrong numbers


def test_breakout_days_uses_each_runs_own_assay():
    """Was: run 0's assay was used for every run."""
    import numpy as np

    from redline.functions import breakout_days_expr
    from redline.nuclear import breakout_days

    kg = np.array([200.0, 200.0, 200.0])
    assay = np.array([60.0, 3.67, 20.0])
    swu = np.full(3, 4554.0)
    got = breakout_days_expr(swu, kg, assay)
    each = [float(breakout_days({a / 100: np.array([200.0])}, np.array([4554.0]))[0]) for a in assay]
    assert got == pytest.approx(each)
    assert got[0] < got[2] < got[1]
    with pytest.raises(Exception, match="outside"):
        breakout_days_expr(swu, kg, np.array([60.0, 100.0, 20.0]))
