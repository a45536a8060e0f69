"""The administrative regions canbao works in: 淮北市, its counties, towns and villages.

Loaded once from `data/huaibei_regions.csv` (NBS 2023 codes, see data/README.md).
A region code is 6 digits (city, county), 9 (town) or 12 (village); `contains` compares
prefixes, so a village is inside its town, county and city.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

Level = Literal["province", "city", "county", "town", "village"]
LEVEL_LABELS: dict[str, str] = {
    "province": "省", "city": "市", "county": "县区", "town": "乡镇街道", "village": "村社区",
}
CHILD_LEVEL: dict[str, Level] = {"city": "county", "county": "town", "town": "village"}


@dataclass(frozen=True)
class Region:
    level: Level
    code: str
    name: str
    parent: str

    @property
    def prefix(self) -> str:
        """The code without its trailing zeros at city level (340600 -> 3406)."""
        return self.code[:4] if self.level == "city" else self.code

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


@dataclass
class Regions:
    by_code: dict[str, Region]
    children: dict[str, list[Region]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for region in self.by_code.values():
            if region.parent:
                self.children.setdefault(region.parent, []).append(region)

    def get(self, code: str) -> Region | None:
        return self.by_code.get(code)

    def lineage(self, code: str) -> list[Region]:
        """The region and its ancestors up to the province, top first."""
        out: list[Region] = []
        region = self.by_code.get(code)
        while region is not None:
            out.append(region)
            region = self.by_code.get(region.parent)
        return out[::-1]

    def ancestor(self, code: str, level: Level) -> Region | None:
        return next((r for r in self.lineage(code) if r.level == level), None)

    def villages(self, within: str) -> list[Region]:
        top = self.by_code[within]
        return [r for r in self.by_code.values() if r.level == "village" and top.contains(r.code)]

    def sub_regions(self, code: str) -> list[Region]:
        """The next level down: counties of a city, towns of a county, villages of a town."""
        return sorted(self.children.get(code, []), key=lambda r: r.code)

    def path_names(self, code: str) -> list[str]:
        """Names from the county down: ['濉溪县', '濉溪镇', '某社区居委会']."""
        return [r.name for r in self.lineage(code) if r.level in ("county", "town", "village")]


@cache
def load() -> Regions:
    text = resources.files("engine").joinpath("data/huaibei_regions.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return Regions({r["code"]: Region(r["level"], r["code"], r["name"], r["parent"]) for r in rows})  # type: ignore[arg-type]


@cache
def notice_tasks() -> dict[str, tuple[int, int]]:
    """The notice's task per county: code -> (persons, units)."""
    text = resources.files("engine").joinpath("data/notice_tasks.csv").read_text("utf-8")
    return {
        r["county_code"]: (int(r["task_persons"]), int(r["task_units"]))
        for r in csv.DictReader(text.splitlines())
    }
