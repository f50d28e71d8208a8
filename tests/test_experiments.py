"""Experiments: designs, batches, executors agree exactly, kill -9 resume, store refusal, PRIM/CART, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("SALib")

from redline.cli import app  # noqa: E402
from redline.errors import ParameterError  # noqa: E402
from redline.experiments import experiment_seed, make_design, perform_experiments  # noqa: E402
from redline.scenario import load_scenario  # noqa: E402

SCENARIO = "proxy-deterrence"
# 3 experiments of 64 runs per batch: each strategy combination's 4 points make a batch of 3 and
# a batch of 1, so every executor and resume test crosses batch boundaries inside a combination.
SMALL = dict(design="lhs", samples=4, runs=64, seed=11, batch_runs=192)


def result_tables(path: Path) -> dict:
    """Every table except bookkeeping ones (meta, run_log), rows in a canonical order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("show tables").fetchall()]
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in names
                if not any(w in t for w in ("meta", "run_log", "timing", "progress"))}
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory, scenario):
    path = tmp_path_factory.mktemp("serial") / "serial.duckdb"
    ds = perform_experiments(scenario, **SMALL, store=path)
    return path, ds


# -- designs
def test_experiment_seed_is_the_spawned_child():
    children = np.random.SeedSequence(7).spawn(5)
    for i, child in enumerate(children):
        assert experiment_seed(7, i).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_designs_have_their_documented_sizes(scenario):
    d = len(scenario.program.parameter_ranges)
    combos = len(scenario.program.strategies["challenger"])
    assert make_design(scenario, "lhs", 10).n_experiments == 10 * combos
    assert make_design(scenario, "sobol", 8).n_experiments == 8 * (d + 2) * combos
    assert make_design(scenario, "morris", 3).n_experiments == 3 * (d + 1) * combos
    fac = make_design(scenario, "factorial", 2, strategies={"challenger": ["loud"]})
    assert fac.n_experiments == 2 ** d
    assert {tuple(r) for r in fac.points} == {tuple(r) for r in np.array(np.meshgrid(
        *[[f.low, f.high] for f in fac.factors], indexing="ij")).reshape(d, -1).T}


def test_lhs_is_stratified_within_narrowed_range(scenario):
    d = make_design(scenario, "lhs", 20, seed=3, uncertainties={"attribution_probability": (0.2, 0.6)},
                    constants={"defender_credibility": 0.9})
    col = d.points[:, 0]
    assert [f.name for f in d.factors] == ["attribution_probability"]
    assert col.min() >= 0.2 and col.max() <= 0.6
    assert sorted(np.floor((col - 0.2) / 0.4 * 20).astype(int).tolist()) == list(range(20))  # one point per stratum
    params, strategies = d.experiment(0)
    assert params["defender_credibility"] == 0.9 and set(strategies) == {"challenger"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(design="sobol", samples=10), "power of two"),
    (dict(uncertainties=["atribution_probability"]), "did you mean 'attribution_probability'"),
    (dict(uncertainties={"attribution_probability": (0.5, 0.5)}), "empty range"),
    (dict(uncertainties={"attribution_probability": (0.5, 2.0)}), "leaves its declared range"),
    (dict(constants={"withdrawal_inclination": 3.0}), "outside its declared range"),
    (dict(strategies={"challenger": ["lowd"]}), "did you mean 'loud'"),
    (dict(design="latin"), "unknown design"),
])
def test_bad_designs_are_refused(scenario, kwargs, message):
    args = {"design": "lhs", "samples": 8, **kwargs}
    with pytest.raises(ParameterError, match=message):
        make_design(scenario, args.pop("design"), args.pop("samples"), **args)


# -- executors and the store
def test_dataset_shape_and_attrs(serial_store, scenario):
    _, ds = serial_store
    n = 4 * len(scenario.program.strategies["challenger"])
    assert ds.sizes["experiment"] == n
    assert ds["probability"].dims == ("experiment", "outcome")
    assert ds.attrs["design"] == "lhs" and ds.attrs["seed"] == 11
    assert (ds["status"].values == "ok").all()
    # experiment 5 is the second of the batch 4..6 (combination 1): runs 64..127 of one engine
    # call seeded by experiment 4's spawned seed, each experiment's parameters over its own runs
    from redline.results import outcome_summary
    from redline.escalation import run

    names = [x[0] for x in json.loads(ds.attrs["factors"])]
    params = {f: np.repeat([float(ds[f].values[i]) for i in (4, 5, 6)], 64) for f in names}
    strategies = {"challenger": str(ds["strategy:challenger"].values[5])}
    assert {str(ds["strategy:challenger"].values[i]) for i in (4, 5, 6)} == set(strategies.values())
    call = run(scenario, runs=3 * 64, seed=np.random.SeedSequence(11).spawn(n)[4], strategies=strategies, params=params)
    direct = outcome_summary(call.isel(run=slice(64, 128)))
    for o, s in direct.items():
        assert ds["probability"].sel(outcome=o).values[5] == s["probability"]


