"""The command line: parses arguments, calls the engine, prints in Chinese. No business logic.

Exit status: 0 success, 1 input rejected, 2 usage error (click's own, or a workspace problem).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import click

from engine import console as out
from engine.bulk import limit_malloc_arenas
from engine.i18n import use_chinese
from engine.pipeline import Outcome, process_file
from engine.workspace import Workspace, WorkspaceError

use_chinese()   # click's own messages in Chinese; before any command is built (see engine/i18n.py)

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Command(click.Command):
    """A command whose usage line is Chinese too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class Group(click.Group):
    command_class = Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)


Group.group_class = Group


def workspace_option(func: F) -> F:
    """Every command takes --workspace (default: CANBAO_HOME, else the current folder)."""
    return click.option("--workspace", "-w", "workspace_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="工作区文件夹（默认：环境变量 CANBAO_HOME 或当前文件夹）")(func)


def user_errors(func: F) -> F:
    """The one place where failures become messages: Chinese, no traceback on screen."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WorkspaceError as exc:
            out.errors.print(f"[red]错误：[/red]{exc}")
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception:
            log = _log_crash()
            out.errors.print(f"[red]程序内部错误[/red]，详细信息已记入 {log}，请把该文件发给技术支持。")
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def _log_crash() -> Path:
    path = Path.cwd() / "canbao-错误日志.txt"
    with path.open("a", encoding="utf-8") as f:
        f.write(traceback.format_exc() + "\n")
    return path


_OPENED: list[Workspace] = []     # closed by `run` before the process ends


def _ws(workspace_dir: Path | None) -> Workspace:
    ws = Workspace.locate(workspace_dir)
    _OPENED.append(ws)
    return ws


_KEPT: list[object] = []          # what commands built, let go by `run`'s quick exit


def _exit_for(outcomes: list[Outcome]) -> None:
    """Exit 1 when a file was returned, wholly or in part. The outcomes are kept for the
    quick exit: freed as the command returned, a county's rows took 0.1 s."""
    _KEPT.append(outcomes)
    if any(o.status in ("rejected", "partial") for o in outcomes):
        sys.exit(1)


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(package_name="canbao", message="canbao %(version)s")
def main() -> None:
    """canbao：全民参保登记入户调查 —— 生成模板、收取回表、检查合并、汇总上报。"""


@main.command()
@click.option("--region", "-r", default="340600", show_default=True, metavar="区划代码", help="工作区所属区划代码（市、县区或乡镇）")
@click.argument("directory", required=False, metavar="[文件夹]", type=click.Path(file_okay=False, path_type=Path))
@workspace_option
@user_errors
def init(region: str, directory: Path | None, workspace_dir: Path | None) -> None:
    """创建工作区文件夹和数据库。"""
    ws = _ws(directory or workspace_dir)
    bound = ws.init(region)
    out.console.print(f"工作区已就绪：{ws.root}（{bound.name} {bound.code}）")


@main.command()
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 1.0), metavar="比例",
              help="演示数据规模（1 = 通知中的全部任务数）")
@click.option("--seed", default=2017, show_default=True, type=int, metavar="整数", help="随机种子")
@click.option("--share", default=0.4, show_default=True, type=click.FloatRange(0.0, 1.0), metavar="比例",
              help="模拟交回模板的村（社区）比例")
@workspace_option
@user_errors
def demo(scale: float, seed: int, share: float, workspace_dir: Path | None) -> None:
    """用淮北市的合成数据演示全部流程：名册、模板、回表、回执、汇总。"""
    from engine.demo import run_demo

    figures = run_demo(_ws(workspace_dir), scale=scale, seed=seed, share=share, say=out.console.print)
    out.console.print(out.status_table(figures))
    out.console.print(out.files_line(figures))


@main.group()
def roster() -> None:
    """入户调查对象名册。"""


