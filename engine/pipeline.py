"""One file through the pipeline: archive, read, check, merge, receipt.

`process_file` is what `canbao ingest`, the watcher and the demo all call. Order of
events, for crash safety: the file is archived first (under a name made unique by its
SHA-256, so a retry writes the same archive file); then the receipt is written (to a
temporary name, renamed into place) and the whole file merged in one transaction keyed
by the SHA-256, which commits only once the receipt is in place; only then does the file
leave the inbox. A crash at any point leaves either the whole file merged, with its
receipt, or none of it, and the next run finishes the job. A large file's receipt is
written by a helper process (`engine.parallel.Helper`: it is handed only the rows with
problems, and it ends when this process does): a chunk of rows at a time while this
process checks the rest, when the receipt's sheets are known beforehand (a county's
export received the first time, a foreign file), else in one go while this one merges.
A large file only checked (`canbao check`) has its receipt written by a helper only in
the first case: there is nothing else to do beside the second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import compress
from pathlib import Path

from engine import regions
from engine.bulk import gc_paused, give_back
from engine.export import read_returned
from engine.fileinfo import saved_at
from engine.form import FORM_VERSION, FORMS, Form
from engine.parallel import Helper
from engine.problems import UNREADABLE_CODES, Problem, problem
from engine.reader import FormSheet, RawRow, Submission, Table, read_submission
from engine.regions import Region
from engine.rules import CheckedRow, CheckedTable, RowContext, check_table, row_key, row_keys
from engine.store import FileRecord, Holder, Rows
from engine.workbook import Identity
from engine.workspace import Workspace

log = logging.getLogger("canbao.pipeline")


@dataclass
class SheetResult:
    """A sheet's checked rows: those with problems one by one, the accepted ones' values as
    columns (for the merge; a chunk of rows each), and their counts, counted once its checks
    are done (`count_rows`)."""

    form: Form
    sheet: FormSheet
    rows: list[tuple[RawRow, CheckedRow, bool]] = field(default_factory=list)   # rows with problems:
                                                              # as sent, checked, on roster
    counts: dict[str, int] = field(default_factory=dict)      # read, accepted, returned, warnings, new
    keys: list[str] = field(default_factory=list)             # each row's key (rules.row_key), as checked
    accepted: list[Rows] = field(default_factory=list)        # the accepted rows' values, a chunk each

    def count_rows(self) -> None:
        accepted = sum(map(len, self.accepted))
        warnings = sum(any(p.severity == "warning" for p in checked.problems) for _, checked, _ in self.rows)
        self.counts = {"read": len(self.keys), "accepted": accepted, "returned": len(self.keys) - accepted,
                       "warnings": warnings, "new": sum(rows.on_roster.count(False) for rows in self.accepted)}

    def with_problems_only(self) -> SheetResult:
        """The sheet as its receipt shows it: the counts, and the rows with problems as they
        were sent with their problems (their checked values are left out)."""
        rows = [(raw, CheckedRow(c.row, {}, c.problems), on_roster) for raw, c, on_roster in self.rows]
        return replace(self.counts_only(), rows=rows)

    def counts_only(self) -> SheetResult:
        """The sheet's counts, none of its rows (a streamed receipt has had them already)."""
        return SheetResult(self.form, FormSheet(self.sheet.form, self.sheet.name, self.sheet.columns), [], self.counts)


