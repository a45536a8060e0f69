"""Everything the terminal shows a user, in Chinese, with no personal data."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from engine.figures import Figures, RegionFigures
from engine.pipeline import Outcome

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

STATUS_WORDS = {"accepted": "全部登记", "partial": "部分退回", "rejected": "未登记", "duplicate": "重复文件，已忽略",
                "checked": "仅检查"}


def status_table(figures: Figures) -> Table:
    root = figures.region
    table = Table(title=f"{root.name}（{root.code}）全民参保登记入户调查进度", title_justify="left")
    for header in ("区域", "任务人数", "已登记", "完成率", "退回待改", "名册外新增", "未登记", "任务单位", "已登记单位"):
        table.add_column(header, justify="left" if header == "区域" else "right")
    for r in root.children:
        table.add_row(*_cells(r))
    table.add_section()
    table.add_row(*_cells(root, "合计"))
    return table


def _cells(r: RegionFigures, name: str | None = None) -> list[str]:
    return [name or r.name, f"{r.task_persons:,}", f"{r.registered:,}", f"{r.completion:.1%}", f"{r.returned:,}",
            f"{r.new:,}", f"{r.missing:,}", f"{r.task_units:,}", f"{r.units_registered:,}"]


def files_line(figures: Figures) -> str:
    f = figures.files
    return f"收到文件 {f['received']} 个：登记 {f['accepted']} 个，未登记 {f['rejected']} 个。"


def outcome_line(outcome: Outcome) -> str:
    """One line per file: name, result and counts; never an ID or a phone number."""
    word = STATUS_WORDS.get(outcome.status, outcome.status)
    if outcome.status == "duplicate":
        return f"{outcome.path.name}：{word}"
    if outcome.file_problems:
        return f"{outcome.path.name}：{word}（{outcome.file_problems[0].title}）"
    return (f"{outcome.path.name}：{word}，读取 {outcome.count('persons', 'read')} 人，"
            f"登记 {outcome.count('persons', 'accepted')} 人，退回 {outcome.count('persons', 'returned')} 人，"
            f"新增 {outcome.count('persons', 'new')} 人；单位登记 {outcome.count('units', 'accepted')} 个")


def print_outcomes(outcomes: Iterable[Outcome]) -> None:
    for o in outcomes:
        style = {"accepted": "green", "partial": "yellow", "rejected": "red"}.get(o.status, "")
        console.print(outcome_line(o), style=style)
        if o.receipt:
            console.print(f"  回执：{o.receipt}", style="dim")
