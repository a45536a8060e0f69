"""Golden files: sample returned workbooks, each with the problem list it must yield.

A module fixture builds one village's template from a seeded roster (ages counted on a
fixed day), fills it as staff would, with a few deliberate mistakes, and turns the filled
workbook into every kind of file that comes back from villages: as saved, re-saved by
LibreOffice as .xlsx and as .xls, CSV in UTF-8 with a BOM and in GBK, columns shuffled and
renamed with title rows above, IDs turned into numbers, the sheet renamed, header cells
merged, an .xlsm. Each is checked as `canbao check` does (`process_file(merge=False)`, on
the fixed day) and its outcome (status, counts, and every problem's rule, severity, sheet,
row, column and value) must equal `tests/golden/<kind>.txt`, committed to git.

To regenerate the goldens after an intended change, run

    CANBAO_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py

then read the diff of tests/golden/ line by line before committing it: a golden that
records a wrong result is a defect, not a test.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.demo import _write_rosters
from engine.demo_data import Roster, make_roster, simulate_return
from engine.form import PERSONS
from engine.pipeline import Outcome, process_file
from engine.roster import import_roster
from engine.templates import generate
from engine.workbook import FIRST_DATA_ROW
from engine.workspace import Workspace
from tests.conftest import (
    COUNTY,
    as_xlsm,
    busiest_village,
    cut_everything,
    header_columns,
    template_of,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CANBAO_UPDATE_GOLDEN") == "1"
TODAY = dt.date(2024, 6, 1)      # ages, birth dates and the roster are counted on this day
SEED = 7
TIMEOUT = 300


@dataclass(frozen=True)
class Samples:
    workspace: Workspace
    files: dict[str, Path]       # kind -> the sample file


# -- the filled template -------------------------------------------------------------------


def _roster() -> tuple[str, Roster]:
    """One village of 杜集区 (the busiest of a seeded roster) and its roster."""
    roster = make_roster(scale=0.01, seed=SEED, today=TODAY)
    county = Roster([p for p in roster.persons if p["region_code"].startswith(COUNTY)],
                    [u for u in roster.units if u["region_code"].startswith(COUNTY)])
    village = busiest_village(county)
    others = [p for p in county.persons if p["region_code"] != village]
    return village, Roster([p for p in county.persons if p["region_code"] == village] + others[:1], [])


def _fill(template: Path, target: Path, village: str, roster: Roster) -> None:
    """Six roster persons visited, two persons found at the door, and these mistakes:
    roster row 1 a 10-digit mobile, row 2 employed without an employer, row 3 a pension code
    not in the list, row 4 a pension and an uninsured reason; new person 2 an ID with a
    wrong check digit, and roster person 5 entered again below."""
    ours = [p for p in roster.persons if p["region_code"] == village]
    stranger = next(p for p in roster.persons if p["region_code"] != village)
    filled = simulate_return(ours + [stranger], [], random.Random(SEED), mistakes=False, today=TODAY)
    by_id = {str(p["id_number"]): p for p in filled.persons}
    book = openpyxl.load_workbook(template)
    sheet = book[PERSONS.sheet]
    cols = header_columns(sheet)
    roster_rows = [r for r in range(1, sheet.max_row + 1) if sheet.cell(r, cols["id_number"]).value in by_id]
    visited = roster_rows[:6]
    for row in visited:
        _write(sheet, cols, row, by_id[sheet.cell(row, cols["id_number"]).value], roster_row=True)
    blank = roster_rows[-1] + 1
    new = dict(by_id[stranger["id_number"]])
    wrong = dict(new, id_number=_wrong_check_digit("340602199001011234"), name="钱多多", sex="1 男",
                 birth_date="1990-01-01")
    again = by_id[sheet.cell(visited[4], cols["id_number"]).value]
    for row, values in zip((blank, blank + 1, blank + 2), (new, wrong, again), strict=True):
        _write(sheet, cols, row, values, roster_row=False)
    sheet.cell(visited[0], cols["mobile"]).value = "1391234567"
    sheet.cell(visited[0], cols["landline"]).value = None
    sheet.cell(visited[1], cols["employment"]).value = "0 已单位就业"
    sheet.cell(visited[1], cols["employer"]).value = None
    sheet.cell(visited[2], cols["pension"]).value = "16"
    sheet.cell(visited[3], cols["pension"]).value = "12 城乡居民基本养老保险（含城居保和新农保）"
    sheet.cell(visited[3], cols["uninsured_reason"]).value = "91 个人未参保"
    book.save(target)


def _write(sheet: Any, cols: dict[str, int], row: int, values: dict[str, Any], *, roster_row: bool) -> None:
    for f in PERSONS.fields:
        if f.key not in cols or (roster_row and (not f.is_input or f.prefilled)):
            continue
        if not roster_row and f.key in ("person_no", "region_code"):
            continue
        value = values.get(f.key)
        sheet.cell(row, cols[f.key]).value = None if value in (None, "") else str(value)


def _wrong_check_digit(number: str) -> str:
    from engine.identifiers import check_digit

    right = check_digit(number[:17])
    return number[:17] + ("1" if right != "1" else "2")


# -- the kinds of returned files -----------------------------------------------------------


def _soffice(profile: Path, to: str, outdir: Path, source: Path) -> Path:
    """`source` converted by LibreOffice, with a private profile (parallel runs never share
    one). A run on a new profile may set the profile up and exit without converting: once
    more then."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice (soffice) is required: run scripts/test, which installs it"
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{source.stem}.{to.split(':')[0]}"
    cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", to, "--outdir", str(outdir), str(source)]
    for _ in range(2):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        if done.returncode == 0 and target.exists():
            return target
    raise AssertionError(f"soffice failed: {done.stdout}{done.stderr}")


