"""The local web app: a FastAPI server and a small vanilla-JS page served from package files.

Routes (one router per resource, in :mod:`redline.web.routes`)
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

import asyncio
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from redline.errors import Location, RedlineError, ScenarioError
from redline.scenario import bundled_scenarios, load_scenario
from redline.web.context import WebContext
from redline.web.guard import RequestGuard
from redline.web.http import (MAX_BODY_BYTES, MAX_UPLOAD_BYTES, SECURITY_HEADERS, HTTPProblem, error_payload)
from redline.web.jobs import Busy, JobRunner, SessionStore
from redline.web.routes import ROUTERS
from redline.web.routes.jobs import MAX_RUNS, TRAJECTORY_BUDGET

__all__ = ["create_app", "MAX_UPLOAD_BYTES", "MAX_BODY_BYTES", "MAX_RUNS", "TRAJECTORY_BUDGET"]

COOKIE = "redline_session"


def _open_files(scenarios: Sequence[str | Path]) -> dict[str, Any]:
    """The user's scenario files, loaded now (a bad file is an error here, located), by id; an id
    taken by another file or a bundled scenario is an error."""
    opened: dict[str, Any] = {}
    for path in scenarios:
        loaded = load_scenario(path)
        if loaded.id in opened or loaded.id in bundled_scenarios():
            raise ScenarioError(f"scenario id '{loaded.id}' is already taken by another scenario served; "
                                "give this file its own meta.id", Location(str(path)))
        opened[loaded.id] = loaded
    return opened


def _json_error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, err: HTTPProblem):
        return JSONResponse({"error": err.message, **err.extra}, status_code=err.status, headers=SECURITY_HEADERS)

    @app.exception_handler(RedlineError)
    async def _redline(request: Request, err: RedlineError):
        return JSONResponse(error_payload(err), status_code=503 if isinstance(err, Busy) else 400,
                            headers=SECURITY_HEADERS)

    @app.exception_handler(404)
    async def _not_found(request: Request, err):
        return _json_error("not found", 404)

    @app.exception_handler(405)
    async def _not_allowed(request: Request, err):
        return _json_error("method not allowed", 405)


def _add_session_middleware(app: FastAPI, sessions: SessionStore) -> None:
    """Refuse a declared body above :data:`MAX_BODY_BYTES`; give each request its session (a GET
    never creates one); add the security headers and the session cookie to every answer."""
    @app.middleware("http")
    async def _limits_and_session(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _json_error(f"request is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}", 413)
        raw = request.cookies.get(COOKIE)
        session = sessions.get(raw)  # a GET never creates a session
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            # only requests that can store something (an upload, a job, a game) get a session,
            # and a full table refuses new ones rather than evicting a live one
            try:
                session = sessions.keep(session)
            except Busy as err:
                return _json_error(err.message, 503)
        request.state.session = session
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        session = request.state.session
        if session.stored and raw != session.id:
            response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/")
        return response


def create_app(*, store: str | Path | None = None, scenarios: Sequence[str | Path] = (), workers: int = 2,
               hosts: tuple[str, ...] = (), max_active_jobs: int | None = None, job_memory: int | None = None):
    """Build the app. ``store`` is a sweep store to browse (``redline serve --store``); ``scenarios``
    are the user's own scenario files (``redline serve FILE...``), loaded now (a bad file is an error
    here, located) and offered beside the bundled ones under their ids; ``hosts`` are names besides
    127.0.0.1/localhost/[::1] that the app answers to (``--host``).

    The app is wrapped in :class:`~redline.web.guard.RequestGuard` (Host/Origin allow-list,
    declared body types); the FastAPI app behind it is ``.app``, its shared state
    ``.app.state.web`` (a :class:`~redline.web.context.WebContext`)."""
    opened = _open_files(scenarios)  # first: a bad file leaves nothing running
    runner = JobRunner(workers=workers, memory=job_memory,
                       **({"max_active": max_active_jobs} if max_active_jobs is not None else {}))
    ctx = WebContext(sessions=SessionStore(), runner=runner, cpu_slots=asyncio.Semaphore(max(1, workers)),
                     opened=opened, store=None if store is None else Path(store))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.shutdown()

    app = FastAPI(title="redline", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.web = ctx
    app.state.sessions, app.state.runner = ctx.sessions, ctx.runner
    _add_error_handlers(app)
    _add_session_middleware(app, ctx.sessions)
    for router in ROUTERS:
        app.include_router(router)
    return RequestGuard(app, hosts=hosts)
