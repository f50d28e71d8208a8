"""What the web app's routers share: one :class:`WebContext` per app, kept in ``app.state.web`` and
handed to a route by the FastAPI dependency :func:`web_context` (``ctx: Ctx``).

It holds the page's files, the sessions and the job runner, the scenario files the server was
started with, the games of the web seat, and the lookups every router needs: a scenario by its
reference (bundled, opened from a file, or uploaded by this session), a job of this session, and
CPU work run off the event loop.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from redline.calibrate import shipped_posterior
from redline.errors import did_you_mean
from redline.scenario import bundled_scenarios, load_scenario
from redline.limits import MAX_HORIZON, MAX_WEB_RUNS
from redline.web.http import MAX_UPLOAD_BYTES, STATIC_TYPES, HTTPProblem
from redline.web.jobs import Job, JobRunner, SessionStore
from redline.web.play import GameTable

__all__ = ["WebContext", "web_context", "Ctx", "static_files", "fill_page", "PAGE_VALUES", "CPU_WAIT_S"]

CPU_WAIT_S = 10.0
"""Longest a request waits for a free CPU slot before it is answered 503 (seconds)."""
_REF = re.compile(r"^(upload-[0-9a-f]{16}|[a-z0-9][a-z0-9-]{0,63})\Z")
_PLACEHOLDER = re.compile(rb"\{\{([A-Z_]+)\}\}")


PAGE_VALUES = {"MAX_HORIZON": MAX_HORIZON, "MAX_WEB_RUNS": MAX_WEB_RUNS, "MAX_UPLOAD_BYTES": MAX_UPLOAD_BYTES}
"""Values written into the pages' ``{{NAME}}`` placeholders when they are read (the inputs' ``max``
and the upload limit), so the page's bounds are the ones the app checks, written once in
:mod:`redline.limits` and :mod:`redline.web.http`."""


def fill_page(text: bytes, values: dict[str, object] = PAGE_VALUES) -> bytes:
    """``text`` with each ``{{NAME}}`` replaced by ``values[NAME]``; an unknown name is an error."""
    def value(match: re.Match) -> bytes:
        name = match.group(1).decode()
        if name not in values:
            raise KeyError(f"the page asks for '{{{{{name}}}}}', which the app does not provide")
        return str(values[name]).encode()

    return _PLACEHOLDER.sub(value, text)


def static_files() -> dict[str, bytes]:
    """The page's files, read once from the package: the only files the app ever serves (HTML with
    its placeholders filled, see :data:`PAGE_VALUES`)."""
    folder = resources.files("redline.web") / "static"
    return {entry.name: fill_page(entry.read_bytes()) if entry.name.endswith(".html") else entry.read_bytes()
            for entry in folder.iterdir() if entry.is_file() and Path(entry.name).suffix in STATIC_TYPES}


@dataclass
class WebContext:
    """The state one app's routers share (see the module)."""

    sessions: SessionStore
    runner: JobRunner
    cpu_slots: asyncio.Semaphore
    """CPU work done for a request (validating an upload, drawing a scenario) runs in worker
    threads, at most this many at once, so the event loop keeps answering."""
    opened: dict[str, Any] = field(default_factory=dict)
    """Scenario files given to ``redline serve FILE...``, by id."""
    store: Path | None = None
    static: dict[str, bytes] = field(default_factory=static_files)
    games: GameTable = field(default_factory=GameTable)
    bundled: dict[str, Any] = field(default_factory=dict)  # bundled scenarios, loaded on first use
    store_cache: dict[str, Any] = field(default_factory=dict)  # the store's report input and HTML
    posteriors: dict[tuple[str, str], Any] = field(default_factory=dict)  # (file, scenario sha256) -> Posterior

    def page(self, name: str, **headers: str) -> Response:
        """One of the package's static files, by exact name (404 for any other name)."""
        if name not in self.static:
            raise HTTPProblem(404, "not found")
        return Response(self.static[name], media_type=STATIC_TYPES[Path(name).suffix], headers=headers or None)

    async def off_loop(self, fn, *args, **kwargs):
        """Run CPU work in a worker thread, at most ``cpu_slots`` at once; 503 when none frees up."""
        try:
            await asyncio.wait_for(self.cpu_slots.acquire(), timeout=CPU_WAIT_S)
        except asyncio.TimeoutError:
            raise HTTPProblem(503, "the app is busy; try again in a moment") from None
        try:
            return await run_in_threadpool(fn, *args, **kwargs)
        finally:
            self.cpu_slots.release()

    def loaded(self, request: Request, ref: str) -> tuple[Any, str]:
        """The scenario ``ref`` names for this request's session, and where it came from
        (``upload``, ``file`` or ``bundled``); 404 with a did-you-mean for any other name."""
        if not _REF.match(ref):
            raise HTTPProblem(404, f"unknown scenario '{ref[:80]}'")
        if ref.startswith("upload-"):
            loaded = request.state.session.uploads.get(ref)
            if loaded is None:  # another session's upload is indistinguishable from none at all
                raise HTTPProblem(404, f"unknown upload '{ref}' (uploads belong to the browser session that sent them)")
            return loaded, "upload"
        if ref in self.opened:
            return self.opened[ref], "file"
        bundled = bundled_scenarios()
        if ref not in bundled:
            raise HTTPProblem(404, f"unknown scenario '{ref}'{did_you_mean(ref, set(bundled) | set(self.opened))} "
                                   f"(bundled: {', '.join(bundled)})")
        if ref not in self.bundled:
            self.bundled[ref] = load_scenario(bundled[ref])
        return self.bundled[ref], "bundled"

    def posterior(self, loaded, *, prior: bool = False):
        """The posterior a job of ``loaded`` draws from: :func:`redline.calibrate.shipped_posterior`,
        the CLI's choice, so the app and ``redline run`` give the same numbers; None for the priors
        (``prior``, or no posterior beside the scenario, as for every upload). Read once per scenario
        file (served scenarios are loaded once too): a flagship's posterior takes about half a second."""
        if prior or loaded.path is None:
            return None
        key = (str(loaded.path), loaded.sha256)
        if key not in self.posteriors:
            self.posteriors[key] = shipped_posterior(loaded)
        return self.posteriors[key]

    def job(self, request: Request, jid: str) -> Job:
        """This session's job ``jid`` (404 for another session's)."""
        job = request.state.session.jobs.get(jid)
        if job is None:
            raise HTTPProblem(404, f"unknown job '{jid[:40]}'")
        return job

    def finished(self, request: Request, jid: str) -> Job:
        """This session's job ``jid``, done (409 while it is not)."""
        job = self.job(request, jid)
        if job.status != "done":
            raise HTTPProblem(409, f"job {jid} is {job.status}; downloads are ready when it is done")
        return job


def web_context(request: Request) -> WebContext:
    """FastAPI dependency: the app's :class:`WebContext`."""
    return request.app.state.web


Ctx = Annotated[WebContext, Depends(web_context)]