@dataclass
class Outcome:
    """What happened to one file; the receipt says the same in Chinese."""

    path: Path
    sha256: str
    status: str                       # accepted / partial / rejected / stale / duplicate / checked
    received_at: str
    identity: Identity | None = None
    village: str = ""                 # the template's village code, when the file is a village's
    sheets: list[SheetResult] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)   # roster persons still not registered
    roster_total: int = 0
    receipt: Path | None = None
    conflicts: list[tuple[str, Holder, str]] = field(default_factory=list)  # id, holder, our region
    saved_at: str | None = None       # the workbook's own last save time
    newer: tuple[str, str] | None = None   # (saved_at, name) of a newer return already merged
    withdrawn: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # left out of a full resubmission
    kept: dict[str, int] = field(default_factory=dict)   # left out, but kept: the file is a fresh copy
    carried: list[tuple[str, str, str, bool]] = field(default_factory=list)  # an export's returned rows

    def count(self, kind: str, which: str) -> int:
        """Rows of a form's sheet: read, accepted, returned, warnings (rows with any), new (accepted, not on the roster)."""
        sheet = next((s for s in self.sheets if s.form.kind == kind), None)
        return sheet.counts[which] if sheet is not None else 0

    @property
    def older_form(self) -> str | None:
        """The form version of a template older than ours (still read and checked by the
        current form, and said so in the receipt); None for a current one."""
        version = self.identity.form_version if self.identity else FORM_VERSION
        return version if version != FORM_VERSION else None

    def for_receipt(self, *, rows: bool = True) -> Outcome:
        """What the receipt needs, to hand to another process: the counts and the rows with
        problems (a receipt shows no others), not the file's every row; `rows=False`: the
        counts only (for a receipt that has had its rows as they were checked)."""
        return replace(self, sheets=[s.with_problems_only() if rows else s.counts_only() for s in self.sheets],
                       carried=[])

    @property
    def problems(self) -> list[Problem]:
        return self.file_problems + [p for s in self.sheets for _, c, _ in s.rows for p in c.problems]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def process_file(ws: Workspace, path: Path, *, merge: bool = True, today: dt.date | None = None) -> Outcome:
    """Run one received file through the pipeline and return what happened."""
    from engine.receipt import write_receipt  # receipts sit above the pipeline's data types

    sha = sha256_of(path)
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    store = ws.store
    if merge:
        earlier = store.file_by_sha(sha)
        if earlier is not None:
            return _already_received(ws, path, earlier)
    archived = _archive(ws, path, sha) if merge else path
    try:
        # A county's file is some 100,000 rows of dicts: while they live, each pass of the
        # cyclic collector would walk them all (see engine.bulk). It runs again afterwards.
        with gc_paused():
            return _process(ws, path, archived, sha, stamp, merge, today or dt.date.today())
    except Exception as exc:   # a bug must not stop the watcher or lose the file: receipt, set aside
        # The type and where, nothing more: a message or a source line may quote a cell (an ID).
        frames = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__))
        log.error("processing %s failed: %s at %s", path.name, type(exc).__name__, frames)
        outcome = Outcome(path, sha, "rejected", stamp)
        outcome.file_problems.append(problem("internal_error", detail=type(exc).__name__))
        outcome.receipt = write_receipt(ws, outcome)
        if merge:
            _leave_inbox(ws, path, unreadable=True)
        return outcome


