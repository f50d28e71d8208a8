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


def _tiny(effect: str, **extra) -> dict:
    """A one-actor scenario whose only action sets x to ``effect`` every week."""
    doc = {"meta": {"id": "tiny", "title": "T", "as_of": "2020-01-06", "horizon": 10},
           "actors": {"a": {"name": "A", "kind": "state", "assumption": "test",
                            "policy": {"kind": "scripted", "probabilities": {"act": 1.0}}}},
           "state": {"x": {"initial": 1, "assumption": "test"}},
           "actions": {"act": {"actor": "a", "effects": [{"var": "x", "set": effect}], "assumption": "test"}},
           "outcomes": {"big": {"condition": "x > 10", "assumption": "test"}}}
    for key, value in extra.items():
        doc[key] = {**doc.get(key, {}), **value}
    return doc


def test_failed_runs_are_counted_beside_every_probability():
    from redline.results import summarize
    from redline.experiments.compare import compare, simulate
    from redline.scenario.load import scenario_from_dict

    doc = _tiny("x * if(uniform(0, 1) < 0.5, 1e15 * x, 2)")
    doc["strategies"] = {"calm": {"actor": "a", "policy": {"kind": "scripted", "probabilities": {"act": 0.5}},
                                  "assumption": "test"}}
    loaded = scenario_from_dict(doc)
    s = summarize(simulate(loaded, runs=400, seed=1))
    big = s["outcomes"]["big"]
    assert 0 < s["failed_runs"] < 400 and big["failed_runs"] == s["failed_runs"]
    assert big["runs"] == 400 - s["failed_runs"] and big["probability"] == big["count"] / big["runs"]
    assert "x * if(uniform(0, 1) < 0.5, 1e15 * x, 2)" in s["failure"] and "'x'" in s["failure"]
    res = compare(loaded, actor="a", strategies=["calm", "calm"], runs=200, seed=1)
    assert res.failed_runs["calm"] > 0 and res.strategies["calm"]["big"]["failed_runs"] > 0


def test_all_runs_failing_is_an_error_naming_the_expression(tmp_path):
    from redline.experiments.compare import simulate
    from redline.results import summarize
    from redline.errors import SimulationError
    from redline.scenario.load import scenario_from_dict
    from tests.conftest import redline_cli

    doc = _tiny("x * 1e15 * x")
    with pytest.raises(SimulationError, match=r"every run failed.*'x \* 1e15 \* x'"):
        summarize(simulate(scenario_from_dict(doc), runs=50, seed=1))
    proc = redline_cli("run", str(write_yaml(tmp_path / "s.yaml", doc)), "--runs", "50")
    assert proc.returncode == 2 and "every run failed" in proc.stderr and "Traceback" not in proc.stderr


def test_huge_poisson_rates_are_drawn_not_capped():
    import numpy as np

    from redline import expr as ex

    e = ex.parse("poisson(rate)", names=frozenset({"rate"}), site="t")
    ctx = ex.EvalContext({"rate": np.array([1e9, 4e12, 2.0, np.nan, -1.0])}, 5,
                         lambda key: np.random.default_rng(0))
    v = e.evaluate(ctx)
    assert abs(v[0] - 1e9) < 6 * 1e9 ** 0.5 and abs(v[1] - 4e12) < 6 * 2e6  # not 1e6
    assert np.isnan(v[3]) and v[4] == 0.0


def test_attribution_delays_beyond_the_ring_buffer_land_on_time():
    """Was: delays were capped at 63 weeks without a word."""
    import numpy as np

    from redline.experiments.compare import simulate
    from redline.scenario.load import scenario_from_dict

    doc = _tiny("x", )
    doc["meta"]["horizon"] = 120
    doc["state"]["seen"] = {"initial": 0, "assumption": "test"}
    doc["actions"]["act"] = {"actor": "a", "tags": ["covert"], "assumption": "test",
                             "attribution": {"probability": 1, "delay_weeks": 100},
                             "effects": [{"var": "x", "add": 1, "attributed": "seen"}]}
    doc["actors"]["a"]["policy"]["probabilities"] = {"act": "if(week == 1, 1, 0)"}
    doc["outcomes"] = {"seen_it": {"condition": "seen > 0", "assumption": "test"}}
    for engine in ("vectorised", "reference"):
        ds = simulate(scenario_from_dict(doc), runs=20, seed=1, engine=engine)
        assert np.all(ds["outcome_week"].sel(outcome="seen_it").values == 101), engine


