"""The local web app: a FastAPI server and a small vanilla-JS page served from package files.

Routes
------
``GET /``                         the page; ``GET /static/<file>`` its script and stylesheet (allow-list).
``GET /api/scenarios``            bundled scenarios and this session's uploads.
``POST /api/uploads``             a scenario YAML (raw body or multipart ``file``): validated, kept per session.
``GET /api/scenarios/{ref}``      controls (strategies, parameters), the picture and the provenance.
``POST /api/jobs``                start a run or a comparison in the background; ``GET /api/jobs/{id}`` polls it.
``GET /api/jobs/{id}/results.csv|results.parquet|report.html``  downloads.
``GET /api/store``                the sweep store given with ``--store`` (when redline.results.store can read it).
``GET /play``, ``/api/play...``   the web seat: play an actor in the browser (:mod:`redline.web.play`).

Errors are JSON ``{"error": message, "line": n, "column": n}`` with a 4xx status; the server keeps
serving whatever a request contains.
"""
from __future__ import annotations

import io
import json
import re
import time
from importlib import resources
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from redline.errors import Location, ParameterError, RedlineError, ScenarioError
from redline.limits import MAX_HORIZON
from redline.web.guard import BodyError, RequestGuard, read_body
from redline.web.jobs import Busy, Job, JobRunner, SessionStore, new_id

__all__ = ["create_app", "MAX_UPLOAD_BYTES", "MAX_BODY_BYTES", "MAX_RUNS", "TRAJECTORY_BUDGET"]

MAX_UPLOAD_BYTES = 1_000_000  # a scenario is a few tens of kB; the file loader's own limit is 5 MB
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64_000  # multipart overhead
MAX_JSON_BYTES = 64_000
MAX_RUNS = 50_000
TRAJECTORY_BUDGET = 25_000_000  # values (runs × weeks × variables) per arm kept for fan charts
COOKIE = "redline_session"
_REF = re.compile(r"^(upload-[0-9a-f]{16}|[a-z0-9][a-z0-9-]{0,63})\Z")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                       "connect-src 'self'; frame-ancestors 'none'"}


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def _static_files() -> dict[str, bytes]:
    """The page's files, read once from the package: the only files the app ever serves."""
    folder = resources.files("redline.web") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir()
            if entry.is_file() and Path(entry.name).suffix in _STATIC_TYPES}