def _edited(source: Path, target: Path, edit: Callable[[Any], None]) -> Path:
    book = openpyxl.load_workbook(source)
    edit(book)
    book.save(target)
    return target


def _ids_as_numbers(book: Any) -> None:
    """What Excel does to IDs typed or pasted into a General cell: a float (its last digits
    gone), or its display 3.40602E+17 pasted back as text. Here: roster row 6 and the
    person found at the door become floats, the one with a wrong check digit the text."""
    sheet = book[PERSONS.sheet]
    cols = header_columns(sheet)
    first = FIRST_DATA_ROW + 1      # FIRST_DATA_ROW counts from 0
    rows = [r for r in range(first, sheet.max_row + 1) if sheet.cell(r, cols["handler"]).value]
    for row, as_text in ((rows[5], False), (rows[6], False), (rows[7], True)):
        cell = sheet.cell(row, cols["id_number"])
        number = float(str(cell.value)[:17] + "0")
        cell.value = f"{number:.5E}" if as_text else number


def _renamed_sheet(book: Any) -> None:
    book[PERSONS.sheet].title = "Sheet1"


def _merged_header(book: Any) -> None:
    """A two-row header as offices draw it: ungrouped columns' labels merged down over both
    header rows (the label in the top cell), group labels merged across above their columns."""
    sheet = book[PERSONS.sheet]
    cols = header_columns(sheet)
    header = next(r for r in range(1, 7) if sheet.cell(r, cols["id_number"]).value == "公民身份号码")
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row == header - 1:
            sheet.unmerge_cells(str(merged))
    for key in ("person_no", "group_name", "id_number", "name", "sex", "birth_date"):
        col = cols[key]
        sheet.cell(header - 1, col).value = sheet.cell(header, col).value
        sheet.merge_cells(start_row=header - 1, start_column=col, end_row=header, end_column=col)
    for key in ("hukou_type", "employment", "employer", "identity", "identity_other"):
        sheet.cell(header - 1, cols[key]).value = None
    sheet.cell(header - 1, cols["hukou_type"]).value = "户口与就业"
    sheet.merge_cells(start_row=header - 1, start_column=cols["hukou_type"], end_row=header - 1,
                      end_column=cols["identity_other"])


def _shuffled(source: Path, target: Path) -> Path:
    """A foreign workbook: the form's columns in another order under other accepted names,
    two title rows and a blank one above the header, a 序号 column and a column of notes."""
    book = openpyxl.load_workbook(source, read_only=True)
    sheet = book[PERSONS.sheet]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    header = next(i for i, r in enumerate(rows) if "公民身份号码" in r)
    labels = rows[header]
    rng = random.Random(SEED)
    order = [c for c, label in enumerate(labels) if label]
    rng.shuffle(order)
    names = {f.label: f.header_names() for f in PERSONS.fields}
    out = openpyxl.Workbook()
    ws = out.active
    ws.title = "登记汇总"
    ws.append(["某某社区全民参保登记情况（汇总）"])
    ws.append(["填报单位：社区居委会", None, "填报日期：", "2024年5月"])
    ws.append([])
    ws.append(["序号", *[_alias(names[labels[c]], rng) for c in order], "核对情况"])
    n = 0
    for r in rows[header + 1:]:
        if any(v not in (None, "") for v in r):
            n += 1
            ws.append([n, *[r[c] if c < len(r) else None for c in order], "已核对" if n % 2 else None])
    out.save(target)
    return target


