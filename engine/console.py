"""Everything the terminal shows a user, in Chinese, with no personal data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from engine.figures import Figures, RegionFigures
from engine.pipeline import Outcome

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

STATUS_WORDS = {"accepted": "全部登记", "partial": "部分退回", "rejected": "未登记", "duplicate": "重复文件，已忽略", "stale": "版本较旧，未覆盖",
                "checked": "仅检查"}


def status_table(figures: Figures) -> Table:
    """Progress per sub-region; every figure shown whole, however narrow the terminal."""
    root = figures.region
    rows = [_cells(r) for r in root.children] + [_cells(root, "合计")]
    headers = ("区域", "任务人数", "已登记", "完成率", "退回", "新增", "未登记", "单位任务", "单位登记")
    table = Table(title=f"{root.name}（{root.code}）全民参保登记入户调查进度", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for c, header in enumerate(headers):
        width = max(cell_len(header), *(cell_len(r[c]) for r in rows))
        table.add_column(header, justify="left" if c == 0 else "right", no_wrap=True, min_width=width)
    for r in rows[:-1]:
        table.add_row(*r)
    table.add_section()
    table.add_row(*rows[-1])
    return table


def _cells(r: RegionFigures, name: str | None = None) -> list[str]:
    return [name or r.name, f"{r.task_persons:,}", f"{r.registered:,}", f"{r.completion:.1%}", f"{r.returned:,}",
            f"{r.new:,}", f"{r.missing:,}", f"{r.task_units:,}", f"{r.units_registered:,}"]


def files_line(figures: Figures) -> str:
    f = figures.files
    return (f"收到文件 {f['received']} 个：登记 {f['accepted']} 个，未登记 {f['rejected']} 个。\n"
            "退回：最近一次交回有错误、尚未改正的行；新增：名册外新增人员。")


def outcome_line(outcome: Outcome) -> str:
    """One line per file: name, result and counts; never an ID or a phone number."""
    word = STATUS_WORDS.get(outcome.status, outcome.status)
    if outcome.status == "duplicate":
        return f"{outcome.path.name}：{word}"
    if outcome.file_problems:
        return f"{outcome.path.name}：{word}（{outcome.file_problems[0].title}）"
    older = "（旧版模板）" if outcome.older_form is not None else ""
    taken, returned = ("可登记", "须改正") if outcome.status == "checked" else ("登记", "退回")
    return (f"{outcome.path.name}{older}：{word}，读取 {outcome.count('persons', 'read')} 人，"
            f"{taken} {outcome.count('persons', 'accepted')} 人，{returned} {outcome.count('persons', 'returned')} 人，"
            f"新增 {outcome.count('persons', 'new')} 人；单位{taken} {outcome.count('units', 'accepted')} 个")


def print_outcomes(outcomes: Iterable[Outcome]) -> None:
    for o in outcomes:
        print_outcome(o)


def print_outcome(o: Outcome) -> None:
    style = {"accepted": "green", "partial": "yellow", "rejected": "red"}.get(o.status, "")
    console.print(outcome_line(o), style=style)
    if o.receipt:
        console.print(f"  回执：{o.receipt}", style="dim")


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner and the time taken while one long step runs (a roster imported, reports written)."""
    with progress(counted=False) as bar:
        bar.add_task(description, total=None)
        yield


def progress(*, counted: bool = True) -> Progress:
    """A progress display for long work: a spinner, the task, (`counted`: a bar and done of
    total,) the time taken; gone once the work ends, and shown only on a terminal. Lines
    printed meanwhile appear above it."""
    counts = (BarColumn(), MofNCompleteColumn()) if counted else ()
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), *counts, TimeElapsedColumn(),
                    console=console, transient=True)
