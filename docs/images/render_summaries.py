"""Render docs/images/summary-city.png and summary-county.png: the first printed page of
the city's and of 濉溪县's summary, as LibreOffice prints them.

    .venv/bin/python docs/images/render_summaries.py [-w DEMO_WORKSPACE] [--pages DIR]

Writes both summaries with the real writer from a workspace after `canbao demo` (by
default it runs the full demo in a temp folder first, about 5 minutes: at full scale the
roster's task equals the notice's, as in an office), converts them to PDF with
LibreOffice (headless, a private profile) and renders the first page of each with
pdftoppm. `--pages DIR` also renders every page of both into DIR, to look at the rest.
Needs soffice and pdftoppm (poppler-utils) on the PATH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from engine.demo import run_demo  # noqa: E402
from engine.reports import OFFICE_SUFFIX, summary_path  # noqa: E402
from engine.summary import write_summary  # noqa: E402
from engine.workspace import Workspace  # noqa: E402

DPI = 110
COUNTY = "340621"


def render(soffice: str, pdftoppm: str, book: Path, folder: Path, png: Path, pages: Path | None) -> None:
    subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), str(book)],
                   check=True, capture_output=True, timeout=300)
    pdf = folder / book.with_suffix(".pdf").name
    subprocess.run([pdftoppm, "-png", "-singlefile", "-f", "1", "-l", "1", "-r", str(DPI), str(pdf),
                    str(png.with_suffix(""))], check=True, timeout=300)
    if pages:
        pages.mkdir(parents=True, exist_ok=True)
        subprocess.run([pdftoppm, "-png", "-r", str(DPI), str(pdf), str(pages / png.stem)], check=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", type=Path, help="a workspace after `canbao demo` (default: run one)")
    parser.add_argument("--pages", type=Path, help="also render every page into this folder")
    args = parser.parse_args()
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        sys.exit("needs soffice (LibreOffice) and pdftoppm (poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = Workspace(args.workspace or folder / "demo")
        if args.workspace is None:
            run_demo(ws, say=lambda _: None)
        office = ws.region.name + OFFICE_SUFFIX.get(ws.region.level, "")
        city = ws.store.figures(ws.region.code)
        county = ws.store.figures(COUNTY)
        books = [(write_summary(city, folder / summary_path(ws, city.region.name).name, office=office), "summary-city"),
                 (write_summary(county, folder / summary_path(ws, county.region.name).name, office=office),
                  "summary-county")]
        ws.close()
        for book, name in books:
            render(soffice, pdftoppm, book, folder, HERE / f"{name}.png", args.pages)
            print(HERE / f"{name}.png")


if __name__ == "__main__":
    main()