def test_design_table_says_where_each_experiment_ran(serial_store):
    path, _ = serial_store
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("select experiment, spawn_key, first_run from design order by experiment").fetchall()
    con.close()
    assert rows[:8] == [(0, "[0]", 0), (1, "[0]", 64), (2, "[0]", 128), (3, "[3]", 0),
                        (4, "[4]", 0), (5, "[4]", 64), (6, "[4]", 128), (7, "[7]", 0)]


# -- batches
def test_batches_are_cut_per_strategy_combination(scenario):
    from redline.experiments.batches import plan_batches

    d = make_design(scenario, "lhs", 10, seed=1)
    combos = len(d.strategy_combinations)
    batches = plan_batches(d, runs=100, batch_runs=400)  # 4 experiments per batch
    assert [len(b) for b in batches] == [4, 4, 2] * combos
    assert [i for b in batches for i in b.experiments] == list(range(d.n_experiments))
    assert all(b.start // 10 == (b.stop - 1) // 10 for b in batches)  # never across combinations
    assert [len(b) for b in plan_batches(d, runs=5000, batch_runs=400)] == [1] * d.n_experiments
    with pytest.raises(ParameterError, match="batch_runs"):
        plan_batches(d, runs=100, batch_runs=0)


def test_a_batch_of_one_is_the_experiment_run_alone(tmp_path, scenario):
    """runs >= batch_runs: one experiment per engine call, seeded by its own spawned seed."""
    from redline.escalation import run
    from redline.results import outcome_summary

    ds = perform_experiments(scenario, "lhs", 3, runs=50, seed=4, batch_runs=50, strategies={"challenger": ["loud"]})
    names = [x[0] for x in json.loads(ds.attrs["factors"])]
    for i in range(3):
        direct = outcome_summary(run(scenario, runs=50, seed=np.random.SeedSequence(4).spawn(3)[i],
                                     strategies={"challenger": "loud"},
                                     params={f: float(ds[f].values[i]) for f in names}))
        assert [ds["probability"].sel(outcome=o).values[i] for o in direct] == [s["probability"] for s in direct.values()]


def test_an_experiment_in_a_batch_does_not_depend_on_its_batch_mates(scenario):
    """Each run reads only its own random draws: changing the other experiments' parameters (not
    their number) leaves an experiment's summary exactly as it was."""
    from redline.experiments.execute import _scenario_text, run_batch

    payload = {"text": _scenario_text(scenario), "name": str(scenario.path), "sha256": scenario.sha256, "runs": 80,
               "horizon": scenario.program.horizon, "seed": 3, "per_run": True, "posterior": None}
    d = make_design(scenario, "lhs", 6, seed=2, strategies={"challenger": ["loud"]})
    tasks = [(i, *d.experiment(i)) for i in range(3)]
    swapped = [tasks[0], (1, d.experiment(5)[0], tasks[1][2]), (2, d.experiment(4)[0], tasks[2][2])]
    a, b = run_batch(payload, tasks), run_batch(payload, swapped)
    assert [r["status"] for r in a + b] == ["ok"] * 6
    for key in ("outcomes", "states", "failed_runs"):
        assert a[0][key] == b[0][key]
    assert a[0]["runs_table"].equals(b[0]["runs_table"])
    assert a[1]["outcomes"] != b[1]["outcomes"] or a[2]["outcomes"] != b[2]["outcomes"]


def test_an_experiment_whose_runs_all_fail_fails_alone_in_its_batch(tmp_path):
    from redline.scenario.load import scenario_from_dict

    doc = {"meta": {"id": "blowup", "title": "T", "as_of": "2020-01-06", "horizon": 10},
           "actors": {"a": {"name": "A", "kind": "state", "assumption": "test",
                            "policy": {"kind": "scripted", "probabilities": {"act": 1.0}}}},
           "state": {"x": {"initial": 1, "assumption": "test"}},
           "actions": {"act": {"actor": "a", "effects": [{"var": "x", "set": "x * if(blowup > 0.5, 1e15 * x, 1.5)"}],
                               "assumption": "test"}},
           "outcomes": {"big": {"condition": "x > 10", "assumption": "test"}},
           "uncertainties": {"blowup": {"default": 0, "low": 0, "high": 1, "assumption": "test"}}}
    ds = perform_experiments(scenario_from_dict(doc), "factorial", 2, runs=40, seed=1, store=tmp_path / "b.duckdb")
    assert ds["blowup"].values.tolist() == [0.0, 1.0]  # one batch of two experiments
    assert ds["status"].values.tolist() == ["ok", "failed"]
    assert ds["failed_runs"].values.tolist() == [0, 40]
    assert ds["probability"].sel(outcome="big").values[0] == 1.0
    assert "every run failed" in str(ds["error"].values[1]) and "40 of 40 run(s)" in str(ds["error"].values[1])


def test_processes_match_serial(tmp_path, serial_store, scenario):
    path, ds = serial_store
    other = tmp_path / "processes.duckdb"
    ds2 = perform_experiments(scenario, **SMALL, store=other, executor="processes", workers=2)
    assert result_tables(path) == result_tables(other)
    np.testing.assert_array_equal(ds["probability"].values, ds2["probability"].values)


@pytest.mark.slow
def test_dask_local_cluster_matches_serial(tmp_path, serial_store, scenario):
    path, _ = serial_store
    other = tmp_path / "dask.duckdb"
    perform_experiments(scenario, **SMALL, store=other, executor="dask", workers=2)
    assert result_tables(path) == result_tables(other)


def test_kill_9_midway_then_resume_is_identical(tmp_path, serial_store):
    path, _ = serial_store
    resumed = tmp_path / "resumed.duckdb"
    # A real SIGKILL of the sweeping process once 5 or more experiments (whole batches) are committed.
    script = textwrap.dedent(f"""
        import os, signal
        from redline.experiments import perform_experiments
        def die(done, total):
            if done >= 5:
                os.kill(os.getpid(), signal.SIGKILL)
        perform_experiments({SCENARIO!r}, **{SMALL!r}, store={str(resumed)!r}, on_chunk=die)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    con = duckdb.connect(str(resumed), read_only=True)
    done_before = con.execute("select count(*) from experiments").fetchone()[0]
    con.close()
    assert 5 <= done_before < 12
    ds = perform_experiments(SCENARIO, **SMALL, store=resumed)
    assert ds.attrs["resumed_experiments"] == done_before
    assert result_tables(path) == result_tables(resumed)


def test_store_of_another_sweep_is_refused_untouched(tmp_path, scenario):
    path = tmp_path / "s.duckdb"
    perform_experiments(scenario, design="lhs", samples=2, runs=16, seed=1, store=path,
                        strategies={"challenger": ["loud"]})
    before = result_tables(path)
    with pytest.raises(ParameterError, match="different sweep.*seed.*new --store file"):
        perform_experiments(scenario, design="lhs", samples=2, runs=16, seed=2, store=path,
                            strategies={"challenger": ["loud"]})
    assert result_tables(path) == before


def test_failed_experiments_are_stored_with_their_error(tmp_path, scenario, monkeypatch):
    """An engine call that raises is re-run one experiment at a time: only the bad one fails."""
    import redline.experiments.execute as execute

    real = execute.run

    def flaky(*args, params=None, **kwargs):
        if np.any(np.asarray(params["withdrawal_inclination"]) > 0.75):
            raise FloatingPointError("synthetic failure")
        return real(*args, params=params, **kwargs)

    monkeypatch.setattr(execute, "run", flaky)
    path = tmp_path / "f.duckdb"
    ds = perform_experiments(scenario, design="lhs", samples=4, runs=16, seed=1, store=path,
                             strategies={"challenger": ["loud"]})
    assert (ds["withdrawal_inclination"].values > 0.75).sum() == 1  # in a batch with the three others
    failed = ds["status"].values == "failed"
    assert failed.tolist() == (ds["withdrawal_inclination"].values > 0.75).tolist()
    assert "synthetic failure" in str(ds["error"].values[failed][0])
    assert np.isfinite(ds["probability"].values[~failed]).all()
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("select count(*) from experiments where status = 'failed' and error like '%synthetic%'").fetchone()[0] == 1
    con.close()


def test_a_partly_stored_batch_is_rerun_whole_and_matches(tmp_path, serial_store):
    """Stores are written a batch per transaction; even a store holding part of a batch (written
    by hand here) resumes to the uninterrupted numbers, since a batch is always simulated whole."""
    import shutil

    path, _ = serial_store
    partial = tmp_path / "partial.duckdb"
    shutil.copy(path, partial)
    con = duckdb.connect(str(partial))
    for table in ("experiments", "outcomes", "final_state", "run_log"):
        con.execute(f"delete from {table} where experiment in (1, 2, 5, 9)")  # parts of batches 0..2, 4..6, 8..10
    con.close()
    ds = perform_experiments(SCENARIO, **SMALL, store=partial)
    assert ds.attrs["resumed_experiments"] == 8
    assert result_tables(path) == result_tables(partial)


def test_another_batch_size_is_another_sweep(tmp_path, scenario):
    path = tmp_path / "b.duckdb"
    kw = dict(design="lhs", samples=2, runs=16, seed=1, store=path, strategies={"challenger": ["loud"]})
    perform_experiments(scenario, **kw)
    with pytest.raises(ParameterError, match="different sweep.*batch_runs"):
        perform_experiments(scenario, **kw, batch_runs=16)


def test_parquet_export_round_trips(tmp_path, serial_store):
    from redline.results.store import ResultsStore

    path, _ = serial_store
    with ResultsStore.open(path) as st:
        files = {p.stem: p for p in st.export_parquet(tmp_path / "pq")}
        n = st.con.execute("select count(*) from outcomes").fetchone()[0]
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(f"{t}.parquet" for t in files)  # no temp files
    assert duckdb.connect().execute(f"select count(*) from '{files['outcomes']}'").fetchone()[0] == n


# -- CLI
runner = CliRunner()


def test_cli_sweep_sensitivity_discover(tmp_path):
    store = tmp_path / "cli.duckdb"
    r = runner.invoke(app, ["sweep", SCENARIO, "--design", "morris", "--samples", "3", "--runs", "32",
                            "--store", str(store), "--strategy", "challenger=deniable", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["experiments"] == 3 * 5
    r = runner.invoke(app, ["sensitivity", str(store), "--outcome", "defender_leaves", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["method"] == "morris" and Path(res["figure"]).is_file()
    top = res["groups"][0]["indices"][0]
    assert top["factor"] in ("attribution_probability", "defender_credibility", "casualty_sensitivity")
    r = runner.invoke(app, ["discover", str(store), "--outcome", "defender_leaves", "--json"])
    assert r.exit_code == 0, r.output
    assert "prim" in json.loads(r.stdout) and "cart" in json.loads(r.stdout)


@pytest.mark.parametrize("args, message", [
    (["--design", "sobol", "--samples", "12"], "power of two"),
    (["--vary", "casualty_sensitivty"], "did you mean 'casualty_sensitivity'"),
    (["--vary", "casualty_sensitivity=0.005:0.002"], "empty range"),
    (["--executor", "threads"], "unknown executor"),
])
def test_cli_bad_input_exit_2_one_line(tmp_path, args, message):
    store = tmp_path / "bad.duckdb"
    r = runner.invoke(app, ["sweep", SCENARIO, "--runs", "8", "--samples", "4", "--store", str(store), *args])
    assert r.exit_code == 2
    assert message in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_unknown_outcome(serial_store):
    path, _ = serial_store
    r = runner.invoke(app, ["sensitivity", str(path), "--outcome", "defender_leave"])
    assert r.exit_code == 2 and "did you mean 'defender_leaves'" in r.output


@pytest.mark.slow
def test_unreachable_dask_address_fails_fast(tmp_path):
    import time

    t = time.perf_counter()
    r = runner.invoke(app, ["sweep", SCENARIO, "--runs", "8", "--samples", "2", "--store", str(tmp_path / "a.duckdb"),
                            "--executor", "dask", "--address", "tcp://127.0.0.1:1"])
    assert r.exit_code == 2 and "cannot reach a Dask scheduler" in r.output
    assert time.perf_counter() - t < 15
    assert not (tmp_path / "a.duckdb").exists()  # nothing created when the cluster is unreachable


def test_executors_share_one_protocol():
    from redline.experiments.executors import EXECUTORS, SerialExecutor, make_executor

    assert EXECUTORS == ("serial", "processes", "dask")
    runner = make_executor("serial", workers=4)
    assert isinstance(runner, SerialExecutor) and runner.workers == 1
    with runner:
        assert list(runner.map(lambda payload, chunk: [payload["k"] * x for x in chunk], {"k": 3}, [[1, 2], [3]])) \
            == [[3, 6], [9]]
    with pytest.raises(ParameterError, match="unknown executor 'procs'.*processes"):
        make_executor("procs", workers=1)
    with pytest.raises(ParameterError, match="--address needs --executor dask"):
        make_executor("processes", workers=2, address="127.0.0.1:8786")