def _process(ws: Workspace, path: Path, archived: Path, sha: str, stamp: str, merge: bool,
             today: dt.date) -> Outcome:
    from engine.receipt import write_conflict_notices, write_receipt

    sub = read_submission(archived)
    outcome = Outcome(path, sha, "checked", stamp, identity=sub.identity, saved_at=saved_at(archived))
    outcome.file_problems.extend(sub.problems)
    scope = _scope(ws, sub, outcome)
    # A large file's receipt is written by a helper process while this one checks and
    # merges; the helper starts now, so that its start-up overlaps the checks. A file only
    # checked gains from it only when its receipt can be written as its rows are checked.
    large = sum(map(len, sub.sheets)) >= HELPER_ROWS
    if large:
        give_back()
    stream = large and not outcome.file_problems and _streamable(ws, outcome)
    helper = _helper() if large and (merge or stream) else None
    try:
        streamed: Path | None = None
        if not outcome.file_problems:
            streamed = _begin_streamed(ws, outcome, helper, merge) if stream else None
            for sheet in sorted(sub.sheets, key=lambda s: s.form.kind != "persons"):    # as receipts show them
                outcome.sheets.append(_check_sheet(ws, sheet, scope, outcome, today, stream=helper if streamed else None))
            _coverage(ws, outcome)
            if not any(result.keys for result in outcome.sheets):   # never let an empty file withdraw anything
                outcome.file_problems.append(problem("empty"))
            else:
                _resubmission(ws, outcome)
                if outcome.identity and outcome.identity.kind == "export":
                    outcome.carried = read_returned(archived)
        if not merge:
            if helper is not None and streamed is not None:
                _end_streamed(ws, helper, outcome, streamed)
                outcome.receipt = helper.result()
            else:
                outcome.receipt = write_receipt(ws, outcome)
            return outcome
        outcome.status = _status(outcome)
        _merge_with_receipt(ws, outcome, archived, helper, streamed)
    finally:
        if helper is not None:
            helper.close()
    if outcome.conflicts:
        write_conflict_notices(ws, outcome)
    _leave_inbox(ws, path, unreadable=any(p.rule in UNREADABLE_CODES for p in outcome.file_problems))
    return outcome


# Rows from which a file's receipt is written by a helper process, beside the checks and
# the merge: below this, starting a process (about a second on Windows) costs more than it saves.
HELPER_ROWS = 20_000


def _streamable(ws: Workspace, outcome: Outcome) -> bool:
    """Can the receipt be written while the rows are being checked, a chunk at a time? Only
    when its sheets are known before the rows: not a village's template (its receipt is the
    template again), not a file that may withdraw earlier registrations of its template (a
    sheet of those comes before the rows)."""
    ident = outcome.identity
    return not outcome.village and not (ident is not None and ident.kind in _FULL_KINDS and any(
        ws.store.template_keys(kind, ident.template_id) for kind in FORMS))


def _begin_streamed(ws: Workspace, outcome: Outcome, helper: Helper | None, merged: bool) -> Path | None:
    """Have the helper write the receipt (of a file `_streamable`) while the rows are being
    checked: the path the receipt will have; None without a helper."""
    from engine.receipt import begin_streamed, receipt_identity, receipt_path

    if helper is None:
        return None
    path = receipt_path(ws, outcome, merged=merged)
    helper.submit(begin_streamed, path, receipt_identity(ws, outcome))
    return path


def _end_streamed(ws: Workspace, helper: Helper, outcome: Outcome, streamed: Path) -> None:
    """Hand the helper a streamed receipt's counts (it has had its rows); its `result()` is
    the receipt, once in place."""
    from engine.receipt import end_streamed, receipt_path

    if streamed != receipt_path(ws, outcome) or outcome.withdrawn:
        raise RuntimeError("a streamed receipt's name and sheets are known before its rows")
    helper.submit(end_streamed, outcome.for_receipt(rows=False))


def _helper() -> Helper | None:
    """A helper process for the receipt, or None when none can be started (out of
    processes or memory): the receipt is then written here, as for a small file."""
    try:
        return Helper(warm="engine.receipt")
    except OSError as exc:
        log.warning("no helper process (%s): the receipt is written in this process", type(exc).__name__)
        return None


def _already_received(ws: Workspace, path: Path, earlier: FileRecord) -> Outcome:
    """The same bytes again: nothing is counted twice. If it is the very file merged before a
    crash (its archive copy has the same modification time), just finish moving it out."""
    from engine.receipt import write_receipt

    outcome = Outcome(path, earlier.sha256, "duplicate", earlier.received_at)
    archived = ws.root / earlier.archive_path
    if path.is_relative_to(ws.inbox) and archived.exists() and \
            archived.stat().st_mtime_ns == path.stat().st_mtime_ns and earlier.receipt_path:
        outcome.receipt = ws.root / earlier.receipt_path
    else:
        outcome.receipt = write_receipt(ws, outcome, earlier=earlier)
    _leave_inbox(ws, path)
    return outcome


