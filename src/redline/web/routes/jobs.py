"""Runs and comparisons in the background, and their downloads.

``POST /api/jobs``                    :class:`JobRequest`: check, queue; 202 ``{id, status}``.
``GET /api/jobs/{id}?wait=S``         the job (long polling, at most 5 s).
``GET /api/jobs/{id}/results.csv``    one row per (strategy, run); ``results.parquet`` the same.
``GET /api/jobs/{id}/report.html``    the self-contained report.
"""
from __future__ import annotations

import asyncio
import io
import json
import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from redline.budget import MAX_SEED
from redline.errors import RedlineError
from redline.jsonable import to_jsonable
from redline.limits import MAX_HORIZON, MAX_WEB_RUNS
from redline.web.context import Ctx
from redline.web.http import HTTPProblem, json_model
from redline.web.jobs import Job, new_id
from redline.web.parameters import Prior, posterior_record

__all__ = ["router", "JobRequest", "CompareRequest", "MAX_RUNS", "TRAJECTORY_BUDGET", "MAX_WAIT_S"]

MAX_RUNS = MAX_WEB_RUNS  # the name the app and its tests use
TRAJECTORY_BUDGET = 25_000_000  # values (runs × weeks × variables) per arm kept for fan charts
MAX_WAIT_S = 5.0
"""Longest a job status request is held while the job's stage does not change (seconds)."""


