"""Where a sweep's experiments run: one protocol, three executors (serial, processes, Dask).

As the EMA Workbench does with its evaluators (Kwakkel 2017, doi:10.1016/j.envsoft.2017.06.054),
:func:`~redline.experiments.perform_experiments` talks to an executor only through
:class:`Executor`: enter it (start workers or connect to a scheduler), ``map`` a function over
chunks of experiments (a sweep's chunks are its batches; results in any order, the caller sorts),
leave it (stop the workers). The batches and their seeds are fixed by the design
(:mod:`redline.experiments.batches`), so where a chunk runs changes nothing in its numbers.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from redline.errors import ParameterError, did_you_mean

__all__ = ["EXECUTORS", "CONNECT_TIMEOUT_S", "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor",
           "make_executor", "dask_client"]

EXECUTORS = ("serial", "processes", "dask")
CONNECT_TIMEOUT_S = 5



def exit_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Worker initializer: end this worker when the sweep's process is gone, even killed with -9.

    A killed parent runs no clean-up, and its pool's workers hold both ends of their task queue,
    so they would wait (or compute) forever. On Linux the kernel signals the worker
    (``PR_SET_PDEATHSIG``); elsewhere, and as a fallback, a daemon thread watches the parent.
    """
    import threading

    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="redline-exit-with-parent", daemon=True).start()


class Executor(Protocol):
    """Runs ``func(payload, chunk)`` for every chunk and yields the results as they finish."""

    name: str
    workers: int
    """Workers the chunks are spread over (1 for serial); it never changes how work is chunked."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: Any) -> None: ...

    def map(self, func: Callable[[dict, list], Any], payload: dict, chunks: Iterable[list]) -> Iterator[Any]: ...


class SerialExecutor:
    """Every chunk in this process, in order."""

    name = "serial"
    workers = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def map(self, func, payload, chunks):
        for chunk in chunks:
            yield func(payload, chunk)


class ProcessExecutor:
    """Chunks on a pool of ``workers`` spawned processes (no fork of a process holding DuckDB threads)."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=exit_with_parent, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def map(self, func, payload, chunks):
        futures = [self.pool.submit(func, payload, chunk) for chunk in chunks]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


class DaskExecutor:
    """Chunks on a Dask cluster: the scheduler at ``address``, or a local cluster of ``workers``
    single-threaded processes. Connecting happens on entry, so an unreachable scheduler fails
    before anything (e.g. a results store) is created."""

    name = "dask"

    def __init__(self, workers: int, address: str | None = None):
        self.workers, self.address = workers, address
        self.client = self.cluster = None

    def __enter__(self) -> DaskExecutor:
        self.client, self.cluster = dask_client(self.workers, self.address)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def map(self, func, payload, chunks):
        from dask.distributed import as_completed as dask_as_completed  # optional dependency (experiments extra)

        shared = self.client.scatter(payload, broadcast=True)
        futures = [self.client.submit(func, shared, chunk, pure=False) for chunk in chunks]
        try:
            for fut in dask_as_completed(futures):
                yield fut.result()
        except BaseException:
            self.client.cancel(futures)
            raise


def make_executor(name: str, *, workers: int, address: str | None = None) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`)."""
    if name not in EXECUTORS:
        raise ParameterError(f"unknown executor '{name}'{did_you_mean(name, EXECUTORS)} (executors: {', '.join(EXECUTORS)})")
    if address and name != "dask":
        raise ParameterError("--address needs --executor dask")
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(workers, address)


def dask_client(workers: int, address: str | None):
    """A Dask client (and the local cluster it owns, or None) for ``address`` or ``workers`` local workers."""
    try:
        from dask.distributed import Client, LocalCluster  # optional dependency (experiments extra)
    except ImportError:  # pragma: no cover
        raise ParameterError("the dask executor needs dask.distributed: pip install 'redline[experiments]'") from None

    if address:
        if "://" not in address:
            address = f"tcp://{address}"
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as err:
            raise ParameterError(f"cannot reach a Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s "
                                 f"({type(err).__name__}); start one with `dask scheduler` or drop --address "
                                 "to use a local cluster") from None
        except ValueError as err:
            raise ParameterError(f"--address {address}: {err}") from None
        return client, None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster
