"""Background jobs and per-session state for the web app.

Simulations run in a small thread pool so a long run never blocks the server; each job records
its stage and progress, which the page polls. Every upload and job belongs to one session (a
random id in a cookie): a session can neither list nor fetch another session's scenarios or results.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from redline.errors import RedlineError

__all__ = ["Job", "Session", "SessionStore", "JobRunner"]

MAX_SESSIONS = 500
MAX_UPLOADS_PER_SESSION = 20
MAX_JOBS_PER_SESSION = 12  # finished jobs kept for downloads; oldest dropped first
MAX_ACTIVE_JOBS_PER_SESSION = 2


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass
class Job:
    id: str
    request: dict[str, Any]
    status: str = "queued"  # queued | running | done | error
    stage: str = "waiting for a worker"
    progress: float = 0.0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None  # JSON payload for the page
    datasets: dict[str, Any] | None = None  # xarray Datasets, for downloads and the report
    summary: dict[str, Any] | None = None
    loaded: Any = None

    def public(self) -> dict[str, Any]:
        now = time.time()
        return {"id": self.id, "status": self.status, "stage": self.stage, "progress": round(self.progress, 3),
                "elapsed_s": round((self.finished or now) - (self.started or now), 2),
                "error": self.error, "result": self.result if self.status == "done" else None}


@dataclass
class Session:
    id: str
    uploads: OrderedDict = field(default_factory=OrderedDict)  # upload id -> LoadedScenario
    jobs: OrderedDict = field(default_factory=OrderedDict)  # job id -> Job


class SessionStore:
    """Sessions by id, least recently used dropped beyond :data:`MAX_SESSIONS`."""

    def __init__(self, limit: int = MAX_SESSIONS):
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, sid: str | None) -> Session:
        with self._lock:
            if sid and sid in self._sessions:
                self._sessions.move_to_end(sid)
                return self._sessions[sid]
            session = Session(secrets.token_urlsafe(18))
            self._sessions[session.id] = session
            while len(self._sessions) > self._limit:
                self._sessions.popitem(last=False)
            return session

    def add_upload(self, session: Session, loaded: Any) -> str:
        with self._lock:
            uid = new_id("upload")
            session.uploads[uid] = loaded
            while len(session.uploads) > MAX_UPLOADS_PER_SESSION:
                session.uploads.popitem(last=False)
            return uid

    def add_job(self, session: Session, job: Job) -> None:
        with self._lock:
            active = sum(1 for j in session.jobs.values() if j.status in ("queued", "running"))
            if active >= MAX_ACTIVE_JOBS_PER_SESSION:
                raise RedlineError(f"this session already has {active} runs in progress; wait for one to finish")
            session.jobs[job.id] = job
            finished = [k for k, j in session.jobs.items() if j.status in ("done", "error")]
            while len(session.jobs) > MAX_JOBS_PER_SESSION and finished:
                session.jobs.pop(finished.pop(0))


class JobRunner:
    """A thread pool that runs job functions and records their outcome on the :class:`Job`."""

    def __init__(self, workers: int = 2):
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:  # created on first use, and again after a shutdown (the app can be restarted)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="redline-job")
            return self._pool

    def submit(self, job: Job, work) -> None:
        def run() -> None:
            job.status, job.started, job.stage = "running", time.time(), "starting"
            try:
                work(job)
                job.status, job.progress, job.stage = "done", 1.0, "done"
            except RedlineError as err:
                job.status, job.error = "error", str(err)
            except MemoryError:
                job.status, job.error = "error", "out of memory: try fewer runs"
            except Exception as err:  # a bug must not take the server down; show it in the page
                job.status, job.error = "error", f"internal error: {type(err).__name__}: {err}"
            finally:
                job.finished = time.time()

        self._executor().submit(run)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