def _alias(names: tuple[str, ...], rng: random.Random) -> str:
    return names[-1] if len(names) > 1 and rng.random() < 0.6 else names[0]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    root = tmp_path_factory.mktemp("golden")
    village, roster = _roster()
    ws = Workspace(root / "ws")
    ws.init(COUNTY)
    ours = [p for p in roster.persons if p["region_code"] == village]
    for path in _write_rosters(ws, ours, []):
        import_roster(ws, path)
    generate(ws)
    made = root / "made"
    made.mkdir()
    filled = made / "filled.xlsx"           # ASCII names: what is under test is the content
    _fill(template_of(ws, village), filled, village, roster)
    lo, profile = root / "lo", root / "lo-profile"
    resaved = _soffice(profile, "xlsx", lo / "xlsx", filled)
    xls = _soffice(profile, "xls", lo / "xls", filled)
    # CSV of the form sheet (the first) as LibreOffice writes it: comma, double quotes, UTF-8
    csv_text = _soffice(profile, "csv:Text - txt - csv (StarCalc):44,34,76,1", lo / "csv", filled
                        ).read_bytes().decode("utf-8")
    (made / "bom.csv").write_bytes(b"\xef\xbb\xbf" + csv_text.encode("utf-8"))
    (made / "gbk.csv").write_bytes(csv_text.encode("gbk"))
    files = {
        "template": filled,
        "libreoffice_xlsx": resaved,
        "libreoffice_xls": xls,
        "csv_utf8_bom": made / "bom.csv",
        "csv_gbk": made / "gbk.csv",
        "shuffled": _shuffled(filled, made / "shuffled.xlsx"),
        "ids_as_numbers": _edited(filled, made / "numbers.xlsx", _ids_as_numbers),
        "renamed_sheet": _edited(filled, made / "renamed.xlsx", _renamed_sheet),
        "merged_header": _edited(filled, made / "merged.xlsx", _merged_header),
        "xlsm": as_xlsm(filled, made / "macro.xlsm"),
    }
    yield Samples(ws, files)
    ws.close()


KINDS = ("template", "libreoffice_xlsx", "libreoffice_xls", "csv_utf8_bom", "csv_gbk", "shuffled",
         "ids_as_numbers", "renamed_sheet", "merged_header", "xlsm")


def render(outcome: Outcome) -> str:
    """The outcome as stable text: no paths, times or file names."""
    counts = ", ".join(f"{kind} {which} {outcome.count(kind, which)}" for kind in ("persons", "units")
                       for which in ("read", "accepted", "returned", "warnings", "new"))
    lines = [f"status {outcome.status}; template {outcome.identity.kind if outcome.identity else '-'}; "
             f"village {outcome.village or '-'}", counts,
             "rule\tseverity\tsheet\trow\tcolumn\tvalue\ttitle"]
    lines += ["\t".join((p.rule, p.severity, p.sheet, str(p.row), p.column, p.value, p.title))
              for p in outcome.problems]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("kind", KINDS)
def test_sample_yields_its_golden_problem_list(samples: Samples, kind: str) -> None:
    outcome = process_file(samples.workspace, samples.files[kind], merge=False, today=TODAY)
    assert outcome.receipt is not None and outcome.receipt.exists()
    got = render(outcome)
    golden = GOLDEN / f"{kind}.txt"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden for {kind}: run with CANBAO_UPDATE_GOLDEN=1, then read it"
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", [k for k in KINDS if not k.endswith(("_xls", "csv_utf8_bom", "csv_gbk"))])
def test_sample_cut_into_parts_yields_the_same_problem_list(samples: Samples, kind: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each .xlsx/.xlsm sample with its sheets cut into parts of 2 KB of rows (as a county's
    sheet is cut into parts of 32 MB, `engine.sheet_parts`) checks exactly as read whole."""
    made = cut_everything(monkeypatch, 2048)
    outcome = process_file(samples.workspace, samples.files[kind], merge=False, today=TODAY)
    assert max(parts.count for parts in made) >= 5, "the persons sheet was cut into parts"
    assert render(outcome) == (GOLDEN / f"{kind}.txt").read_text(encoding="utf-8")
