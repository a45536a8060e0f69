"""The drop-folder service: the watcher calling the pipeline, summaries refreshed per batch.

`watcher` knows files; `pipeline` knows workbooks; this module joins them for a workspace.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from engine.console import outcome_line
from engine.pipeline import Outcome, process_file
from engine.reports import write_reports
from engine.watcher import Watcher, WatchLock
from engine.workspace import Workspace

log = logging.getLogger("canbao.watch")


def watch_workspace(ws: Workspace, *, once: bool, polling: bool = False, stop: threading.Event | None = None,
                    say: Callable[[str], object] = print, min_age: float = 1.0, settle: float = 0.5) -> list[Outcome]:
    """Process the inbox: everything now there (`once`), or until `stop` is set."""
    ws.store  # noqa: B018 - fail early, with the user's message, when this is no workspace
    outcomes: list[Outcome] = []

    def handle(path: Path) -> Outcome:
        outcome = process_file(ws, path)
        outcomes.append(outcome)
        say(outcome_line(outcome))
        return outcome

    def on_batch(results: list[tuple[Path, object]]) -> None:
        if any(isinstance(r, Outcome) and r.status != "duplicate" for _, r in results):
            write_reports(ws)
            say(f"已刷新汇总表：{ws.summaries}")

    watcher = Watcher(ws.inbox, handle, polling=polling, min_age=min_age, settle=settle, on_batch=on_batch)
    with WatchLock(ws.workbooks / ".watch.lock"):
        if once:
            results = watcher.run_once()
            on_batch(results)
        else:
            say(f"正在监视 {ws.inbox}（按 Ctrl+C 停止）")
            watcher.run(stop or threading.Event())
    return outcomes
