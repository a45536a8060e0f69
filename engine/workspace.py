"""A workspace: a folder bound to one region, with its four folders and its store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from engine import regions
from engine.regions import Region
from engine.store import Store

FOLDERS = ("templates", "inbox", "outbox", "workbooks")
DEFAULT_REGION = "340600"
STORE_NAME = "canbao.db"


class WorkspaceError(Exception):
    """A workspace problem the user must fix; the message is Chinese and says how."""


@dataclass
class Workspace:
    root: Path

    @classmethod
    def locate(cls, path: str | Path | None = None) -> Workspace:
        return cls(Path(path or os.environ.get("CANBAO_HOME") or ".").resolve())

    # -- folders ----------------------------------------------------------------------

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def workbooks(self) -> Path:
        return self.root / "workbooks"

    @property
    def archive(self) -> Path:
        return self.workbooks / "archive"

    @property
    def unreadable(self) -> Path:
        """Files that could not be read at all are moved here, beside their receipts."""
        return self.outbox / "无法读取"

    @property
    def receipts(self) -> Path:
        return self.outbox / "回执"

    @property
    def summaries(self) -> Path:
        return self.outbox / "汇总"

    @property
    def visit_lists(self) -> Path:
        return self.outbox / "待入户名单"

    @property
    def exports(self) -> Path:
        return self.outbox / "上报"

    @property
    def store_path(self) -> Path:
        return self.workbooks / STORE_NAME

    @property
    def exists(self) -> bool:
        return self.store_path.exists()

    # -- store and region -------------------------------------------------------------

    @cached_property
    def store(self) -> Store:
        if not self.exists:
            raise WorkspaceError(f"{self.root} 还不是工作区，请先运行：canbao init --region 区划代码 {self.root}")
        return Store(self.store_path)

    @property
    def region(self) -> Region:
        code = self.store.meta("region", DEFAULT_REGION)
        return regions.load().by_code[code]

    def within(self, code: str | None) -> Region:
        """The region `code` (default: the workspace's own), which must lie inside the workspace's."""
        if code is None:
            return self.region
        region = regions.load().get(code)
        if region is None or not self.region.contains(code):
            raise WorkspaceError(f"区划代码 {code} 不在本工作区“{self.region.name}”的辖区内。")
        return region

    def init(self, region_code: str = DEFAULT_REGION) -> Region:
        region = regions.load().get(region_code)
        if region is None or region.level not in ("city", "county", "town"):
            raise WorkspaceError(
                f"区划代码 {region_code} 不是淮北市或其县区、乡镇街道的代码。"
                f"可用：340600 淮北市、" + "、".join(f"{r.code} {r.name}" for r in regions.load().sub_regions("340600")))
        if self.exists and self.store.meta("region") not in ("", region_code):
            raise WorkspaceError(f"{self.root} 已是“{self.region.name}”的工作区，不能改为 {region.name}。")
        for name in FOLDERS:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for path in (self.archive, self.receipts, self.summaries, self.exports):
            path.mkdir(parents=True, exist_ok=True)
        store = Store(self.store_path)
        store.set_meta("region", region.code)
        store.close()
        self.__dict__.pop("store", None)
        return region

    def sweep(self) -> list[Path]:
        """Remove the temporary files a killed run left behind (every workbook is written to
        a hidden `.<name>...tmp` and renamed into place, so these are never a finished file)."""
        swept = []
        for base in (self.outbox, self.archive, self.templates):
            if base.exists():
                for path in base.rglob(".*.tmp"):
                    path.unlink(missing_ok=True)
                    swept.append(path)
        return swept

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    def village_folder(self, base: Path, village_code: str) -> Path:
        """<base>/<县区>/<乡镇>/, the folder of a village's files."""
        names = regions.load().path_names(village_code)
        return base.joinpath(*names[:-1])
