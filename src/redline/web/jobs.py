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

__all__ = ["Job", "Session", "SessionStore", "JobRunner", "Busy"]


class Busy(RedlineError):
    """The server is at one of its global limits (sessions, jobs, memory): try again later (503)."""

MAX_SESSIONS = 500
SESSION_IDLE_S = 2 * 3600.0
"""A session may be dropped for a new one only after this long without a request (seconds)."""
MAX_ACTIVE_JOBS = 8
"""Jobs queued or running across all sessions (the pool runs ``workers`` of them at a time)."""
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
    posterior: Any = None  # the Posterior the runs draw from (None: the priors)
    origin: str = "bundled"  # where the scenario came from: bundled, file or upload

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
    last_seen: float = field(default_factory=time.monotonic)
    stored: bool = True  # False: a request without a (known) cookie, which has nothing to keep

    def busy(self) -> bool:
        return any(j.status in ("queued", "running") for j in self.jobs.values())


class SessionStore:
    """Sessions by id. A session is created only when a request has something to keep (an
    upload, a job); requests without a cookie read an empty, unstored session. Beyond
    :data:`MAX_SESSIONS`, only a session idle for :data:`SESSION_IDLE_S` with no job running may
    make room: anonymous traffic can never evict someone's uploads and results."""

    def __init__(self, limit: int = MAX_SESSIONS, idle_s: float = SESSION_IDLE_S):
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit
        self._idle_s = idle_s

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, sid: str | None) -> Session:
        """The stored session ``sid``, or an empty unstored one (nothing is created)."""
        with self._lock:
            if sid and sid in self._sessions:
                self._sessions.move_to_end(sid)
                session = self._sessions[sid]
                session.last_seen = time.monotonic()
                return session
            return Session("", stored=False)

    def keep(self, session: Session) -> Session:
        """``session`` itself if stored, else a new stored session (raises :class:`Busy` when
        every slot holds a live session)."""
        if session.stored:
            return session
        with self._lock:
            if len(self._sessions) >= self._limit:
                now = time.monotonic()
                idle = next((k for k, s in self._sessions.items()
                             if now - s.last_seen > self._idle_s and not s.busy()), None)
                if idle is None:
                    raise Busy(f"the app holds {len(self._sessions)} live sessions, its limit; try again later")
                del self._sessions[idle]
            new = Session(secrets.token_urlsafe(18))
            self._sessions[new.id] = new
            return new

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

    def __init__(self, workers: int = 2, max_active: int = MAX_ACTIVE_JOBS, memory: int | None = None):
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._max_active = max_active
        self._memory = memory  # bytes for all queued and running jobs (None: half the memory budget)
        self._reserved: dict[str, int] = {}  # job id -> estimated bytes

    def admit(self, job: Job, estimate: int) -> None:
        """Reserve room for ``job`` (its estimated peak bytes) or raise :class:`Busy`."""
        from redline.budget import format_bytes, memory_budget

        limit = self._memory if self._memory is not None else memory_budget() // 2
        with self._lock:
            if len(self._reserved) >= self._max_active:
                raise Busy(f"{len(self._reserved)} runs are queued or running on this app, its limit; try again shortly")
            used = sum(self._reserved.values())
            if used + estimate > limit:
                raise Busy(f"this run needs about {format_bytes(estimate)}; the app has {format_bytes(max(limit - used, 0))} "
                           f"of its {format_bytes(limit)} for runs free now; try fewer runs or wait")
            self._reserved[job.id] = estimate

    def _release(self, job: Job) -> None:
        with self._lock:
            self._reserved.pop(job.id, None)

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
                self._release(job)

        self._executor().submit(run)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
