"""Render docs/images/template.png: a village template as LibreOffice prints it.

    .venv/bin/python docs/images/render_template.py

Writes a template of one synthetic village with the real writer, a few roster persons
filled in as staff would and one new person typed with the usual mistakes (so that the
live checks show), converts it to PDF with LibreOffice (headless, a private profile)
and crops the top-left part of the first page with pdftoppm. Needs soffice and
pdftoppm (poppler-utils) on the PATH.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from engine.demo_data import make_roster, simulate_return  # noqa: E402
from engine.identifiers import check_digit  # noqa: E402
from engine.templates import BLANK_UNITS, write_village_workbook  # noqa: E402
from engine.workbook import Identity, SheetRow, template_id  # noqa: E402

DPI = 300
TOP, WIDTH, HEIGHT = 60, 1400, 820   # the part of the page's top-left corner kept, in pixels


def rows(village: str, persons: list[dict[str, str]], units: list[dict[str, str]]) -> list[SheetRow]:
    """The first roster persons visited and filled, the rest as generated, one new person
    with mistakes: a wrong check digit, a sex the ID contradicts, 0 已单位就业 without a
    unit, a pension and an uninsured reason both, a 10-digit mobile."""
    filled = simulate_return(persons, units, random.Random(5), mistakes=False)
    visited = {p["id_number"]: p for p in filled.persons}
    out = [SheetRow(visited.get(p["id_number"], p) if i < 5 else p, roster=True) for i, p in enumerate(persons)]
    body = f"{village[:6]}19850312021"
    wrong = body + ("0" if check_digit(body) != "0" else "1")
    new = {**visited.get(persons[0]["id_number"], persons[0]), "person_no": "", "id_number": wrong,
           "name": "王新来", "sex": "2", "birth_date": "", "employment": "0", "employer": "",
           "pension": "12", "uninsured_reason": "91", "mobile": "1385612345"}
    return [*out, SheetRow(new)]


def main() -> None:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        sys.exit("needs soffice (LibreOffice) and pdftoppm (poppler-utils)")
    roster = make_roster(scale=0.02, seed=2017)
    village = "340602001006"
    persons = [p for p in roster.persons if p["region_code"] == village][:12]
    units = [u for u in roster.units if u["region_code"] == village]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        identity = Identity(kind="template", template_id=template_id(village), region_code=village)
        book = write_village_workbook(folder / "template.xlsx", village, identity, rows(village, persons, units),
                                      (SheetRow(u, roster=True) for u in units), blank_persons=8,
                                      blank_units=BLANK_UNITS)
        subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(folder), str(book)],
                       check=True, capture_output=True, timeout=300)
        subprocess.run([pdftoppm, "-png", "-singlefile", "-f", "1", "-l", "1", "-r", str(DPI), "-x", "0",
                        "-y", str(TOP), "-W", str(WIDTH), "-H", str(HEIGHT), str(folder / "template.pdf"),
                        str(HERE / "template")], check=True, timeout=300)
    print(HERE / "template.png")


if __name__ == "__main__":
    main()
