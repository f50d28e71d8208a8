"""The results store: an embedded DuckDB file holding a sweep's design and results.

Tables (all ordered by experiment id, with no wall-clock data, so two stores of the same sweep are
identical whatever executor, worker count or interruptions produced them):

``design``
    one row per experiment: its strategy combination and design point, every parameter value,
    its seed, and where its runs were simulated: ``spawn_key`` of its batch's engine call
    (``SeedSequence(seed, spawn_key=(first experiment of the batch,))``) and ``first_run``.
``experiments``
    one row per *finished* experiment: ``status`` (``ok`` / ``failed``), run counts, ``error``.
``outcomes``
    per experiment and outcome: count, probability, Wilson 95% interval, median and mean week.
``final_state``
    per experiment and state variable: mean, 5th and 95th percentiles at the end of the runs.
``runs`` (optional, ``per_run=True``)
    per experiment, run and outcome that happened: the week it happened.

Bookkeeping that legitimately differs between two executions lives in ``sweep_meta`` (identity of
the sweep, creation and finishing times) and ``run_log`` (per experiment: executor, worker, seconds).

Every batch of finished experiments is written in one transaction, so a sweep killed at any
moment (even ``kill -9``) leaves only whole batches behind; the same command started again
skips them and finishes the rest. Parquet exports are written to a temporary name and renamed.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redline.errors import ParameterError, did_you_mean
from redline.results.summary import outcome_summary, state_summary

__all__ = ["ResultsStore", "RESULT_TABLES", "summarise_runs"]

RESULT_TABLES = ("design", "experiments", "outcomes", "final_state", "runs")
_SORT = {
    "design": "experiment",
    "experiments": "experiment",
    "outcomes": "experiment, outcome",
    "final_state": "experiment, variable",
    "runs": "experiment, run, outcome",
    "run_log": "experiment",
}


def _duckdb():
    try:
        import duckdb
    except ImportError:  # pragma: no cover - the experiments extra is missing
        raise ParameterError("the results store needs DuckDB: pip install 'redline[experiments]'") from None
    return duckdb


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ResultsStore:
    """A DuckDB results file; open with :meth:`create_or_resume` (sweeps) or :meth:`open` (analysis)."""

    def __init__(self, path: Path, con, identity: dict):
        self.path = path
        self.con = con
        self.identity = identity

    # -- opening
    @staticmethod
    def _connect(path: Path, read_only: bool):
        duckdb = _duckdb()
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            text = str(err)
            if "lock" in text.lower():
                raise ParameterError(f"{path}: the store is in use by another process; wait for it or use a new --store file") from None
            raise ParameterError(f"{path}: not a readable DuckDB results store ({text.splitlines()[0][:120]})") from None
        except duckdb.Error as err:
            raise ParameterError(f"{path}: not a readable DuckDB results store ({str(err).splitlines()[0][:120]})") from None

    @classmethod
    def open(cls, path: str | Path) -> ResultsStore:
        """Open an existing store read-only (for analysis)."""
        path = Path(path)
        if not path.is_file():
            raise ParameterError(f"{path}: no such results store (create one with `redline sweep ... --store {path}`)")
        con = cls._connect(path, read_only=True)
        identity = cls._read_identity(con, path)
        if identity is None:
            con.close()
            raise ParameterError(f"{path}: not a redline results store (no sweep_meta table)")
        return cls(path, con, identity)

    @staticmethod
    def _read_identity(con, path: Path) -> dict | None:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        if "sweep_meta" not in tables:
            return None
        row = con.execute("select value from sweep_meta where key = 'identity'").fetchone()
        return json.loads(row[0]) if row else None

    @classmethod
    def create_or_resume(cls, path: str | Path, identity: dict, design_frame: pd.DataFrame,
                         outcomes: list[str], variables: list[str]) -> ResultsStore:
        """Open ``path`` for a sweep: create it, or resume it if it holds the same sweep.

        Raises
        ------
        ParameterError
            if the file holds a different sweep (another scenario, design, seed, ...) or is not a
            results store; nothing in it is changed.
        """
        path = Path(path)
        if path.exists() and path.is_dir():
            raise ParameterError(f"{path}: is a directory; --store needs a file such as results.duckdb")
        if not path.parent.exists():
            raise ParameterError(f"{path}: directory {path.parent} does not exist")
        canonical = json.loads(json.dumps(identity, sort_keys=True))
        con = cls._connect(path, read_only=False)
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        if tables:
            stored = cls._read_identity(con, path)
            if stored is None:
                con.close()
                raise ParameterError(f"{path}: holds tables that are not a redline sweep; use a new --store file")
            if stored != canonical:
                con.close()
                raise ParameterError(f"{path}: holds a different sweep ({_describe(stored)}; this command: "
                                     f"{_describe(canonical)}; differs in {_differences(stored, canonical)}); "
                                     "use a new --store file, or delete this one to start again")
            return cls(path, con, stored)
        cls._create(con, canonical, design_frame, outcomes, variables)
        return cls(path, con, canonical)

    def record_scenario(self, path: str | None, text: str) -> None:
        """Keep the scenario a sweep ran (its path and its full text) beside the results, so a
        report of the store is complete even when the file has moved or changed. Not part of the
        sweep's identity: resuming from another copy of the same scenario is allowed."""
        for key, value in (("scenario_path", path), ("scenario_text", text)):
            self.con.execute("delete from sweep_meta where key = ?", [key])
            if value is not None:
                self.con.execute("insert into sweep_meta values (?, ?)", [key, value])

    def scenario_source(self) -> tuple[str | None, str | None]:
        """The recorded (path, text) of the sweep's scenario; (None, None) for older stores."""
        rows = dict(self.con.execute(
            "select key, value from sweep_meta where key in ('scenario_path', 'scenario_text')").fetchall())
        return rows.get("scenario_path"), rows.get("scenario_text")

    @staticmethod
    def _create(con, identity: dict, design_frame: pd.DataFrame, outcomes: list[str], variables: list[str]) -> None:
        con.execute("begin transaction")
        try:
            con.execute("create table sweep_meta (key varchar primary key, value varchar)")
            con.execute("insert into sweep_meta values (?, ?), (?, ?), (?, ?), (?, ?)",
                        ["identity", json.dumps(identity, sort_keys=True),
                         "outcomes", json.dumps(outcomes), "variables", json.dumps(variables),
                         "created_at", dt.datetime.now(dt.timezone.utc).isoformat()])
            con.register("_design_df", design_frame)
            con.execute("create table design as select * from _design_df order by experiment")
            con.unregister("_design_df")
            con.execute("create table experiments (experiment bigint primary key, status varchar, runs bigint, "
                        "failed_runs bigint, error varchar)")
            con.execute("create table outcomes (experiment bigint, outcome varchar, runs bigint, count bigint, "
                        "probability double, ci_low double, ci_high double, median_week double, mean_week double)")
            con.execute("create table final_state (experiment bigint, variable varchar, mean double, p05 double, p95 double)")
            con.execute("create table run_log (experiment bigint, executor varchar, worker varchar, "
                        "elapsed_s double, finished_at varchar)")
            if identity.get("per_run"):
                con.execute("create table runs (experiment bigint, run bigint, outcome varchar, week double)")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    # -- writing
    def finished(self) -> set[int]:
        """Ids of experiments already stored (ok or failed)."""
        return {r[0] for r in self.con.execute("select experiment from experiments").fetchall()}

    def write(self, records: list[dict], executor: str) -> None:
        """Store finished experiments in one transaction (all of them or none)."""
        if not records:
            return
        exp_rows, out_rows, state_rows, log_rows, run_rows = [], [], [], [], []
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        for r in records:
            exp_rows.append((r["experiment"], r["status"], r["runs"], r["failed_runs"], r["error"]))
            out_rows.extend((r["experiment"], *row) for row in r["outcomes"])
            state_rows.extend((r["experiment"], *row) for row in r["states"])
            log_rows.append((r["experiment"], executor, r["worker"], r["elapsed_s"], now))
            if r.get("runs_table") is not None:
                run_rows.append(r["runs_table"])
        con = self.con
        con.execute("begin transaction")
        try:
            con.executemany("insert into experiments values (?, ?, ?, ?, ?)", exp_rows)
            if out_rows:
                con.executemany("insert into outcomes values (?, ?, ?, ?, ?, ?, ?, ?, ?)", out_rows)
            if state_rows:
                con.executemany("insert into final_state values (?, ?, ?, ?, ?)", state_rows)
            con.executemany("insert into run_log values (?, ?, ?, ?, ?)", log_rows)
            if run_rows and self.identity.get("per_run"):
                df = pd.concat(run_rows, ignore_index=True)
                con.register("_runs_df", df)
                con.execute("insert into runs select * from _runs_df")
                con.unregister("_runs_df")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    def finalise(self) -> None:
        """Rewrite result tables in experiment order (resumed sweeps append out of order)."""
        con = self.con
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        con.execute("begin transaction")
        try:
            for table, order in _SORT.items():
                if table in tables and table != "design":
                    con.execute(f"create or replace table {_q(table)} as select * from {_q(table)} order by {order}")
            con.execute("insert or replace into sweep_meta values ('finished_at', ?)",
                        [dt.datetime.now(dt.timezone.utc).isoformat()])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("checkpoint")

    # -- reading
    def table(self, name: str) -> pd.DataFrame:
        return self.con.execute(f"select * from {_q(name)} order by {_SORT.get(name, '1')}").df()

    def meta(self, key: str) -> Any:
        row = self.con.execute("select value from sweep_meta where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row and key != "created_at" and key != "finished_at" else (row[0] if row else None)

    def outcome_names(self) -> list[str]:
        return self.meta("outcomes") or []

    def outcome_probabilities(self, outcome: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The design table and P(``outcome``) per experiment (ordered by experiment id).

        Raises ParameterError with the store's outcomes listed when ``outcome`` is unknown.
        """
        outcomes = self.outcome_names()
        if outcome not in outcomes:
            raise ParameterError(f"unknown outcome '{outcome}'{did_you_mean(outcome, outcomes)} "
                                 f"(outcomes: {', '.join(outcomes)})")
        probs = self.con.execute("select experiment, probability from outcomes where outcome = ? order by experiment",
                                 [outcome]).df()
        return self.table("design"), probs

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Write every table to ``directory/<table>.parquet`` (each atomically); returns the files."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for (name,) in self.con.execute("show tables").fetchall():
            target = directory / f"{name}.parquet"
            tmp = directory / f".{name}.parquet.tmp-{os.getpid()}"
            order = _SORT.get(name)
            query = f"select * from {_q(name)}" + (f" order by {order}" if order else "")
            try:  # atomic: an interrupted export never leaves a half-written table behind
                self.con.execute(f"copy ({query}) to '{str(tmp).replace(chr(39), chr(39) * 2)}' (format parquet)")
                os.replace(tmp, target)
            finally:
                if tmp.exists():
                    tmp.unlink()
            files.append(target)
        return files

    def close(self) -> None:
        try:
            self.con.close()
        except Exception:  # pragma: no cover
            pass

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _describe(identity: dict) -> str:
    d = identity.get("design", {})
    return (f"scenario {identity.get('scenario')}, design {d.get('design')}, {d.get('samples')} samples, "
            f"{identity.get('runs')} runs, seed {d.get('seed')}")


def _differences(a: dict, b: dict) -> str:
    keys = []
    for k in sorted(set(a) | set(b)):
        if k == "design":
            da, db = a.get(k, {}), b.get(k, {})
            keys += [f"design.{kk}" for kk in sorted(set(da) | set(db)) if da.get(kk) != db.get(kk)]
        elif a.get(k) != b.get(k):
            keys.append(k)
    return ", ".join(keys) or "nothing visible"


def summarise_runs(ds, per_run: bool) -> tuple[list, list, Any]:
    """Per-outcome and per-variable summary rows of one experiment's Dataset (computed in workers)."""
    ok = ~ds["failed"].values
    n = int(ok.sum())
    outs = []
    for name, s in outcome_summary(ds).items():
        weeks = ds["outcome_week"].sel(outcome=name).values[ok]
        hit = weeks[~np.isnan(weeks)]
        outs.append((name, n, s["count"], float(s["probability"]) if n else None, float(s["ci95"][0]),
                     float(s["ci95"][1]), s["median_week"], float(hit.mean()) if hit.size else None))
    states = [(name, s["mean"], s["p05"], s["p95"]) for name, s in state_summary(ds).items()]
    runs_table = None
    if per_run:
        ow = ds["outcome_week"].values
        o_idx, r_idx = np.nonzero(~np.isnan(ow))
        names = np.asarray(ds["outcome"].values)
        runs_table = pd.DataFrame({"experiment": 0, "run": r_idx.astype(np.int64),
                                   "outcome": names[o_idx].astype(str), "week": ow[o_idx, r_idx]})
    return outs, states, runs_table
