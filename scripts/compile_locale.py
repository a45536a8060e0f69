"""Compile the translation catalogues under engine/locale/ (*.po -> *.mo, beside each).

The compiled .mo files are committed, so users need nothing but Python's gettext; this
script (and babel) is only for whoever edits a .po file:

    pip install babel
    python scripts/compile_locale.py [--out DIR]

With --out, the .mo files are written under DIR (same relative layout) instead of beside
the .po files; tests/test_i18n.py uses that to check the committed .mo files are current.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "engine" / "locale"


def compile_po(po_path: Path, mo_path: Path) -> None:
    """Read one .po file and write its .mo (fuzzy entries left out, as msgfmt does)."""
    with po_path.open("rb") as f:
        catalog = read_po(f)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    with mo_path.open("wb") as f:
        write_mo(f, catalog)


def compile_all(locale_dir: Path = LOCALE_DIR, out_dir: Path | None = None) -> list[Path]:
    """Compile every */LC_MESSAGES/*.po under locale_dir; return the .mo paths written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        relative = po_path.relative_to(locale_dir).with_suffix(".mo")
        mo_path = (out_dir or locale_dir) / relative
        compile_po(po_path, mo_path)
        written.append(mo_path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the .mo files under this folder")
    args = parser.parse_args(argv)
    for path in compile_all(out_dir=args.out):
        print(path)


if __name__ == "__main__":
    main()
