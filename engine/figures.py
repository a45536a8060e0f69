"""The progress figures of a region and its sub-regions: counts only, never personal data.

Computed from the store (`store.Store.figures`), then printed by `status`, dumped by
`status --json` and written into summary workbooks by `summary`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RegionFigures:
    code: str
    name: str
    level: str                      # city / county / town / village
    task_persons: int = 0           # roster persons (需入户调查人员数)
    registered: int = 0             # roster persons with an accepted record
    returned: int = 0               # rows whose latest return has errors, not yet corrected
    new: int = 0                    # accepted persons not on the roster (名册外新增)
    missing: int = 0                # roster persons neither registered nor returned (未登记)
    task_units: int = 0
    units_registered: int = 0
    units_new: int = 0
    # Breakdowns over all accepted persons (roster and new), code -> count.
    pension: dict[str, int] = field(default_factory=dict)
    medical: dict[str, int] = field(default_factory=dict)
    other_insurance: dict[str, int] = field(default_factory=dict)   # injury 30, unemployment 40, maternity 50
    uninsured: dict[str, int] = field(default_factory=dict)         # 未参保原因 code -> count
    employment: dict[str, int] = field(default_factory=dict)
    identity: dict[str, int] = field(default_factory=dict)
    unit_types: dict[str, int] = field(default_factory=dict)
    daily: dict[str, int] = field(default_factory=dict)             # ISO day of first registration -> persons
    children: list[RegionFigures] = field(default_factory=list)

    @property
    def completion(self) -> float:
        return self.registered / self.task_persons if self.task_persons else 0.0

    @property
    def units_completion(self) -> float:
        return self.units_registered / self.task_units if self.task_units else 0.0

    def daily_list(self) -> list[tuple[dt.date, int]]:
        """Persons registered per day, oldest first."""
        return [(dt.date.fromisoformat(day), n) for day, n in sorted(self.daily.items())]


@dataclass
class Figures:
    region: RegionFigures                                   # the workspace's region, children filled
    files: dict[str, int]                                   # received, accepted, rejected
    daily: list[tuple[dt.date, int]] = field(default_factory=list)  # persons registered per day
    generated_at: dt.datetime = field(default_factory=dt.datetime.now)

    def of(self, child: RegionFigures) -> Figures:
        """The figures of one of the region's sub-regions, as if computed for it alone
        (files are counted for the whole workspace either way)."""
        return Figures(region=child, files=dict(self.files), daily=child.daily_list(),
                       generated_at=self.generated_at)

    def status_json(self) -> dict[str, Any]:
        """The shape DESIGN.md fixes for `canbao status --json`."""

        def entry(r: RegionFigures) -> dict[str, Any]:
            return {
                "code": r.code, "name": r.name, "level": r.level,
                "persons": {"task": r.task_persons, "registered": r.registered, "returned": r.returned,
                            "new": r.new, "missing": r.missing},
                "units": {"task": r.task_units, "registered": r.units_registered},
            }

        return {
            "region": entry(self.region),
            "regions": [entry(c) for c in self.region.children],
            "files": dict(self.files),
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