# -- steps ------------------------------------------------------------------------------


def _archive(ws: Workspace, path: Path, sha: str) -> Path:
    """Copy the file into the archive, never overwriting: the name carries the SHA-256."""
    folder = ws.archive / dt.date.today().strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha[:16]}-{path.name}"
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copy2(path, tmp)
        tmp.replace(target)
    return target


def _scope(ws: Workspace, sub: Submission, outcome: Outcome) -> Region:
    """The region every row must lie in: the template's village, else the workspace's region."""
    home = ws.region
    ident = sub.identity
    if ident is None:
        return home
    region = regions.load().get(ident.region_code)
    if region is None or not home.contains(region.code):
        outcome.file_problems.append(problem("region_not_ours", value=ident.region_code, expected=home.name))
        return home
    if ident.kind in ("template", "receipt") and region.level == "village":
        outcome.village = region.code
    return region


def _check_sheet(ws: Workspace, sheet: FormSheet, scope: Region, outcome: Outcome, today: dt.date,
                 stream: Helper | None = None) -> SheetResult:
    """Check a sheet's started rows: the rules (`check_table`), then the checks across rows:
    region, duplicates in the file, the roster, other villages' records. `stream`: the
    helper writing the receipt meanwhile, handed each chunk's rows with problems.

    A county's sheet is checked a chunk of rows at a time, as columns: only the rows with
    problems become rows of their own (shown as sent, in the receipt); the others' values
    stay in columns, for the merge. The collector is paused: the rows and problems made
    here form no cycles (engine.bulk)."""
    from engine.receipt import stream_rows

    form = sheet.form
    result = SheetResult(form, sheet)
    with gc_paused():
        checks = _CrossChecks(ws, RowContext(sheet.name, form, today), scope, outcome,
                              len(sheet) if form.kind == "persons" else 0)
        parts, sheet.parts = sheet.parts, []    # each part let go of once checked
        while parts:
            table = parts.pop(0)
            started = form.started_rows(table.cells, len(table))
            if not all(started):
                table = table.select(list(compress(range(len(started)), started)))
            if outcome.village and "region_code" in form.keys:
                given = table.cells.get("region_code") or [None] * len(table)
                table.cells["region_code"] = [code if code is not None else outcome.village for code in given]
            for start in range(0, len(table), CHUNK_ROWS):
                chunk = table if len(table) <= CHUNK_ROWS else table.select(range(start, min(start + CHUNK_ROWS, len(table))))
                checked = checks.run(chunk, result)
                if stream is not None:
                    stream.submit(stream_rows, [SheetResult(form, sheet, checked).with_problems_only()])
                result.rows += checked
    result.keys = checks.keys
    result.count_rows()
    return result


CHUNK_ROWS = 10_000     # a large sheet's part (about 9,000 rows) is one chunk
ROSTER_SCAN_ROWS = 20_000     # rows from which a sheet reads its region's roster whole