@roster.command("import")
@click.argument("files", nargs=-1, required=True, metavar="文件...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option
@user_errors
def roster_import(files: tuple[Path, ...], workspace_dir: Path | None) -> None:
    """导入名册（xlsx、xls 或 csv），按列标题识别各列。"""
    from engine.roster import import_roster

    ws = _ws(workspace_dir)
    rejected = False
    for path in files:
        with out.working(f"导入名册 {path.name}"):
            result = import_roster(ws, path)
        out.console.print(f"{path.name}：导入人员 {result.persons:,} 人、单位 {result.units:,} 个，"
                          f"有问题的行 {result.rejected:,} 行")
        for p in result.problems[:50]:
            where = f"第 {p.row} 行 " if p.row else ""
            out.console.print(f"  {p.sheet} {where}{p.column}：{p.message}", style="red" if p.severity == "error" else "yellow")
        if len(result.problems) > 50:
            out.console.print(f"  ……另有 {len(result.problems) - 50} 个问题未显示")
        rejected = rejected or bool(result.problems and any(p.severity == "error" for p in result.problems))
    if rejected:
        sys.exit(1)


@main.command()
@click.option("--region", "-r", default=None, metavar="区划代码", help="只生成该区划（县区、乡镇或村）内的模板")
@click.option("--paper", is_flag=True, help="同时生成可打印的入户登记表（每人一页 A4，末页为空白表）")
@workspace_option
@user_errors
def templates(region: str | None, paper: bool, workspace_dir: Path | None) -> None:
    """为每个村（社区）生成一个填报模板，放在 templates/县区/乡镇/ 下。"""
    from rich.progress import Progress

    from engine.templates import generate

    ws = _ws(workspace_dir)
    with Progress(console=out.console, transient=True) as bar:
        task = bar.add_task("生成模板", total=None)
        paths = generate(ws, region, progress=lambda i, n: bar.update(task, completed=i, total=n))
    out.console.print(f"已生成 {len(paths)} 个模板，在 {ws.templates}")
    if paper:
        from engine.paper import generate_paper

        with Progress(console=out.console, transient=True) as bar:
            task = bar.add_task("生成入户登记表", total=None)
            forms = generate_paper(ws, region, progress=lambda i, n: bar.update(task, completed=i, total=n))
        out.console.print(f"已生成 {len(forms)} 个村（社区）的入户登记表（每人一页），在 {ws.templates}")


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="文件...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option
@user_errors
def ingest(files: tuple[Path, ...], workspace_dir: Path | None) -> None:
    """检查并登记交回的文件，为每个文件写回执（与 watch 对每个文件所做的相同）。"""
    from engine.watching import ingest_files

    ws = _ws(workspace_dir)
    with out.progress() as bar:
        task = bar.add_task("检查并登记", total=len(files))

        def done(outcome: Outcome) -> None:
            out.print_outcome(outcome)
            bar.advance(task)

        outcomes = ingest_files(ws, [Path(p) for p in files], done=done)
    _exit_for(outcomes)


@main.command()
@click.argument("file", metavar="文件", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option
@user_errors
def check(file: Path, workspace_dir: Path | None) -> None:
    """只检查、写检查回执，不登记入库。"""
    ws = _ws(workspace_dir)
    with out.working(f"检查 {file.name}"):
        outcome = process_file(ws, file, merge=False)
    out.print_outcomes([outcome])
    if any(p.severity == "error" for p in outcome.problems):
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="处理收件箱中现有的文件后退出")
@click.option("--polling", is_flag=True, help="用轮询方式监视（网络共享文件夹时使用）")
@workspace_option
@user_errors
def watch(once: bool, polling: bool, workspace_dir: Path | None) -> None:
    """监视 inbox/ 文件夹：有文件放入就检查、登记、写回执，并刷新汇总表。"""
    from engine.watching import watch_workspace

    ws = _ws(workspace_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    outcomes = watch_workspace(ws, once=once, polling=polling, stop=stop, say=out.console.print)
    if once:
        _exit_for(outcomes)


@main.command()
@click.option("--region", "-r", default=None, metavar="区划代码", help="区划代码（默认：工作区所属区划）")
@workspace_option
@user_errors
def report(region: str | None, workspace_dir: Path | None) -> None:
    """生成汇总表，放在 outbox/汇总/。"""
    from engine.reports import write_reports

    ws = _ws(workspace_dir)
    with out.working("生成汇总表和待入户名单"):
        paths = write_reports(ws, region)
    lists = [p for p in paths if p.is_relative_to(ws.visit_lists)]
    for path in paths:
        if path not in lists:
            out.console.print(f"已生成：{path}")
    out.console.print(f"已更新待入户名单 {len(lists)} 个，在 {ws.visit_lists}")


@main.command()
@click.option("--region", "-r", default=None, metavar="区划代码", help="区划代码（默认：工作区所属区划）")
@workspace_option
@user_errors
def export(region: str | None, workspace_dir: Path | None) -> None:
    """导出本辖区已登记的数据（登记表格式），放在 outbox/上报/，供上级导入。"""
    from engine.export import export as write_export

    ws = _ws(workspace_dir)
    with out.working("导出已登记的数据"):
        path = write_export(ws, region)
    out.console.print(f"已导出：{path}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--region", "-r", default=None, metavar="区划代码", help="区划代码（默认：工作区所属区划）")
@workspace_option
@user_errors
def status(as_json: bool, region: str | None, workspace_dir: Path | None) -> None:
    """各区域进度：任务、已登记、退回、新增、未登记。"""
    ws = _ws(workspace_dir)
    figures = ws.store.figures(ws.within(region).code)
    if as_json:
        click.echo(json.dumps(figures.status_json(), ensure_ascii=False, indent=2))
        return
    out.console.print(out.status_table(figures))
    out.console.print(out.files_line(figures))


@main.command()
@click.option("--settle", "settle", type=int, default=None, metavar="编号", help="处理编号为此的冲突")
@click.option("--keep", type=click.Choice(["first", "second"]), default="first", show_default=True,
              help="first：此人留在先登记的村；second：改归后登记的村")
@workspace_option
@user_errors
def conflicts(settle: int | None, keep: str, workspace_dir: Path | None) -> None:
    """同一人被两个村（社区）登记的冲突，及处理情况；--settle 编号 处理一个冲突。"""
    from engine import regions
    from engine.identifiers import mask_id

    store = _ws(workspace_dir).store

    def place(code: str) -> str:
        return " ".join(regions.load().path_names(code)[1:]) or code

    if settle is not None:
        chosen = next((c for c in store.conflicts() if c["id"] == settle), None)
        if chosen is None or chosen["status"] != "open":
            raise WorkspaceError(f"没有编号为 {settle} 的待处理冲突。运行 canbao conflicts 查看编号。")
        stays = chosen["other_region"] if keep == "second" else chosen["kept_region"]
        store.settle_conflict(settle, keep == "second", f"归{place(stays)}")
        out.console.print(f"冲突 {settle} 已处理：{mask_id(chosen['id_number'])} 归{place(stays)}。")
        return
    rows = store.conflicts()
    if not rows:
        out.console.print("没有冲突。")
        return
    for c in rows:
        state = "待处理" if c["status"] == "open" else f"已处理：{c['settled_how']}"
        out.console.print(f"[{c['id']}] {mask_id(c['id_number'])}：先由 {place(c['kept_region'])}（{c['kept_file']}）登记，"
                          f"又由 {place(c['other_region'])}（{c['other_file']}）登记 —— {state}")


@main.command()
@click.argument("id_number", metavar="身份证号码")
@click.option("--unmask", is_flag=True, help="显示完整身份证号码")
@workspace_option
@user_errors
def history(id_number: str, unmask: bool, workspace_dir: Path | None) -> None:
    """一个人的各个版本及其来源（文件、工作表、行）。"""
    from engine.identifiers import mask_id

    versions = _ws(workspace_dir).store.history(id_number.strip().upper())
    shown = id_number if unmask else mask_id(id_number)
    if not versions:
        out.console.print(f"没有 {shown} 的登记记录。")
        return
    out.console.print(f"{shown} 共 {len(versions)} 个版本：")
    for i, v in enumerate(versions, start=1):
        mark = "（当前）" if v["current"] else ""
        out.console.print(f"  {i}. {v['received_at'].replace('T', ' ')} {v['file']} 工作表“{v['sheet']}”第 {v['row_no']} 行"
                          f"，区划 {v['region_code']}，养老 {v['pension'] or '无'}，医疗 {v['medical'] or '无'}{mark}")


@main.command()
@click.argument("directory", metavar="文件夹", type=click.Path(file_okay=False, path_type=Path))
@workspace_option
@user_errors
def backup(directory: Path, workspace_dir: Path | None) -> None:
    """把数据库一致地备份到指定文件夹（监视程序运行时也可以）。"""
    import datetime as dt

    target = directory / f"canbao-{dt.datetime.now():%Y%m%d-%H%M%S}.db"
    _ws(workspace_dir).store.backup(target)
    out.console.print(f"已备份到：{target}")


def run() -> None:
    """The `canbao` command: a command of `main`, then a quick exit.

    Once the command is done, its workspaces are closed (the database checkpointed, so that
    the .db file alone holds everything), its output flushed and the exit handlers run
    (logging, helper processes, temporary folders); then the process ends without freeing,
    one object at a time, what the command built: after a county's file, some 100,000 rows,
    that and the interpreter's last collection took 0.3-0.4 s for nothing. mypy ends the
    same way (`mypy.util.hard_exit`). Before it starts, at most two heaps for all
    threads (`bulk.limit_malloc_arenas`)."""
    limit_malloc_arenas()
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    for ws in _OPENED:
        with suppress(sqlite3.Error):   # committed already: a close that fails only leaves the -wal file
            ws.close()
    if code is not None and not isinstance(code, int):    # sys.exit("message"), as Python would show it
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    run()
