"""Use the machine's cores: independent jobs spread over them (`run_all`), or one helper
process working beside this one (`Helper`: a large file's receipt while its merge runs).

Workbook writing is CPU-bound Python (xlsxwriter); processes, not threads, use both
cores of an office PC. Jobs must be picklable module-level calls; results come back
in order. With one core, or one job, `run_all` runs everything in this process.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_all(func: Callable[[T], R], jobs: Sequence[T], progress: Callable[[int, int], None] | None = None) -> list[R]:
    """func(job) for every job, on all cores; `progress(done, total)` after each."""
    results: list[R] = []
    if workers() == 1 or len(jobs) < 2:
        for job in jobs:
            results.append(func(job))
            if progress:
                progress(len(results), len(jobs))
        return results
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "fork")
    with ProcessPoolExecutor(max_workers=workers(), mp_context=context) as pool:
        for result in pool.map(func, jobs, chunksize=max(1, len(jobs) // (workers() * 8))):
            results.append(result)
            if progress:
                progress(len(results), len(jobs))
    return results


class HelperError(RuntimeError):
    """The helper process failed: it died, or its job raised something that cannot be sent back."""


class Helper:
    """A second process for jobs handed over one at a time, while this process works on.

    It is started before its first job is known, so that its start-up (a fresh interpreter:
    'spawn' everywhere, as on Windows, which also keeps this process's memory out of it)
    overlaps this process's work; `warm` names a module it imports meanwhile. A job's
    arguments are pickled: send only what it needs. `result()` waits for the job and
    returns its value or raises its exception. The process ends with `close()`, and on its
    own the moment this process dies (killed mid-ingest: nothing is left running)."""

    def __init__(self, warm: str = "") -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, warm), daemon=True, name="canbao-helper")
        self._process.start()
        child.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def submit(self, func: Callable[..., object], *args: object) -> None:
        self._conn.send((func, args))

    def result(self) -> Any:
        try:
            done, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise HelperError("the helper process ended before its job was done") from exc
        if not done:
            raise value
        return value

    def close(self) -> None:
        with contextlib.suppress(OSError):    # the helper is gone already
            self._conn.send(None)
        self._conn.close()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(conn: Connection, warm: str) -> None:
    """The helper process: jobs from `conn` until told to stop (None) or this process's parent dies."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with_parent, args=(parent.sentinel,), daemon=True).start()
    if warm:
        importlib.import_module(warm)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        func, args = job
        try:
            reply: tuple[bool, object] = (True, func(*args))
        except BaseException as exc:  # sent back, raised there
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception:  # the exception (or value) could not be pickled: say what it was
            conn.send((False, HelperError(f"{type(reply[1]).__name__} in the helper process")))


def _end_with_parent(sentinel: int) -> None:
    """Exit as soon as the parent is gone: its job (a receipt before a merge commits) is void then."""
    wait([sentinel])
    os._exit(1)
