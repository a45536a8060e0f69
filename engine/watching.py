"""The drop-folder service: the watcher calling the pipeline, summaries refreshed per batch.

`watcher` knows files; `pipeline` knows workbooks; this module joins them for a workspace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import NamedTuple

from engine.console import outcome_line
from engine.pipeline import Outcome, process_file
from engine.reports import Refresh
from engine.watcher import AlreadyWatching, Watcher, WatchLock, on_network_fs
from engine.workspace import Workspace, WorkspaceError

log = logging.getLogger("canbao.files")


@contextmanager
def writer_lock(ws: Workspace) -> Iterator[None]:
    """One process merges into a workspace at a time; it also clears what a killed one left."""
    try:
        with WatchLock(ws.workbooks / ".watch.lock"):
            ws.sweep()
            yield
    except AlreadyWatching as exc:
        raise WorkspaceError("另一个 canbao 程序（watch 或 ingest）正在处理这个工作区。"
                             "监视程序运行时，把文件放入 inbox/ 即可，不必再运行 ingest。") from exc


def open_log(ws: Workspace) -> None:
    """Every file and its outcome into workbooks/canbao.log (no IDs: outcome lines carry none)."""
    path = ws.workbooks / "canbao.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("canbao", "engine"):   # our loggers, and the watcher's (engine.watcher)
        logger = logging.getLogger(name)
        if any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in logger.handlers):
            continue
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


class Handled(NamedTuple):
    """What a batch's summary refresh needs of a processed file (an Outcome holds its rows)."""

    status: str
    village: str


def _process_logged(ws: Workspace, path: Path) -> Outcome:
    outcome = process_file(ws, path)
    log.info(outcome_line(outcome))
    return outcome


def ingest_files(ws: Workspace, paths: list[Path], done: Callable[[Outcome], object] | None = None) -> list[Outcome]:
    """Each file through the pipeline, in order; `done(outcome)` after each (progress)."""
    ws.store  # noqa: B018 - fail early, with the user's message, when this is no workspace
    open_log(ws)
    outcomes: list[Outcome] = []
    with writer_lock(ws):
        for path in paths:
            outcomes.append(_process_logged(ws, path))
            if done is not None:
                done(outcomes[-1])
    return outcomes


def watch_workspace(ws: Workspace, *, once: bool, polling: bool = False, stop: threading.Event | None = None,
                    say: Callable[[str], object] = print, min_age: float = 1.0, settle: float = 0.5) -> list[Outcome]:
    """Process the inbox: everything now there (`once`), or until `stop` is set.

    Returns the outcomes with `once`; a watcher that runs for weeks keeps none (it logs them).
    """
    ws.store  # noqa: B018 - fail early, with the user's message, when this is no workspace
    outcomes: list[Outcome] = []

    open_log(ws)

    def handle(path: Path) -> Handled:
        outcome = _process_logged(ws, path)
        if once:
            outcomes.append(outcome)
        say(outcome_line(outcome))
        return Handled(outcome.status, outcome.village)

    refresh = Refresh(ws)

    def on_batch(results: list[tuple[Path, object]]) -> Iterable[object] | None:
        changed = [r for _, r in results if isinstance(r, Handled) and r.status != "duplicate"]
        if not changed and not refresh.owes_lists:
            return None
        # A batch of village files refreshes those villages' lists; anything else, all of them.
        villages = None if any(not o.village for o in changed) else {o.village for o in changed}
        return _refresh_steps(ws, refresh, villages, len(results), say)

    polling = polling or on_network_fs(ws.inbox)
    watcher = Watcher(ws.inbox, handle, polling=polling, min_age=min_age, settle=settle, on_batch=on_batch)
    with writer_lock(ws):
        if once:
            results = watcher.run_once()
            for _ in on_batch(results) or ():
                pass
        else:
            say(f"正在监视 {ws.inbox}（按 Ctrl+C 停止）")
            watcher.run(stop or threading.Event())
    return outcomes


def _refresh_steps(ws: Workspace, refresh: Refresh, villages: set[str] | None, files: int,
                   say: Callable[[str], object]) -> Iterator[object]:
    """The summaries, then the still-to-visit lists a few villages at a time: the watcher takes
    new files between the steps (lists it has not written yet are owed to the next refresh)."""
    start = time.perf_counter()
    with closing(refresh.steps(villages)) as steps:
        yield next(steps)
        log.info("summaries refreshed after %d files (%s villages) in %.1f s", files,
                 "all" if villages is None else len(villages), time.perf_counter() - start)
        say(f"已刷新汇总表：{ws.summaries}")
        lists_start, written = time.perf_counter(), 0
        for paths in steps:
            written += len(paths)
            yield paths
    log.info("still-to-visit lists refreshed (%d written) in %.1f s", written, time.perf_counter() - lists_start)
    say(f"已刷新待入户名单：{ws.outbox}")
