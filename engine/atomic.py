"""Workbooks that appear whole or not at all: written under a hidden temporary name in the
target folder and renamed over the target when complete (a killed run leaves only a
`.…tmp` file, which `Workspace.sweep` removes)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook

from engine.xlsxwriter_ext import FastWorkbook

# User text is written as text: never a formula, a link or a number.
SAFE_OPTIONS: dict[str, Any] = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


@contextmanager
def atomic_workbook(path: Path, options: Mapping[str, Any] | None = None, *,
                    durable: bool = False) -> Iterator[Workbook]:
    """An xlsxwriter workbook moved over `path` when the block completes. `durable`: the
    bytes reach the disk before the rename (a power cut then leaves the old file or the new
    one); worth its few milliseconds for the summaries, not for hundreds of lists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    book = FastWorkbook(str(tmp), {**SAFE_OPTIONS, **(options or {})})
    try:
        yield book
        book.close()
        if durable:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
