"""Spread independent jobs (one workbook each) over the machine's cores.

Workbook writing is CPU-bound Python (xlsxwriter); processes, not threads, use both
cores of an office PC. Jobs must be picklable module-level calls; results come back
in order. With one core, or one job, everything runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

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
