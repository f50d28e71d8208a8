"""The HTML report and its PDF/PNG export: self-contained, faithful to the result, optional sections."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from tests.conftest import redline_cli, write_yaml
from redline.results import outcome_summary
from redline.experiments.compare import compare, simulate
from redline.provenance import element_table
from redline.report import ReportInput, build_html, from_datasets, load_input, scenario_svg, write_report
from redline.report.figures import week_dates
from redline.results import save_result
from redline.scenario import load_scenario

RUNS = 300
SOURCE_TEXT = ("Preamble sentence that is not cited. Attribution of covert attacks is slow and uncertain, "
               "so deterrence weakens. Closing sentence.")
CITED = "Attribution of covert attacks is slow and uncertain"


def _external_refs(html: str) -> list[str]:
    return re.findall(r"<(?:script|link|img|iframe|source|video|audio)[^>]+(?:src|href)=[\"'](?:https?:)?//[^\"']+",
                      html, flags=re.I)


@pytest.fixture(scope="module")
def sourced_scenario(tmp_path_factory) -> Path:
    """The example with a local source text, a cited passage and a hostile-looking title."""
    import copy

    import yaml

    from tests.conftest import EXAMPLE

    doc = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    folder = tmp_path_factory.mktemp("sourced")
    (folder / "article.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    doc["meta"]["title"] = "Deterrence <script>alert('x')</script> & friends"
    doc["sources"]["article"] = {"title": "A local article", "text": "article.txt"}
    start = SOURCE_TEXT.index(CITED)
    doc["state"]["attributed_casualties"]["source"] = {"id": "article", "start": start, "end": start + len(CITED)}
    return write_yaml(folder / "sourced.yaml", doc)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, sourced_scenario) -> Path:
    out = tmp_path_factory.mktemp("run") / "res"
    proc = redline_cli("run", str(sourced_scenario), "--runs", str(RUNS), "--seed", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "res"
    proc = redline_cli("compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "deniable,loud",
                       "--runs", str(RUNS), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_is_self_contained(run_dir, tmp_path):
    proc = redline_cli("report", str(run_dir), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert _external_refs(html) == []
    assert "<script src" not in html and "<link" not in html
    assert "default-src 'none'" in html  # the CSP forbids any fetch even if something slipped in
    assert html.count("<svg") >= 4  # outcome bars, cumulative, fans, scenario picture


def test_report_numbers_match_the_result(run_dir, sourced_scenario):
    html = build_html(run_dir)
    ds = simulate(load_scenario(sourced_scenario), runs=RUNS, seed=3)
    for outcome, s in outcome_summary(ds).items():
        cell = re.search(rf'data-outcome="{outcome}"[^>]*><b>([0-9.]+)%</b>', html)
        assert cell, outcome
        assert float(cell.group(1)) == pytest.approx(100 * s["probability"], abs=0.051)


def test_report_escapes_scenario_text(run_dir):
    html = build_html(run_dir)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_provenance_table_lists_every_element_and_highlights_cited_passage(run_dir, sourced_scenario):
    html = build_html(run_dir)
    table = element_table(load_scenario(sourced_scenario))
    for element in table:
        assert f'id="prov-{element}"' in html, element
    row = html[html.index('id="prov-state.attributed_casualties"'):]
    row = row[: row.index("</tr>")]
    assert f"<mark>{CITED}</mark>" in row
    assert "Preamble sentence" in row  # the passage is shown in its context
    # every outcome in the table links to its provenance row
    assert 'href="#prov-outcomes.open_war"' in html


def test_compare_report_shows_each_strategy_and_the_differences(compare_dir):
    html = build_html(compare_dir)
    result = compare("proxy-deterrence", actor="challenger", strategies=["deniable", "loud"], runs=RUNS)
    for strategy in ("deniable", "loud"):
        for outcome, s in result.strategies[strategy].items():
            cell = re.search(rf'data-outcome="{outcome}" data-strategy="{strategy}"><b>([0-9.]+)%', html)
            assert cell and float(cell.group(1)) == pytest.approx(100 * s["probability"], abs=0.051)
    assert "Differences between strategies" in html
    assert "deniable − loud" in html


def test_dates_start_at_as_of():
    assert week_dates(dt.date(2020, 1, 6), [1, 2]) == [dt.date(2020, 1, 13), dt.date(2020, 1, 20)]
    assert week_dates(None, [1]) is None


def test_dated_axis_in_report(compare_dir):
    html = build_html(compare_dir)
    assert "Week 1 starts on 06 January 2020" in html
    assert re.search(r"Jan 2021", html)  # a date tick on the cumulative and fan charts


def test_optional_sections_only_when_present(tmp_path, compare_dir):
    html = build_html(compare_dir)
    assert 'id="sensitivity"' not in html and 'id="calibration"' not in html
    summary = {
        "kind": "backtest", "scenario": "proxy-deterrence",
        "sensitivity": {"defender_leaves": {"ST": {"attribution_probability": 0.6, "casualty_sensitivity": 0.2}}},
        "prim_boxes": [{"limits": {"attribution_probability": [0.05, 0.3]}, "coverage": 0.8, "density": 0.7}],
        "input_ranges": {"attribution_probability": [0.05, 1.0]},
        "questions": [{"id": "q1", "probability": 0.8, "outcome": True},
                      {"id": "q2", "probability": 0.2, "outcome": False},
                      {"id": "q3", "probability": 0.6, "outcome": False}],
        "brier": 0.147,
    }
    path = tmp_path / "backtest.json"
    path.write_text(json.dumps(summary))
    html = build_html(path)
    for section in ('id="sensitivity"', 'id="calibration"', "PRIM", "q3", "0.1470"):
        assert section in html
    assert _external_refs(html) == []


def test_scenario_picture_has_every_element():
    loaded = load_scenario("proxy-deterrence")
    svg = scenario_svg(loaded.spec)
    spec = loaded.spec
    keys = ([f"actor:{a}" for a in spec.actors] + [f"action:{a}" for a in spec.actions]
            + [f"red:{r}" for r in spec.red_lines] + [f"var:{v}" for v in spec.state]
            + [f"out:{o}" for o in spec.outcomes])
    for key in keys:
        assert f'data-key="{key}"' in svg, key
    assert "<title>action:proxy_attack → var:attacks</title>" in svg  # an effect edge
    assert "<title>red:two_attributed_attacks → action:retaliate</title>" in svg  # red line -> response


def test_pdf_and_png_export(compare_dir, tmp_path):
    pdf = write_report(compare_dir, tmp_path / "deck.pdf", format="pdf")
    assert pdf[0].read_bytes()[:5] == b"%PDF-"
    pngs = write_report(compare_dir, tmp_path / "deck.png", format="png")
    assert {p.name for p in pngs} >= {"deck-outcomes.png", "deck-timing.png", "deck-state.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_report_from_datasets_in_memory():
    ds = simulate("proxy-deterrence", runs=200, seed=1, trajectories=True)
    data = from_datasets({"run": ds}, {"kind": "run", "scenario": "proxy-deterrence", "runs": 200, "seed": 1})
    assert isinstance(data, ReportInput) and data.loaded is not None
    html = build_html(data)
    assert 'id="state"' in html and 'id="structure"' in html


@pytest.mark.parametrize("args, message", [
    (["/no/such/result"], "no such result"),
    (["{run}", "--format", "docx"], "unknown report format"),
    (["{tmp}"], "not a redline result directory"),
])
def test_bad_input_exits_2_with_one_line(args, message, run_dir, tmp_path):
    args = [a.format(run=run_dir, tmp=tmp_path) for a in args]
    proc = redline_cli("report", *args, "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1


def test_changed_scenario_is_flagged(tmp_path, sourced_scenario):
    ds = simulate(load_scenario(sourced_scenario), runs=100, seed=0)
    summary = {"kind": "run", "scenario": "proxy-deterrence", "scenario_path": str(sourced_scenario),
               "scenario_sha256": "0" * 64}
    save_result(tmp_path / "res", {"run": ds}, summary)
    data = load_input(tmp_path / "res")
    assert any("has changed" in n for n in data.notes)


def test_report_from_a_sweep_store(tmp_path):
    pytest.importorskip("duckdb")
    store = tmp_path / "sweep.duckdb"
    proc = redline_cli("sweep", "proxy-deterrence", "--samples", "16", "--runs", "100", "--store", str(store),
                       "--strategy", "challenger=deniable,loud", timeout=300)
    assert proc.returncode == 0, proc.stderr
    proc = redline_cli("report", str(store), "-o", str(tmp_path / "sweep.html"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "sweep.html").read_text()
    assert "challenger=deniable" in html and "challenger=loud" in html
    assert 'id="sensitivity"' in html and _external_refs(html) == []
    # the loader reads the store; the analyses are computed apart and handed to the report
    from redline.analysis import sweep_analyses
    from redline.report import with_analyses

    data = load_input(store)
    assert data.kind == "sweep" and data.sensitivity is None and data.prim_boxes is None
    analysed = with_analyses(data, sweep_analyses(store))
    assert analysed.sensitivity and set(analysed.summary["strategies"]) == set(data.summary["strategies"])


def test_report_from_a_backtest_json(tmp_path):
    from tests.conftest import SHARED

    questions = SHARED / "data" / "questions" / "sample.yaml"
    if not questions.exists():
        pytest.skip("no sample question file")
    from redline.scenario import bundled_scenarios

    scenario = "iran-us-2020" if "iran-us-2020" in bundled_scenarios() else "proxy-deterrence"
    proc = redline_cli("backtest", str(questions), "--scenario", scenario, "--runs", "100", "--json", timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"the sample questions do not fit the example scenario: {proc.stderr.strip()[:120]}")
    (tmp_path / "bt.json").write_text(proc.stdout)
    html = build_html(tmp_path / "bt.json")
    assert 'id="calibration"' in html
    assert html.count("<tr><td>") >= len(json.loads(proc.stdout)["questions"])