class _CrossChecks:
    """The rules, then the checks across rows, for a sheet's rows in order, a chunk at a time:
    a row's problems are final once its chunk is done (a duplicate is reported on the later row)."""

    def __init__(self, ws: Workspace, ctx: RowContext, scope: Region, outcome: Outcome, rows: int) -> None:
        self.ws, self.ctx, self.scope, self.outcome = ws, ctx, scope, outcome
        self.outside = _Outside(scope)
        self.seen: dict[str, int] = {}
        self.keys: list[str] = []
        # A large sheet reads its region's roster once; the IDs not found there are looked up.
        self.scope_roster = ws.store.roster_names_within(scope.code) if rows >= ROSTER_SCAN_ROWS else {}

    def roster_names(self, keys: list[str]) -> dict[str, str]:
        """ID -> roster name, for the keys on the roster."""
        names = self.scope_roster
        found = {key: names[key] for key in keys if key in names}
        found.update(self.ws.store.roster_names(key for key in keys if key not in names))
        return found

    def run(self, chunk: Table, result: SheetResult) -> list[tuple[RawRow, CheckedRow, bool]]:
        """Check a chunk's rows: its accepted rows' values go to `result.accepted`, as a chunk
        of their own; its rows with problems are returned (as sent, checked, on roster)."""
        ctx, kind = self.ctx, self.ctx.form.kind
        checked = check_table(chunk, ctx)
        values, numbers, problems = checked.values, checked.numbers, checked.problems
        keys = row_keys(kind, values)
        self.keys += keys
        size = len(keys)
        codes = values.get("region_code") or [None] * size
        for i, code in zip(compress(range(size), codes), filter(None, codes), strict=True):
            if self.outside[code]:
                _check_scope(checked, i, ctx, self.scope, code)
        self._duplicates(checked, keys)
        if kind == "units":
            values["unit_key"] = keys    # type: ignore[assignment]
        ok = checked.ok_rows()
        on_roster = [False] * size
        if kind == "persons":
            # The roster is looked up by the normalised ID (upper-case X, 15 digits upgraded).
            roster = self.roster_names(keys)
            on_roster = list(map(roster.__contains__, keys))
            _check_roster(checked, ctx, roster, keys, on_roster, ok)
            _check_holders(self.ws, checked, ctx, self.outcome, ok)
            ok = checked.ok_rows()     # a conflict returns the row
        accepted = Rows()
        accepted.extend(numbers, values, on_roster, ok)
        result.accepted.append(accepted)
        return [(chunk.raw(i), checked.row(i), on_roster[i]) for i in sorted(problems)]

    def _duplicates(self, checked: CheckedTable, keys: list[str]) -> None:
        """A key seen on an earlier row of the file (not one whose ID or credit code is in error)."""
        ctx, numbers, problems = self.ctx, checked.numbers, checked.problems
        wrong = {i for i, found in problems.items()
                 if any(p.field in ("id_number", "credit_code") and p.severity == "error" for p in found)}
        places = [i for i in compress(range(len(keys)), keys) if i not in wrong]
        firsts = list(map(self.seen.setdefault, map(keys.__getitem__, places), map(numbers.__getitem__, places)))
        for i, first in zip(places, firsts, strict=True):
            if first == numbers[i]:
                continue
            if ctx.form.kind == "persons":
                checked.report(i, ctx, ctx.form["id_number"], "duplicate_in_file", keys[i], first=first)
            else:
                checked.report(i, ctx, ctx.form["unit_name"], "duplicate_unit",
                               checked.values.get("unit_name", [""] * len(keys))[i] or "", first=first)


class _Outside(dict[str, bool]):
    """Region code -> outside the scope, judged once per code."""

    def __init__(self, scope: Region) -> None:
        super().__init__()
        self.scope = scope

    def __missing__(self, code: str) -> bool:
        outside = self[code] = not self.scope.contains(code)
        return outside


def _check_scope(checked: CheckedTable, i: int, ctx: RowContext, scope: Region, code: str) -> None:
    if not any(p.field == "region_code" for p in checked.problems.get(i, ())):
        checked.report(i, ctx, ctx.form["region_code"], "region_outside", code, expected=scope.name)


def _check_roster(checked: CheckedTable, ctx: RowContext, roster: dict[str, str], keys: list[str],
                  on_roster: list[bool], ok: list[bool]) -> None:
    """Accepted rows not on the roster (new persons), and those whose name is not the roster's."""
    names = checked.values.get("name") or [None] * len(keys)
    for i in range(len(keys)):
        if not ok[i]:
            continue
        if not on_roster[i]:
            checked.report(i, ctx, ctx.form["id_number"], "not_on_roster", keys[i])
            continue
        expected, name = roster[keys[i]], names[i]
        if expected and name and name != expected:
            checked.report(i, ctx, ctx.form["name"], "name_differs", name, expected=expected)


