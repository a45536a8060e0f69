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
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, BinaryIO, TypeVar

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

    It is started before its first job is known, so that its start-up overlaps this
    process's work; `warm` names a module it imports meanwhile. It is a fresh interpreter
    (as 'spawn' makes, the only way on Windows), fed pickled jobs on its standard input:
    unlike multiprocessing's spawn it needs no resource-tracker process and does not
    import this program's main module, which keeps it small. A job's arguments are
    pickled: send only what it needs. Jobs run in the order handed over; `result()` waits
    for every job handed over so far and returns the last one's value, or raises the first
    exception among them. The process ends with `close()`, and on its own the moment
    this process dies (killed mid-ingest: nothing is left running)."""

    def __init__(self, warm: str = "") -> None:
        self._process = subprocess.Popen([sys.executable, "-c", _SERVE, warm], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._jobs, self._results = self._process.stdin, self._process.stdout
        self._pending = 0
        # Jobs are written to the helper by a thread: a pipe holds little (64 KB here, less on
        # Windows), and a job of a few hundred KB would keep this process waiting until the
        # busy helper had read it all.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_jobs, name="helper-jobs", daemon=True)
        self._writer.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, func: Callable[..., object], *args: object) -> None:
        """Hand a job over; it is pickled now (what cannot be pickled raises here), sent meanwhile."""
        self._outbox.put(pickle.dumps((func, args), pickle.HIGHEST_PROTOCOL))
        self._pending += 1

    def _write_jobs(self) -> None:
        """The jobs, in order, then the word to stop (None); a helper gone stops the writing
        (`result` then says it ended)."""
        while True:
            data = self._outbox.get()
            try:
                if data is None:
                    pickle.dump(None, self._jobs)
                    self._jobs.close()
                    return
                self._jobs.write(data)
                self._jobs.flush()
            except OSError:     # the helper is gone (or was stopped): nothing more can reach it
                return

    def result(self) -> Any:
        failure: BaseException | None = None
        value: Any = None
        while self._pending:
            try:
                done, value = pickle.load(self._results)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                raise HelperError("the helper process ended before its job was done") from exc
            self._pending -= 1
            if not done and failure is None:
                failure = value
        if failure is not None:
            raise failure
        return value

    def close(self) -> None:
        """Stop the helper; a job not waited for is void (this process failed meanwhile): it
        is stopped at once, so that it leaves nothing behind as if it had been done."""
        if self._pending:
            self._process.kill()
        self._outbox.put(None)
        self._writer.join(timeout=10)
        with contextlib.suppress(OSError):    # the writer could not close it: the helper is gone
            self._jobs.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._results.close()


_SERVE = "import sys; from engine.parallel import serve; serve(sys.argv[1])"


def serve(warm: str) -> None:
    """The helper process: run the jobs read from standard input until told to stop (None).

    Jobs are read by a thread, so that the end of the input is noticed while a job runs:
    it means this process's parent died (it says None before it closes), and the job
    (say a receipt before a merge commits) is void: exit at once."""
    jobs: queue.SimpleQueue[tuple[Callable[..., object], tuple[object, ...]] | None] = queue.SimpleQueue()
    # A job running holds the interpreter; the reading thread gets it back after each read from
    # the pipe only when the job yields it, every switch interval (5 ms by default): jobs handed
    # over in a stream (a receipt's rows, chunk by chunk) would keep the parent waiting on a
    # full pipe. 0.5 ms: the parent hands a chunk over without waiting.
    sys.setswitchinterval(0.0005)
    threading.Thread(target=_read_jobs, args=(sys.stdin.buffer, jobs), daemon=True).start()
    results = sys.stdout.buffer
    sys.stdout = sys.stderr           # nothing else may write into the results
    if warm:
        importlib.import_module(warm)
    while (job := jobs.get()) is not None:
        func, args = job
        try:
            reply: tuple[bool, object] = (True, func(*args))
        except BaseException as exc:  # sent back, raised there
            reply = (False, exc)
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # the value or exception cannot be pickled: say what it was
            data = pickle.dumps((False, HelperError(f"{type(reply[1]).__name__} in the helper process")))
        results.write(data)
        results.flush()
    os._exit(0)    # told to stop, every result sent: nothing left to tidy


def _read_jobs(stream: BinaryIO, jobs: queue.SimpleQueue[tuple[Callable[..., object], tuple[object, ...]] | None]
               ) -> None:
    while True:
        try:
            job = pickle.load(stream)
        except Exception:       # end of input without the word to stop: the parent is gone
            os._exit(1)
        jobs.put(job)
        if job is None:
            return