def test_dated_outcome_past_the_horizon_is_an_error_not_a_zero():
    from redline.experiments.compare import simulate
    from redline.scenario.load import scenario_from_dict

    doc = _tiny("x")
    doc["outcomes"]["late"] = {"condition": "x > 0", "on": "2021-06-01", "assumption": "test"}
    with pytest.raises(ScenarioError, match="past the scenario's horizon"):
        scenario_from_dict(doc)
    doc["meta"]["horizon"] = 104
    loaded = scenario_from_dict(doc)
    from redline.results import summarize

    s = summarize(simulate(loaded, runs=10, horizon=20))
    assert "late" not in s["outcomes"] and s["outcomes_beyond_horizon"] == ["late"]  # no silent 0


def test_initial_value_outside_its_bounds_is_an_error():
    from redline.scenario.load import scenario_from_dict

    doc = _tiny("x")
    doc["state"]["x"].update(min=0, max=0.5)
    with pytest.raises(ScenarioError, match=r"initial value 1 is outside the bounds \[0, 0.5\] of 'x'"):
        scenario_from_dict(doc)


@pytest.mark.parametrize("bad", ["x\n", "x ", "a\tb", "x\x00"])
def test_ids_with_whitespace_or_control_characters_are_refused(example_doc, bad):
    from redline.forecast.questions import _located
    from redline.scenario.load import scenario_from_dict
    from redline.scenario.yaml_safe import Document

    state = dict(example_doc["state"])
    state[bad] = {"initial": 0, "assumption": "x"}
    with pytest.raises(ScenarioError):
        scenario_from_dict({**example_doc, "state": state})
    q = {"id": bad, "question": "?", "open_date": "2020-01-06", "close_date": "2020-02-01", "predicate": "1"}
    with pytest.raises(ScenarioError, match="without spaces or control characters"):
        _located(Document(data=[q], file="q.yaml"), [q], ())


def test_rbd_fast_says_when_failed_experiments_are_left_out():
    import numpy as np

    from redline.analysis.sensitivity import analyse

    rng = np.random.default_rng(0)
    X = rng.random((200, 2))
    Y = X[:, 0] + 0.1 * rng.random(200)
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    Y_few = Y.copy()
    Y_few[:5] = np.nan
    values, note = analyse("rbd_fast", problem, X, Y_few)
    assert values and "5 of 200 experiment(s) failed and are left out" in note
    Y_many = Y.copy()
    Y_many[X[:, 0] > 0.7] = np.nan  # failures where the factor is high would bias the indices
    values, note = analyse("rbd_fast", problem, X, Y_many)
    assert values == {} and "biased" in note


def test_default_bdm_compromise_rule_is_scholz_code():
    """Was: a 'strongest challenger' rule that agreed with Scholz's code on the worked example but
    not on 28 DEU III issues (MAE 28.35 instead of the reference's 27.5)."""
    import numpy as np

    from redline import bargaining
    from redline.bargaining import expected_utility

    d = bargaining.load_deu3()
    sub = d.actors.take(np.arange(60))
    default = expected_utility.predict(sub, rounds=10).prediction
    scholz = expected_utility.predict(sub, rounds=10, compromise="scholz").prediction
    np.testing.assert_array_equal(default, scholz)


# ---------------------------------------------------------------- exhaustion: budget before allocation


def test_window_memory_is_budgeted_before_allocation(monkeypatch):
    from redline.experiments.compare import simulate
    from redline.errors import ResourceError
    from redline.scenario.load import scenario_from_dict

    doc = _tiny(" + ".join(["count(x > 0, last=520)"] * 30))
    loaded = scenario_from_dict(doc)
    monkeypatch.setenv("REDLINE_MEMORY_BUDGET", "1G")
    with pytest.raises(ResourceError, match=r"would need about 3\.\d GiB.*windows 3\.\d GiB.*budget of 1\.0 GiB"):
        simulate(loaded, runs=100_000, seed=1)
    assert simulate(loaded, runs=100, seed=1)["failed"].sum() == 0  # small runs fit