def _check_holders(ws: Workspace, checked: CheckedTable, ctx: RowContext, outcome: Outcome, ok: list[bool]) -> None:
    """A person already held by another village's template is a conflict, never an overwrite."""
    ours = outcome.identity.template_id if outcome.identity else ""
    numbers = checked.values.get("id_number") or []
    holders = ws.store.holders("persons", [number for number in compress(numbers, ok) if number])
    if not holders:
        return
    codes = checked.values.get("region_code") or [None] * len(numbers)
    for i, number in enumerate(numbers):
        holder = holders.get(number or "")
        if holder is None or not ok[i]:
            continue
        region = codes[i] or ""
        if holder.region_code != region and holder.template_id != ours and not _same_line(holder, region):
            village = " ".join(regions.load().path_names(holder.region_code)[1:])
            checked.report(i, ctx, ctx.form["id_number"], "duplicate_across_villages", number,
                           other=village or holder.region_code, when=f"{holder.received_at[:10]} {holder.file_name}")
            outcome.conflicts.append((number, holder, region))   # type: ignore[arg-type]


def _same_line(holder: Holder, region: str) -> bool:
    """An export from the county the record already came from supersedes, no conflict."""
    return holder.template_id.startswith("CB-EXPORT-") and region.startswith(holder.template_id[10:])


def _coverage(ws: Workspace, outcome: Outcome) -> None:
    if not outcome.village:
        return
    persons = next((s for s in outcome.sheets if s.form.kind == "persons"), None)
    done = {number for rows in persons.accepted for number in rows.values.get("id_number", ())} if persons else set()
    shown = ("person_no", "id_number", "name", "home_street")
    roster = ws.store.roster("persons", outcome.village, shown)
    outcome.roster_total = len(roster)
    registered = {p["id_number"] for p in roster} - {m["id_number"] for m in ws.store.missing_persons(outcome.village)}
    outcome.missing = [{key: p.get(key, "") for key in shown} for p in roster
                       if p["id_number"] not in done and p["id_number"] not in registered]


# Files that stand for the whole of their template's rows: what they leave out is withdrawn.
_FULL_KINDS = ("template", "export")
# ... unless they leave out more than they keep of it, and more than this many: then the
# file is new visits typed on a fresh copy of the template, not the earlier return
# corrected, and the earlier registrations stay.
FRESH_COPY_ROWS = 20


def _template(outcome: Outcome) -> str:
    return outcome.identity.template_id if outcome.identity else f"FILE:{outcome.path.stem}"


def _resubmission(ws: Workspace, outcome: Outcome) -> None:
    """A later return of the same template supersedes the earlier one; an older one does not.

    Superseding withdraws the registrations of the template that the file no longer holds
    (a visit cleared, a new person deleted). A file that holds fewer than half of them,
    with more than FRESH_COPY_ROWS left out, is taken as a fresh copy with new visits: it
    withdraws nothing, and its receipt says so."""
    ident = outcome.identity
    if ident is None:
        return
    latest = ws.store.latest_saved(ident.template_id)
    if latest and outcome.saved_at and latest[0] > outcome.saved_at:
        outcome.newer = latest
        return
    if ident.kind not in _FULL_KINDS:
        return
    for result in outcome.sheets:
        kind = result.form.kind
        sent = set(result.keys)
        earlier = ws.store.template_keys(kind, ident.template_id)
        gone = earlier - sent
        if len(gone) > max(FRESH_COPY_ROWS, len(earlier) - len(gone)):
            outcome.kept[kind] = len(gone)
        elif gone:
            outcome.withdrawn[kind] = ws.store.records_by_key(kind, gone)


