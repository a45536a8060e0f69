"""What a received file says about itself beyond its cells: when it was last saved.

A workbook's own save time (docProps/core.xml, dcterms:modified) orders two returns of
the same template, whatever order they arrive in. Parsed with defusedxml: a received
file is hostile until proven otherwise.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from defusedxml import ElementTree

_MODIFIED = "{http://purl.org/dc/terms/}modified"


def saved_at(path: Path) -> str | None:
    """The workbook's last save time as ISO text (UTC, as stored), or None when unknown."""
    try:
        with zipfile.ZipFile(path) as z, z.open("docProps/core.xml") as f:
            node = ElementTree.parse(f).getroot().find(_MODIFIED)
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    text = (node.text or "").strip() if node is not None else ""
    return text.rstrip("Z") or None