def test_trajectories_for_run_out_are_budgeted(monkeypatch, tmp_path):
    from tests.conftest import redline_cli

    monkeypatch.setenv("REDLINE_MEMORY_BUDGET", "50M")
    proc = redline_cli("run", "proxy-deterrence", "--runs", "200000", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "trajectories" in proc.stderr and "GiB" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r").exists()


def test_experiment_caps_are_checked_before_sampling():
    from redline.errors import ParameterError
    from redline.experiments.design import make_design
    from redline.scenario import load_scenario

    loaded = load_scenario("proxy-deterrence")
    with pytest.raises(ParameterError, match=r"would have [\d,]+ experiments, more than 1,000,000"):
        make_design(loaded, design="lhs", samples=100_000_000, seed=1)


@pytest.mark.parametrize("options, message", [
    ({"rounds": 10 ** 9}, "must be in 1..1000"), ({"rounds": "ten"}, "must be a whole number"),
    ({"q": float("inf")}, "must be a finite number"), ({"compromise": "biggest"}, "must be one of")])
def test_decision_options_are_checked_at_validate(example_doc, options, message):
    from redline.scenario.load import scenario_from_dict

    example_doc["decisions"]["host_parliament"].update(model="bdm", options=options)
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(example_doc)


# ---------------------------------------------------------------- tracebacks -> one clear line


def _one_line_exit_2(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("name, content, message", [
    ("latin1.csv", b"actor,position,salience,capability\nM\xfcnchen,10,0.5,1\nB,90,0.7,2\n", "latin1.csv:2:2: not UTF-8"),
    ("missing.csv", b"actor,position,salience\nA,10,0.5\nB,90,0.7\n", "missing column 'capability'"),
    ("dup.csv", b"actor,position,position,salience,capability\nA,10,20,0.5,1\nB,90,30,0.7,2\n",
     "dup.csv:1:3: duplicate column 'position'"),
    ("huge.csv", b"actor,position,salience,capability\nA,1e308,0.5,1\nB,-1e308,0.7,1\n", "larger in size than 1e+12"),
    ("deep.yaml", b"actors:\n  - " + b"[" * 3000 + b"]" * 3000 + b"\n", "deep"),
    ("nested.yaml", b"actors:\n  - {actor: A, position: [1, 2], salience: 1, capability: 1}\n", "single value"),
])
def test_bargain_bad_tables_give_one_line(tmp_path, name, content, message):
    from tests.conftest import redline_cli

    (tmp_path / name).write_bytes(content)
    line = _one_line_exit_2(redline_cli("bargain", name, cwd=tmp_path))
    assert message in line


def test_bargain_on_a_folder_gives_one_line(tmp_path):
    from tests.conftest import redline_cli

    (tmp_path / "table.csv").mkdir()
    assert "is a folder" in _one_line_exit_2(redline_cli("bargain", "table.csv", cwd=tmp_path))


def test_out_onto_a_file_or_read_only_folder_fails_before_simulating(tmp_path):
    from tests.conftest import redline_cli

    (tmp_path / "afile").write_text("x")
    assert "is a file" in _one_line_exit_2(redline_cli("run", "proxy-deterrence", "--runs", "10", "--out",
                                                        str(tmp_path / "afile")))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        assert "cannot write" in _one_line_exit_2(redline_cli("run", "proxy-deterrence", "--runs", "10",
                                                               "--out", str(ro / "r")))
    finally:
        ro.chmod(0o700)


def test_os_errors_anywhere_are_one_line():
    """A full disk (ENOSPC) while writing is reported by the CLI's error handler, not a traceback."""
    import errno

    import typer

    from redline.cli.common import handle_errors

    @handle_errors
    def writes():
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/x/summary.json")

    with pytest.raises(typer.Exit) as exit_info:
        writes()
    assert exit_info.value.exit_code == 2


def test_damaged_result_folders_are_named(tmp_path):
    from redline.errors import RedlineError
    from redline.results import load_result

    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(RedlineError, match="damaged result summary"):
        load_result(tmp_path)
    (tmp_path / "summary.json").write_text('{"datasets": ["../../etc/passwd"]}')
    with pytest.raises(RedlineError, match="damaged result summary"):
        load_result(tmp_path)
    (tmp_path / "summary.json").write_text('{"datasets": ["run"]}')
    with pytest.raises(RedlineError, match="missing from the result folder"):
        load_result(tmp_path)
    (tmp_path / "run.nc").write_bytes(b"CDF\x01" + b"\x00" * 10)
    with pytest.raises(RedlineError, match="damaged result file"):
        load_result(tmp_path)


def test_math_text_in_units_is_plain_text(example_doc, tmp_path):
    from redline.experiments.compare import simulate
    from redline.report import build_html
    from redline.report.inputs import from_datasets
    from redline.scenario import load_scenario

    for var in example_doc["state"].values():
        var["unit"] = "$\\frac{a"  # a malformed formula: mathtext would raise
    loaded = load_scenario(write_yaml(tmp_path / "s.yaml", example_doc))
    ds = simulate(loaded, runs=200, seed=1, trajectories=True)
    html = build_html(from_datasets({"run": ds}, {"kind": "run", "runs": 200}, loaded=loaded))
    assert "frac{a" in html


def test_seeds_above_2_63_are_refused_with_one_line():
    from tests.conftest import redline_cli

    line = _one_line_exit_2(redline_cli("run", "proxy-deterrence", "--runs", "10", "--seed", str(2 ** 64)))
    assert "0..2^63-1" in line


def test_scenario_picture_is_linear_and_bounded(example_doc):
    """Was: O(E^2) edge de-duplication and barycentres (17 s on a 174 KB upload)."""
    import time

    from redline.report.graph import MAX_NODES, scenario_svg
    from redline.scenario.schema import Scenario

    def picture(n_vars: int) -> tuple[str, float]:
        doc = dict(example_doc)
        doc["state"] = {**example_doc["state"], **{f"v{i}": {"initial": 0, "assumption": "x"} for i in range(n_vars)}}
        doc["outcomes"] = {**example_doc["outcomes"],
                           **{f"o{i}": {"condition": " + ".join(f"v{j}" for j in range(i, i + 8)) + " > 1",
                                        "assumption": "x"} for i in range(300)}}
        spec = Scenario.model_validate(doc)
        started = time.perf_counter()
        svg = scenario_svg(spec)
        return svg, time.perf_counter() - started

    svg, seconds = picture(1500)
    assert seconds < 5 and "too many to draw" not in svg and svg.count("<line") + svg.count("<path") > 2000
    svg, _ = picture(MAX_NODES + 100)
    assert "too many to draw" in svg


@pytest.mark.slow
def test_kill_9_of_a_processes_sweep_leaves_no_workers(tmp_path):
    """Was: `kill -9` of `sweep --executor processes` left its workers computing forever."""
    import signal
    import subprocess
    import sys
    import time

    def children(pid: int) -> set[int]:
        found = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    found.add(int(entry))
        return found

    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    proc = subprocess.Popen([sys.executable, "-m", "redline", "sweep", "proxy-deterrence", "--samples", "64",
                             "--runs", "20000", "--executor", "processes", "--workers", "2",
                             "--store", str(tmp_path / "s.duckdb")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(workers) < 2:
            workers = children(proc.pid)
            time.sleep(0.5)
        assert len(workers) >= 2, "the sweep did not start its workers"
        time.sleep(3)  # let them import and take a chunk
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        alive = set(workers)
        while alive and time.monotonic() < deadline:
            alive = {p for p in alive if os.path.exists(f"/proc/{p}") and
                     open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"}
            time.sleep(0.5)
        assert not alive, f"workers still running after the sweep was killed: {sorted(alive)}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:  # our own children: never leave them behind, even if the test fails
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
