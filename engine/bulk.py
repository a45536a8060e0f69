"""Helpers for building many small objects at once (a county's rows): without the cost
of the cyclic garbage collector walking them again and again while they are made, and
without the C library's heaps keeping what was freed."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch of rows is built.

    The rows form no reference cycles, so nothing is left for the collector; without the
    pause, each of its full passes walks every row made so far (on a county's sheet that
    made building the rows several times slower). Reference counting still frees memory
    as usual. Nested use is fine: the collector is resumed only by the outermost pause.

    When it resumes, what the pause made would all be young: after a county's file the
    collector's first pass would walk every row (0.13 s), its next one again. When the
    pause made more than BULK_OBJECTS, they are frozen and unfrozen (`gc.freeze`,
    `gc.unfreeze`: lists spliced, nothing walked), which puts them in the oldest generation
    at once; only the collector's rarer full passes walk them, and find any cycles among
    them. A smaller batch (a village's file in the watcher) stays young, so that what it
    left in cycles (a receipt's workbook, say) is freed by the next young pass, not kept
    until a full one. (Nothing else in canbao freezes objects.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > BULK_OBJECTS:   # the objects made (less those freed) since the last pass
                gc.freeze()
                gc.unfreeze()
            gc.enable()


# Objects a pause must have made for them to join the oldest generation as it ends: a
# county's sheet makes millions, a village's return some tens of thousands.
BULK_OBJECTS = 200_000


M_ARENA_MAX = -8     # glibc's <malloc.h>: mallopt's parameter for the number of heaps
MALLOC_ARENAS = 2    # the main thread's heap, and one shared by the threads that load a large sheet


def limit_malloc_arenas() -> None:
    """Have this process's threads allocate from at most MALLOC_ARENAS of the C library's heaps.

    Call it first thing, before any thread starts. glibc gives each thread that allocates
    its own heap (an arena; up to eight per core), and memory freed there is often not
    given back to the system. The reader loads the parts of a large sheet in two threads
    (fastexcel, `engine.part_columns`): with glibc's default, a county's ingest peaked
    40-50 MB higher (what the loads left in their heaps, which the rows made later could
    not reuse). With a single heap for all threads the loading threads, which allocate
    without the GIL, waited for the main thread's lock on it: the same ingest 0.45 s slower
    (6.71-6.76 against 6.19-6.34 s, alternated), for 15-20 MB less than with two. Only
    glibc (Linux) is asked; elsewhere nothing is done."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt    # the C library this process runs on
    except (OSError, AttributeError):          # not glibc (musl has no mallopt)
        return
    mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def give_back() -> None:
    """Give the C library's free memory back to the system (glibc's malloc_trim): after a
    large sheet is read, what its loads and the making of its columns freed lies in holes
    of the heap that the checks' and the merge's smaller objects do not fill."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def picker(places: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The items at `places` of a sequence (a row's cells, a column's values), as a tuple,
    in one C-level call (itemgetter; it gives a bare item for one place, and needs one)."""
    if not places:
        return lambda items: ()
    if len(places) == 1:
        only = places[0]
        return lambda items: (items[only],)
    return itemgetter(*places)