def _error_payload(err: RedlineError) -> dict[str, Any]:
    loc = getattr(err, "location", None)
    payload: dict[str, Any] = {"error": str(err), "message": getattr(err, "message", str(err))}
    if loc is not None:
        payload.update({"file": loc.file, "line": loc.line, "column": loc.column})
    return payload


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPProblem(413, f"request is {int(declared):,} bytes; the limit is {limit:,}")
        except ValueError:
            raise HTTPProblem(400, "bad Content-Length header") from None
    try:  # a size limit and deadlines: half a body held open cannot tie up the server
        return await read_body(request.stream(), limit)
    except BodyError as err:
        raise HTTPProblem(err.status, err.message) from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _json_body(raw: bytes) -> Any:
    """Parse a request's JSON: standard JSON only (no NaN/Infinity), numbers finite, bounded depth."""
    import math

    try:
        body = json.loads(raw or b"{}", parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPProblem(400, "the request body must be JSON") from None
    except ValueError as err:
        raise HTTPProblem(400, f"the request body must be standard JSON: {err}") from None
    except RecursionError:
        raise HTTPProblem(400, "the request body nests too deeply") from None

    def check(node, depth=0):
        if depth > 16:
            raise HTTPProblem(400, "the request body nests too deeply")
        if isinstance(node, float) and not math.isfinite(node):
            raise HTTPProblem(400, "numbers in the request must be finite (1e400 is infinite)")
        if isinstance(node, dict):
            for value in node.values():
                check(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                check(value, depth + 1)

    check(body)
    return body


def _scenario_info(loaded, ref: str, origin: str) -> dict[str, Any]:
    spec = loaded.spec
    strategies: dict[str, list[dict[str, str]]] = {}
    for sid, s in spec.strategies.items():
        strategies.setdefault(s.actor, []).append({"id": sid, "description": s.description})

    def knob(name, u, kind):
        return {"name": name, "kind": kind, "low": u.low, "high": u.high, "default": u.default,
                "unit": u.unit, "description": u.description}

    return {
        "ref": ref, "origin": origin, "id": spec.meta.id, "title": spec.meta.title,
        "as_of": spec.meta.as_of.isoformat(), "horizon": spec.meta.horizon, "description": spec.meta.description,
        "actors": [{"id": aid, "name": a.name, "kind": a.kind, "default_strategy": a.strategy,
                    "strategies": strategies.get(aid, [])} for aid, a in spec.actors.items()],
        "parameters": [knob(n, u, "uncertainty") for n, u in spec.uncertainties.items()]
                      + [knob(n, u, "lever") for n, u in spec.levers.items()],
        "outcomes": [{"id": o, "description": v.description, "absorbing": v.absorbing}
                     for o, v in spec.outcomes.items()],
        "warnings": loaded.warnings[:50],
    }


def _provenance(loaded) -> list[dict[str, Any]]:
    from redline.provenance import element_table

    rows = []
    for eid, entry in element_table(loaded).items():
        row = {"element": eid, **entry}
        src = entry.get("source")
        text = loaded.source_texts.get(src["id"]) if src else None
        if text is not None and src.get("start") is not None:
            lo, hi = max(0, src["start"] - 240), min(len(text), src["end"] + 240)
            row["context"] = {"before": " ".join(text[lo:src["start"]].split()),
                              "passage": " ".join(text[src["start"]:src["end"]].split()),
                              "after": " ".join(text[src["end"]:hi].split())}
        rows.append(row)
    return rows


def _number(value: Any, what: str, *, integer: bool = False, low: float | None = None,
            high: float | None = None) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise HTTPProblem(400, f"{what} must be a number (and finite), got {json.dumps(value)[:40]}")
    if integer and int(value) != value:
        raise HTTPProblem(400, f"{what} must be a whole number, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise HTTPProblem(400, f"{what} must be in {low:g}..{high:g}, got {value:g}")
    return int(value) if integer else float(value)


def _run_job(job: Job) -> None:
    """The work of one job: simulate (or compare), then summarise and draw the charts."""
    from redline.results.summary import action_summary, outcome_summary, red_line_summary, state_summary, summarize
    from redline.experiments.compare import compare, simulate
    from redline.report import figures as F
    from redline.report.build import fan_variables
    from redline.report.inputs import ReportInput

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
                         trajectories=keep)
        datasets = result.datasets
        summary = {"kind": "compare", **result.summary()}
        blocks = summary["strategies"]
    else:
        ds = simulate(loaded, runs=req["runs"], horizon=req["horizon"], seed=req["seed"],
                      strategies=req["strategies"], params=req["params"], trajectories=keep)
        datasets = {"run": ds}
        summary = {"kind": "run", **summarize(ds)}
        blocks = {"run": outcome_summary(ds)}
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
        "outcomes": blocks, "differences": summary.get("differences", []),
        "final_state": {name: state_summary(ds) for name, ds in datasets.items()},
        "red_lines": {name: red_line_summary(ds) for name, ds in datasets.items()},
        "actions": {name: action_summary(ds) for name, ds in datasets.items()},
        "charts": charts,
        "notes": [] if keep else [f"fan charts need per-week state; {req['runs']:,} runs is above the app's "
                                  "memory budget for them (use fewer runs or the CLI)"],
        "elapsed_s": summary.get("elapsed_s"),
    }


def _job_memory(loaded, runs: int, horizon, seed: int, strategies, params, cmp) -> int:
    """Estimated peak bytes of a job (engine estimate, fan-chart trajectories, one per arm), checked
    against the memory budget before it is queued."""
    from redline.budget import check_memory
    from redline.escalation.common import make_setup, memory_parts

    setup = make_setup(loaded.program, rng=seed, horizon=horizon, strategies=strategies, params=params)
    keep = runs * setup.horizon * len(loaded.spec.state) <= TRAJECTORY_BUDGET
    arms = 2 if cmp else 1
    parts = {k: v * arms for k, v in memory_parts(loaded.program, setup, runs, keep).items()}
    return check_memory(parts, f"a web run of {runs:,} runs of '{loaded.id}'", "try fewer runs")


def _tables(job: Job):
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


def _store_input(store: Path):
    """The sweep store as a report input, with its sensitivity indices and PRIM boxes computed."""
    from redline.analysis import sweep_analyses
    from redline.report.inputs import load_input, with_analyses

    return with_analyses(load_input(store), sweep_analyses(store))


def create_app(*, store: str | Path | None = None, scenarios: Sequence[str | Path] = (), workers: int = 2,
               hosts: tuple[str, ...] = (), max_active_jobs: int | None = None, job_memory: int | None = None):
    """Build the app. ``store`` is a sweep store to browse (``redline serve --store``); ``scenarios``
    are the user's own scenario files (``redline serve FILE...``), loaded now (a bad file is an error
    here, located) and offered beside the bundled ones under their ids; ``hosts`` are names besides
    127.0.0.1/localhost/[::1] that the app answers to (``--host``).

    The app is wrapped in :class:`~redline.web.guard.RequestGuard` (Host/Origin allow-list,
    declared body types)."""
    from redline.scenario import bundled_scenarios, load_scenario, scenario_from_text

    opened: dict[str, Any] = {}
    for path in scenarios:
        loaded_file = load_scenario(path)
        if loaded_file.id in opened or loaded_file.id in bundled_scenarios():
            raise ScenarioError(f"scenario id '{loaded_file.id}' is already taken by another scenario served; "
                                "give this file its own meta.id", Location(str(path)))
        opened[loaded_file.id] = loaded_file

    from contextlib import asynccontextmanager

    import asyncio

    from starlette.concurrency import run_in_threadpool

    static = _static_files()
    sessions = SessionStore()
    runner = JobRunner(workers=workers, memory=job_memory,
                       **({"max_active": max_active_jobs} if max_active_jobs is not None else {}))
    # CPU work done for a request (validating an upload, drawing a scenario) runs in worker
    # threads, at most this many at once, so the event loop keeps answering.
    cpu_slots = asyncio.Semaphore(max(1, workers))

    async def off_loop(fn, *args, **kwargs):
        try:
            await asyncio.wait_for(cpu_slots.acquire(), timeout=10.0)
        except asyncio.TimeoutError:
            raise HTTPProblem(503, "the app is busy; try again in a moment") from None
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        finally:
            cpu_slots.release()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.shutdown()

    app = FastAPI(title="redline", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    bundled_cache: dict[str, Any] = {}
    app.state.sessions, app.state.runner = sessions, runner

    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, err: HTTPProblem):
        return JSONResponse({"error": err.message, **err.extra}, status_code=err.status, headers=_HEADERS)

    @app.exception_handler(RedlineError)
    async def _redline(request: Request, err: RedlineError):
        return JSONResponse(_error_payload(err), status_code=503 if isinstance(err, Busy) else 400,
                            headers=_HEADERS)

    @app.exception_handler(404)
    async def _not_found(request: Request, err):
        return JSONResponse({"error": "not found"}, status_code=404, headers=_HEADERS)

    @app.exception_handler(405)
    async def _not_allowed(request: Request, err):
        return JSONResponse({"error": "method not allowed"}, status_code=405, headers=_HEADERS)

    @app.middleware("http")
    async def _limits_and_session(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"error": f"request is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}"},
                                status_code=413, headers=_HEADERS)
        raw = request.cookies.get(COOKIE)
        session = sessions.get(raw)  # a GET never creates a session
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            # only requests that can store something (an upload, a job, a game) get a session,
            # and a full table refuses new ones rather than evicting a live one
            try:
                session = sessions.keep(session)
            except Busy as err:
                return JSONResponse({"error": err.message}, status_code=503, headers=_HEADERS)
        request.state.session = session
        response = await call_next(request)
        for k, v in _HEADERS.items():
            response.headers.setdefault(k, v)
        session = request.state.session
        if session.stored and raw != session.id:
            response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/")
        return response


    def _loaded(request: Request, ref: str):
        if not _REF.match(ref):
            raise HTTPProblem(404, f"unknown scenario '{ref[:80]}'")
        if ref.startswith("upload-"):
            loaded = request.state.session.uploads.get(ref)
            if loaded is None:  # another session's upload is indistinguishable from none at all
                raise HTTPProblem(404, f"unknown upload '{ref}' (uploads belong to the browser session that sent them)")
            return loaded, "upload"
        if ref in opened:
            return opened[ref], "file"
        bundled = bundled_scenarios()
        if ref not in bundled:
            from redline.errors import did_you_mean

            raise HTTPProblem(404, f"unknown scenario '{ref}'{did_you_mean(ref, set(bundled) | set(opened))} "
                                   f"(bundled: {', '.join(bundled)})")
        if ref not in bundled_cache:
            bundled_cache[ref] = load_scenario(bundled[ref])
        return bundled_cache[ref], "bundled"

    def _job(request: Request, jid: str) -> Job:
        job = request.state.session.jobs.get(jid)
        if job is None:
            raise HTTPProblem(404, f"unknown job '{jid[:40]}'")
        return job

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return Response(static["index.html"], media_type=_STATIC_TYPES[".html"])

    from redline.web.play import create_play_router

    app.include_router(create_play_router(
        lambda request, ref: _loaded(request, ref)[0],
        lambda: Response(static["play.html"], media_type=_STATIC_TYPES[".html"]), HTTPProblem,
        lambda: new_id("game")))

    @app.get("/static/{name}")
    async def static_file(name: str):
        # Only the files read from the package at start-up, by exact name: nothing on disk is reachable.
        if name not in static:
            raise HTTPProblem(404, "not found")
        return Response(static[name], media_type=_STATIC_TYPES[Path(name).suffix],
                        headers={"Cache-Control": "no-cache"})

    @app.get("/api/health")
    async def health():
        return {"ok": True}

    @app.get("/api/scenarios")
    async def scenarios(request: Request):
        rows = [{"ref": sid, "title": f"{loaded.spec.meta.title} ({loaded.path.name})", "origin": "file"}
                for sid, loaded in opened.items()]
        for sid, path in bundled_scenarios().items():
            try:
                loaded, _ = _loaded(request, sid)
            except RedlineError as err:  # a broken bundled file is listed, not fatal
                rows.append({"ref": sid, "title": f"(invalid: {err})", "origin": "bundled"})
                continue
            rows.append({"ref": sid, "title": loaded.spec.meta.title, "origin": "bundled"})
        for uid, loaded in request.state.session.uploads.items():
            rows.append({"ref": uid, "title": f"{loaded.spec.meta.title} (uploaded)", "origin": "upload"})
        return {"scenarios": rows}

    @app.get("/api/scenarios/{ref}")
    async def scenario(request: Request, ref: str):
        from redline.report.graph import scenario_svg

        loaded, origin = _loaded(request, ref)
        info = _scenario_info(loaded, ref, origin)
        info["graph"] = await off_loop(scenario_svg, loaded.spec)  # layout is CPU work: off the loop
        info["provenance"] = await off_loop(_provenance, loaded)
        return info

    @app.post("/api/uploads", status_code=201)
    async def upload(request: Request):
        ctype = request.headers.get("content-type", "")
        body = await _read_limited(request, MAX_BODY_BYTES)
        name = "upload.yaml"
        if ctype.startswith("multipart/form-data"):
            from starlette.datastructures import UploadFile
            from starlette.formparsers import MultiPartException, MultiPartParser

            async def once():
                yield body

            try:
                form = await MultiPartParser(request.headers, once(), max_files=1, max_fields=5).parse()
            except MultiPartException as err:
                raise HTTPProblem(400, f"bad multipart upload: {err}") from None
            item = form.get("file")
            if not isinstance(item, UploadFile):
                raise HTTPProblem(400, "send the scenario as a form field named 'file'")
            name = Path(item.filename or name).name
            body = await item.read()
        else:
            given = request.headers.get("x-filename")
            if given:
                name = Path(given).name
        if len(body) > MAX_UPLOAD_BYTES:
            raise HTTPProblem(413, f"scenario is {len(body):,} bytes; uploads are limited to {MAX_UPLOAD_BYTES:,}")
        if not body.strip():
            raise HTTPProblem(400, "the upload is empty")
        name = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "upload.yaml"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise HTTPProblem(400, f"{name}: not UTF-8 text (byte {err.start}); is this a YAML file?",
                              file=name) from None
        try:
            loaded = await off_loop(scenario_from_text, text, name=name)  # validation is CPU work
        except RecursionError:
            raise HTTPProblem(400, f"{name}: the document nests too deeply", file=name) from None
        except ScenarioError as err:
            return JSONResponse(_error_payload(err), status_code=400)
        uid = sessions.add_upload(request.state.session, loaded)
        return {"ref": uid, **_scenario_info(loaded, uid, "upload")}

    @app.post("/api/jobs", status_code=202)
    async def start_job(request: Request):
        from redline.escalation.common import make_setup

        raw = await _read_limited(request, MAX_JSON_BYTES)
        body = _json_body(raw)
        if not isinstance(body, dict):
            raise HTTPProblem(400, "the request body must be a JSON object")
        unknown = set(body) - {"scenario", "runs", "seed", "horizon", "strategies", "params", "compare"}
        if unknown:
            raise HTTPProblem(400, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        ref = body.get("scenario")
        if not isinstance(ref, str):
            raise HTTPProblem(400, "say which scenario to run: {\"scenario\": \"<id>\"}")
        loaded, _ = _loaded(request, ref)
        runs = _number(body.get("runs", 2000), "runs", integer=True, low=1, high=MAX_RUNS)
        seed = _number(body.get("seed", 0), "seed", integer=True, low=0, high=2**63 - 1)
        horizon = body.get("horizon")
        if horizon is not None:
            horizon = _number(horizon, "horizon", integer=True, low=1, high=MAX_HORIZON)
        strategies = body.get("strategies") or {}
        params = body.get("params") or {}
        if not isinstance(strategies, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in strategies.items()):
            raise HTTPProblem(400, "strategies must map actor -> strategy name")
        strategies = {k: v for k, v in strategies.items() if v}
        if not isinstance(params, dict):
            raise HTTPProblem(400, "params must map name -> number")
        params = {str(k): _number(v, f"parameter {k}") for k, v in params.items()}
        cmp = body.get("compare")
        if cmp is not None:
            if not (isinstance(cmp, dict) and isinstance(cmp.get("actor"), str)
                    and isinstance(cmp.get("strategies"), list) and len(cmp["strategies"]) == 2
                    and all(isinstance(s, str) for s in cmp["strategies"])):
                raise HTTPProblem(400, "compare must be {\"actor\": ..., \"strategies\": [a, b]}")
            if cmp["strategies"][0] == cmp["strategies"][1]:
                raise HTTPProblem(400, "pick two different strategies to compare")
            cmp = {"actor": cmp["actor"], "strategies": list(cmp["strategies"])}
            for s in cmp["strategies"]:
                make_setup(loaded.program, rng=seed, horizon=horizon, strategies={**strategies, cmp["actor"]: s},
                           params=params)
        else:
            # the engine's own checks (unknown actor/strategy, parameter out of its range), before queueing
            make_setup(loaded.program, rng=seed, horizon=horizon, strategies=strategies, params=params)
        job = Job(new_id("job"), {"scenario": ref, "runs": runs, "seed": seed, "horizon": horizon,
                                  "strategies": strategies, "params": params, "compare": cmp})
        job.loaded = loaded
        runner.admit(job, _job_memory(loaded, runs, horizon, seed, strategies, params, cmp))
        try:
            sessions.add_job(request.state.session, job)
        except RedlineError:
            runner._release(job)
            raise
        runner.submit(job, _run_job)
        return {"id": job.id, "status": job.status}

    @app.get("/api/jobs/{jid}")
    async def job_status(request: Request, jid: str, wait: float = 0.0):
        """The job's state; with ``wait`` (seconds, at most 5), hold the answer until the job's stage
        changes or it finishes (long polling: fewer requests, and prompt updates)."""
        import asyncio

        from redline.jsonable import to_jsonable

        job = _job(request, jid)
        deadline = time.monotonic() + min(max(wait, 0.0), 5.0)
        seen = (job.status, job.stage)
        while time.monotonic() < deadline and (job.status, job.stage) == seen and job.status in ("queued", "running"):
            await asyncio.sleep(0.05)
        return to_jsonable(job.public())

    def _finished(request: Request, jid: str) -> Job:
        job = _job(request, jid)
        if job.status != "done":
            raise HTTPProblem(409, f"job {jid} is {job.status}; downloads are ready when it is done")
        return job

    @app.get("/api/jobs/{jid}/results.csv")
    async def results_csv(request: Request, jid: str):
        job = _finished(request, jid)
        text = _tables(job).to_csv(index=False)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-{jid}.csv"'})

    @app.get("/api/jobs/{jid}/results.parquet")
    async def results_parquet(request: Request, jid: str):
        job = _finished(request, jid)
        buf = io.BytesIO()
        try:
            _tables(job).to_parquet(buf, index=False)
        except ImportError:
            raise HTTPProblem(501, "Parquet needs pyarrow (pip install 'redline[experiments]'); CSV works") from None
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-{jid}.parquet"'})

    @app.get("/api/jobs/{jid}/report.html")
    async def report_html(request: Request, jid: str):
        from redline.report import build_html
        from redline.report.inputs import ReportInput

        job = _finished(request, jid)
        data = ReportInput(kind=job.summary["kind"], summary=job.summary, datasets=job.datasets, loaded=job.loaded,
                           source=f"the redline app ({job.loaded.id}, {time.strftime('%Y-%m-%d %H:%M')})")
        html = build_html(data)
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{job.loaded.id}-report.html"'})

    store_html: dict[str, Any] = {}

    @app.get("/api/store")
    def store_info():
        if store is None:
            raise HTTPProblem(404, "no store: start the app with --store FILE")
        if "data" not in store_html:
            store_html["data"] = _store_input(store)  # sensitivity and PRIM take seconds: once per server
        data = store_html["data"]
        return {"kind": data.kind, "summary": {k: v for k, v in data.summary.items() if k != "datasets"},
                "has_sensitivity": bool(data.sensitivity), "has_prim": bool(data.prim_boxes)}

    @app.get("/api/store/report.html")
    def store_report():  # sync: FastAPI runs it in a worker thread, so building it does not block the loop
        if store is None:
            raise HTTPProblem(404, "no store: start the app with --store FILE")
        from redline.report import build_html

        if "html" not in store_html:
            store_html.setdefault("data", _store_input(store))
            store_html["html"] = build_html(store_html["data"])
        return Response(store_html["html"], media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="sweep-report.html"'})

    app.state.sessions, app.state.runner = sessions, runner
    return RequestGuard(app, hosts=hosts)