def _number_check(what: str, *, integer: bool = False, low: float | None = None, high: float | None = None,
                  optional: bool = False):
    """A check of one JSON number (not a bool, finite), whole if ``integer``, within ``low..high``
    (``None`` passes when ``optional``); its message names ``what``."""
    def check(value: Any) -> Any:
        if optional and value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PydanticCustomError("redline_number", f"{what} must be a number (and finite), got "
                                                        f"{json.dumps(value)[:40]}")
        if integer and int(value) != value:
            raise PydanticCustomError("redline_number", f"{what} must be a whole number, got {value}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise PydanticCustomError("redline_number", f"{what} must be in {low:g}..{high:g}, got {value:g}")
        return int(value) if integer else float(value)

    return check


def _number(what: str, **bounds: Any) -> BeforeValidator:
    return BeforeValidator(_number_check(what, **bounds))


class CompareRequest(BaseModel):
    """Compare two strategies of one actor on paired runs (the same seed for both arms)."""

    model_config = ConfigDict(extra="ignore")

    actor: str
    strategies: tuple[str, str]

    @field_validator("strategies")
    @classmethod
    def _different(cls, value: tuple[str, str]) -> tuple[str, str]:
        if value[0] == value[1]:
            raise PydanticCustomError("redline_compare", "pick two different strategies to compare")
        return value


class JobRequest(BaseModel):
    """A run (or, with ``compare``, a comparison) of a scenario the session may use."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(json_schema_extra={"problem": "say which scenario to run: {\"scenario\": \"<id>\"}"})
    runs: Annotated[int, _number("runs", integer=True, low=1, high=MAX_RUNS)] = 2000
    seed: Annotated[int, _number("seed", integer=True, low=0, high=MAX_SEED)] = 0
    horizon: Annotated[int | None, _number("horizon", integer=True, low=1, high=MAX_HORIZON, optional=True)] = None
    strategies: dict[str, str] = Field(default_factory=dict,
                                       json_schema_extra={"problem": "strategies must map actor -> strategy name"})
    params: dict[str, float] = Field(default_factory=dict,
                                     json_schema_extra={"problem": "params must map name -> number"})
    compare: CompareRequest | None = Field(
        None, json_schema_extra={"problem": "compare must be {\"actor\": ..., \"strategies\": [a, b]}"})
    prior: Prior = False
    """Run from the priors even when a posterior ships beside the scenario (the CLI's ``--prior``)."""

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario(cls, value: Any) -> Any:
        if not isinstance(value, str):  # a number is not a scenario's name (no coercion)
            raise PydanticCustomError("redline_scenario", "say which scenario to run: {\"scenario\": \"<id>\"}")
        return value

    @field_validator("strategies", mode="before")
    @classmethod
    def _strategies(cls, value: Any) -> Any:
        if not value:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise PydanticCustomError("redline_strategies", "strategies must map actor -> strategy name")
        return {k: v for k, v in value.items() if v}  # an empty choice is the actor's default

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        if not value:
            return {}
        if not isinstance(value, dict):
            raise PydanticCustomError("redline_params", "params must map name -> number")
        return {str(k): _number_check(f"parameter {k}")(v) for k, v in value.items()}

    def as_job(self) -> dict[str, Any]:
        """The request as a job records it (and the page shows it back)."""
        cmp = None if self.compare is None else {"actor": self.compare.actor,
                                                 "strategies": list(self.compare.strategies)}
        return {"scenario": self.scenario, "runs": self.runs, "seed": self.seed, "horizon": self.horizon,
                "strategies": self.strategies, "params": self.params, "compare": cmp, "prior": self.prior}


def run_job(job: Job) -> None:
    """The work of one job: simulate (or compare), then summarise and draw the charts."""
    from redline.experiments.compare import compare, simulate
    from redline.report import figures as F
    from redline.report.build import fan_variables
    from redline.report.inputs import ReportInput
    from redline.results.summary import action_summary, outcome_summary, red_line_summary, state_summary, summarize

    req, loaded = job.request, job.loaded
    n_vars = len(loaded.spec.state)
    horizon = req["horizon"] or loaded.spec.meta.horizon
    keep = req["runs"] * horizon * n_vars <= TRAJECTORY_BUDGET
    job.stage, job.progress = f"simulating {req['runs']:,} runs", 0.05
    cmp = req.get("compare")
    if cmp:
        job.stage = f"simulating {req['runs']:,} paired runs for each of {', '.join(cmp['strategies'])}"
        result = compare(loaded, actor=cmp["actor"], strategies=cmp["strategies"], runs=req["runs"],
                         horizon=req["horizon"], seed=req["seed"], params=req["params"],
                         fixed={a: s for a, s in req["strategies"].items() if a != cmp["actor"]},
                         trajectories=keep, posterior=job.posterior)
        datasets = result.datasets
        summary = {"kind": "compare", **result.summary()}
        blocks = summary["strategies"]
    else:
        ds = simulate(loaded, runs=req["runs"], horizon=req["horizon"], seed=req["seed"],
                      strategies=req["strategies"], params=req["params"], trajectories=keep, posterior=job.posterior)
        datasets = {"run": ds}
        summary = {"kind": "run", **summarize(ds)}
        blocks = {"run": outcome_summary(ds)}
    summary["posterior"] = posterior_record(job.posterior)  # the report says it too, the file by name only
    job.stage, job.progress = "drawing charts", 0.8
    data = ReportInput(kind=summary["kind"], summary=summary, datasets=datasets, loaded=loaded)
    as_of = loaded.spec.meta.as_of
    charts = {"outcomes": F.to_svg(F.outcome_bars(blocks)),
              "timing": F.to_svg(F.cumulative_chart(datasets, as_of=as_of))}
    if keep:
        variables = fan_variables(data)
        if variables:
            units = {k: v.unit for k, v in loaded.spec.state.items() if v.unit}
            charts["state"] = F.to_svg(F.fan_charts(datasets, variables, as_of=as_of, units=units))
    job.datasets, job.summary = datasets, summary
    job.result = {
        "kind": summary["kind"], "scenario": loaded.id, "runs": req["runs"], "seed": req["seed"],
        "horizon": int(next(iter(datasets.values())).attrs["horizon"]),
        "strategies": req["strategies"], "params": req["params"], "compare": cmp,
        "posterior": summary["posterior"], "prior": req["prior"], "origin": job.origin,
        "outcomes": blocks, "differences": summary.get("differences", []),
        "final_state": {name: state_summary(ds) for name, ds in datasets.items()},
        "red_lines": {name: red_line_summary(ds) for name, ds in datasets.items()},
        "actions": {name: action_summary(ds) for name, ds in datasets.items()},
        "charts": charts,
        "notes": [] if keep else [f"fan charts need per-week state; {req['runs']:,} runs is above the app's "
                                  "memory budget for them (use fewer runs or the CLI)"],
        "elapsed_s": summary.get("elapsed_s"),
    }


def check_job(loaded, req: dict[str, Any]) -> int:
    """The engine's own checks (unknown actor or strategy, parameter out of its range) for every arm,
    before queueing; returns the job's estimated peak bytes (engine estimate, fan-chart trajectories,
    one per arm), checked against the memory budget."""
    from redline.budget import check_memory
    from redline.escalation.common import make_setup, memory_parts

    cmp, base = req["compare"], req["strategies"]
    arms = [{**base, cmp["actor"]: s} for s in cmp["strategies"]] if cmp else [base]
    setup = [make_setup(loaded.program, seed=req["seed"], horizon=req["horizon"], strategies=strategies,
                        params=req["params"]) for strategies in arms][0]
    runs = req["runs"]
    keep = runs * setup.horizon * len(loaded.spec.state) <= TRAJECTORY_BUDGET
    parts = {k: v * len(arms) for k, v in memory_parts(loaded.program, setup, runs, keep).items()}
    return check_memory(parts, f"a web run of {runs:,} runs of '{loaded.id}'", "try fewer runs")


def tables(job: Job):
    """One row per (strategy, run): outcome weeks and final state, as a pandas DataFrame."""
    import numpy as np
    import pandas as pd

    frames = []
    for name, ds in job.datasets.items():
        frame = pd.DataFrame({"strategy": name, "run": ds["run"].values, "failed": ds["failed"].values,
                              "stopped_week": ds["stopped_week"].values})
        for o in ds["outcome"].values.tolist():
            frame[f"{o}_week"] = ds["outcome_week"].sel(outcome=o).values
        for v in ds["variable"].values.tolist():
            frame[f"final_{v}"] = ds["final_state"].sel(variable=v).values
        for a in ds["action"].values.tolist():
            frame[f"count_{a}"] = ds["action_count"].sel(action=a).values.astype(np.int64)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


router = APIRouter()


@router.post("/api/jobs", status_code=202)
async def start_job(request: Request, ctx: Ctx, body: Annotated[JobRequest, Depends(json_model(JobRequest))]):
    loaded, origin = ctx.loaded(request, body.scenario)
    req = body.as_job()
    memory = check_job(loaded, req)
    job = Job(new_id("job"), req, origin=origin)
    job.loaded = loaded
    job.posterior = await ctx.off_loop(ctx.posterior, loaded, prior=body.prior)  # reading a file: off the loop
    ctx.runner.admit(job, memory)
    try:
        ctx.sessions.add_job(request.state.session, job)
    except RedlineError:
        ctx.runner._release(job)
        raise
    ctx.runner.submit(job, run_job)
    return {"id": job.id, "status": job.status}


@router.get("/api/jobs/{jid}")
async def job_status(request: Request, ctx: Ctx, jid: str, wait: float = 0.0):
    """The job's state; with ``wait`` (seconds, at most 5), hold the answer until the job's stage
    changes or it finishes (long polling: fewer requests, and prompt updates)."""
    job = ctx.job(request, jid)
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_S)
    seen = (job.status, job.stage)
    while time.monotonic() < deadline and (job.status, job.stage) == seen and job.status in ("queued", "running"):
        await asyncio.sleep(0.05)
    return to_jsonable(job.public())


@router.get("/api/jobs/{jid}/results.csv")
async def results_csv(request: Request, ctx: Ctx, jid: str):
    job = ctx.finished(request, jid)
    text = tables(job).to_csv(index=False)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-{jid}.csv"'})


@router.get("/api/jobs/{jid}/results.parquet")
async def results_parquet(request: Request, ctx: Ctx, jid: str):
    job = ctx.finished(request, jid)
    buf = io.BytesIO()
    try:
        tables(job).to_parquet(buf, index=False)
    except ImportError:
        raise HTTPProblem(501, "Parquet needs pyarrow (pip install 'redline[experiments]'); CSV works") from None
    return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                    headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-{jid}.parquet"'})


@router.get("/api/jobs/{jid}/report.html")
async def report_html(request: Request, ctx: Ctx, jid: str):
    from redline.report import build_html
    from redline.report.inputs import ReportInput

    job = ctx.finished(request, jid)
    data = ReportInput(kind=job.summary["kind"], summary=job.summary, datasets=job.datasets, loaded=job.loaded,
                       source=f"the redline app ({job.loaded.id}, {time.strftime('%Y-%m-%d %H:%M')})")
    html = build_html(data)
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-report.html"'})