def _status(outcome: Outcome) -> str:
    if outcome.file_problems and any(p.severity == "error" for p in outcome.file_problems):
        return "rejected"
    if outcome.newer:
        return "stale"
    accepted = sum(s.counts["accepted"] for s in outcome.sheets)
    returned = sum(s.counts["returned"] for s in outcome.sheets)
    if returned and not accepted:
        return "rejected"
    return "partial" if returned else "accepted"


def _merge_with_receipt(ws: Workspace, outcome: Outcome, archived: Path, helper: Helper | None,
                        streamed: Path | None) -> None:
    """Merge the file and write its receipt, the receipt in place before the merge commits:
    a crash at any point leaves the whole file merged, with its receipt, or none of it.
    `streamed`: the helper has the receipt's rows already, it needs the counts."""
    from engine.receipt import receipt_identity, receipt_path, write_receipt_file

    path = receipt_path(ws, outcome)
    identity = receipt_identity(ws, outcome)
    if helper is not None and streamed is not None:
        _end_streamed(ws, helper, outcome, streamed)
    elif helper is not None:
        helper.submit(write_receipt_file, path, identity, outcome.for_receipt())
    else:
        write_receipt_file(path, identity, outcome)
    with ws.store.transaction():
        _merge(ws, outcome, archived, path)
        outcome.receipt = helper.result() if helper is not None else path


def _merge(ws: Workspace, outcome: Outcome, archived: Path, receipt: Path) -> None:
    """The file's record and its accepted rows, inside the caller's transaction."""
    store = ws.store
    ident = outcome.identity
    template = _template(outcome)
    file_id = store.add_file(
        sha256=outcome.sha256, name=outcome.path.name, archive_path=str(archived.relative_to(ws.root))
        if archived.is_relative_to(ws.root) else str(archived), received_at=outcome.received_at,
        kind=ident.kind if ident else "foreign", template_id=template,
        region_code=ident.region_code if ident else None, status=outcome.status,
        rows_read=outcome.count("persons", "read") + outcome.count("units", "read"),
        accepted=outcome.count("persons", "accepted") + outcome.count("units", "accepted"),
        returned=outcome.count("persons", "returned") + outcome.count("units", "returned"),
        warnings=outcome.count("persons", "warnings") + outcome.count("units", "warnings"),
        new_persons=outcome.count("persons", "new"),
        receipt_path=str(receipt.relative_to(ws.root)), saved_at=outcome.saved_at)
    if outcome.status == "stale" or (outcome.status == "rejected" and outcome.file_problems):
        return
    for kind, records in outcome.withdrawn.items():
        store.withdraw(kind, (row_key(kind, r) for r in records), file_id)
    pending: list[tuple[str, str, str, bool]] = []
    for result in outcome.sheets:
        kind = result.form.kind
        for rows in result.accepted:
            store.merge(kind, file_id, result.sheet.name, template, rows)
        pending.extend((kind, row_key(kind, c.values) or f"row:{raw.row}", c.values.get("region_code", ""),
                        on_roster) for raw, c, on_roster in result.rows if not c.ok)
    store.set_pending(template, file_id, pending + outcome.carried)
    for id_number, holder, region in outcome.conflicts:
        store.add_conflict(id_number, holder, region, file_id)


def _leave_inbox(ws: Workspace, path: Path, *, unreadable: bool = False) -> None:
    """Processed files leave the inbox (they are archived); files elsewhere are left alone."""
    if not path.is_relative_to(ws.inbox) or not path.exists():
        return
    if unreadable:
        ws.unreadable.mkdir(parents=True, exist_ok=True)
        target = ws.unreadable / path.name
        if target.exists():
            target = target.with_name(f"{path.stem}-{dt.datetime.now():%Y%m%d%H%M%S}{path.suffix}")
        shutil.move(str(path), target)
    else:
        path.unlink()


def ingest_all(ws: Workspace, paths: Iterable[Path]) -> list[Outcome]:
    return [process_file(ws, p) for p in paths]
