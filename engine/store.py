"""The store: SQLite behind one module, so a provincial deployment can swap it.

Tables (columns of persons and units come from the form definition):
- meta: the workspace's region and settings.
- roster_persons, roster_units: the 入户调查对象名册.
- files: every file received, keyed by its SHA-256 (the idempotency key).
- persons, units: each person's/unit's current record, with the file, sheet and row it came from.
- person_versions, unit_versions: every earlier record, kept when a later file replaces it.
- pending: rows whose latest return had errors ("returned", 退回待改), per template.
- conflicts: the same person returned by two villages; the first stays, the second waits.

One transaction per file (`Store.transaction`), WAL journal, portable SQL only.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import truth
from pathlib import Path
from typing import Any

from engine import regions
from engine.bulk import gc_paused, picker
from engine.figures import Figures, RegionFigures
from engine.form import FORMS, INSURANCE_KEYS, PERSONS, UNITS, Form

# SQLite's page cache (KiB): a county's file merges some 100,000 rows in one transaction,
# and with the default 2 MB their tables' pages are read again and again. 32 MB merged no
# faster than 8 MB, and a cache's memory counts at an ingest's peak (the receipt helper
# runs beside the merge).
CACHE_KIB = 8 * 1024
# Pages the WAL may grow to before a commit copies them into the database (SQLite's
# default: 1,000). A village's return writes some 150 pages, many of them the same ones
# (the tables' last pages, the indexes' inner pages): checkpointed every few files they
# were copied and synced again and again. At 10,000 (40 MB) a flood of returns ingests
# about 10% faster; a county's file (some 12,000 pages) still checkpoints as it commits.
WAL_CHECKPOINT_PAGES = 10_000
ROW_META = ("file_id", "sheet", "row_no", "template_id", "on_roster", "first_seen", "updated_at")
# Records in the order they were received: by file, then as the file holds them (the rowid
# does not say it: `_by_shape`).
_FILE_ORDER = "file_id, sheet, row_no"
_Merged = tuple[int, Mapping[str, str], bool]     # a row to merge: row number, values, on roster
TABLES = {"persons": ("persons", "person_versions", "id_number"), "units": ("units", "unit_versions", "unit_key")}


def _columns(form: Form) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*form.keys, "unit_key") if form.kind == "units" else form.keys))


def _schema() -> str:
    parts = [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS files (
            id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
            archive_path TEXT NOT NULL, received_at TEXT NOT NULL, kind TEXT NOT NULL,
            template_id TEXT, region_code TEXT, status TEXT NOT NULL,
            rows_read INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, warnings INTEGER NOT NULL DEFAULT 0,
            new_persons INTEGER NOT NULL DEFAULT 0, receipt_path TEXT, saved_at TEXT)""",
        """CREATE TABLE IF NOT EXISTS pending (
            kind TEXT NOT NULL, template_id TEXT NOT NULL, row_key TEXT NOT NULL,
            region_code TEXT NOT NULL, on_roster INTEGER NOT NULL, file_id INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS pending_template ON pending (template_id)",
        "CREATE INDEX IF NOT EXISTS pending_key ON pending (row_key)",
        """CREATE TABLE IF NOT EXISTS conflicts (
            id INTEGER PRIMARY KEY, id_number TEXT NOT NULL, kept_region TEXT NOT NULL,
            kept_file INTEGER NOT NULL, other_region TEXT NOT NULL, other_file INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'open', settled_how TEXT, created_at TEXT NOT NULL)""",
    ]
    for form in FORMS.values():
        cols = _columns(form)
        key = TABLES[form.kind][2]
        body = ", ".join(f"{c} TEXT" + (" PRIMARY KEY" if c == key else "") for c in cols)
        parts.append(f"CREATE TABLE IF NOT EXISTS roster_{form.kind} ({body}, batch TEXT)")
        parts.append(f"CREATE INDEX IF NOT EXISTS roster_{form.kind}_region ON roster_{form.kind} (region_code)")
        meta = "file_id INTEGER, sheet TEXT, row_no INTEGER, template_id TEXT, on_roster INTEGER, first_seen TEXT, updated_at TEXT"
        table, versions, _ = TABLES[form.kind]
        parts.append(f"CREATE TABLE IF NOT EXISTS {table} ({body}, {meta})")
        plain = ", ".join(f"{c} TEXT" for c in cols)
        parts.append(f"CREATE TABLE IF NOT EXISTS {versions} (version_id INTEGER PRIMARY KEY, {plain}, {meta}, "
                     "superseded_by INTEGER, superseded_at TEXT)")
        parts.append(f"CREATE INDEX IF NOT EXISTS {versions}_key ON {versions} ({key})")
        parts.append(f"CREATE INDEX IF NOT EXISTS {table}_region ON {table} (region_code)")
        # A template's records are looked up on every return of it (resubmission): without
        # this, a scan of the whole table per file (40 ms at a city's 160,000 persons).
        parts.append(f"CREATE INDEX IF NOT EXISTS {table}_template ON {table} (template_id)")
    return ";\n".join(parts)


@dataclass
class FileRecord:
    id: int
    sha256: str
    name: str
    archive_path: str
    received_at: str
    kind: str
    template_id: str | None
    region_code: str | None
    status: str
    rows_read: int
    accepted: int
    returned: int
    warnings: int
    new_persons: int
    receipt_path: str | None
    saved_at: str | None          # when the sender's application last saved the workbook


@dataclass
class Holder:
    """Who already holds a person: the region and file of the current record."""

    key: str
    region_code: str
    template_id: str
    file_name: str
    received_at: str


def now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _keys_in(column: str, keys: Iterable[str]) -> tuple[str, str]:
    """`column IN (keys)` as SQL, and its one parameter: the keys as one JSON array that
    SQLite takes apart in place (json_each). A county's 100,000 keys go in as one value,
    not as a statement or a placeholder each, nor through a temporary table filled first
    (0.07-0.17 s more on a county's merge)."""
    return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(keys), ensure_ascii=False)


@dataclass
class Rows:
    """Rows to merge, as columns: each row's number in its sheet, values (None or "" where it
    has none) and whether it is on the roster."""

    numbers: list[int] = field(default_factory=list)
    values: dict[str, list[str | None]] = field(default_factory=dict)
    on_roster: list[bool] = field(default_factory=list)

    @classmethod
    def of(cls, rows: Iterable[_Merged]) -> Rows:
        """Rows given one by one: (row number, values, on roster)."""
        merged = cls()
        for number, values, on_roster in rows:
            merged.extend([number], {key: [value] for key, value in values.items()}, [on_roster])
        return merged

    def __len__(self) -> int:
        return len(self.numbers)

    def extend(self, numbers: Sequence[int], values: Mapping[str, Sequence[str | None]],
               on_roster: Sequence[bool], keep: Sequence[bool] | None = None) -> None:
        """Add rows (those `keep` says, when given), their values given as columns."""
        def kept(column: Sequence[Any]) -> Iterable[Any]:
            return column if keep is None else compress(column, keep)

        size = len(self.numbers)
        self.numbers.extend(kept(numbers))
        added = len(self.numbers) - size
        for key, column in values.items():
            self.values.setdefault(key, [None] * size).extend(kept(column))
        for key, column in self.values.items():
            if key not in values:
                column.extend([None] * added)
        self.on_roster.extend(kept(on_roster))


def _by_shape(rows: Rows, cols: Sequence[str]) -> dict[tuple[str, ...], list[int]]:
    """Rows to merge grouped by the columns they fill (the rows' places in each group). A
    county's rows fill a few hundred such shapes; a statement per shape binds a row's
    values and not the ten or so columns it leaves empty: a county's insert a quarter
    faster (0.89 against 1.18 s for 104,404 rows). Inserted so, the table's rowids no
    longer follow the file: readers order records by file and row (`_FILE_ORDER`). The
    rows' keys are distinct (the checks return a sheet's duplicates), so the order of the
    inserts does not decide which stays. Only the rows' places are grouped: their
    parameters are made as each is inserted (made all at once, a county's are 30 MB more
    at the peak)."""
    unknown = set(rows.values).difference(cols)
    if unknown:
        raise ValueError(f"not a column: {sorted(unknown)}")
    given = [c for c in cols if c in rows.values]
    groups: dict[tuple[bool, ...], list[int]] = {}
    for i, filled in enumerate(zip(*(map(truth, rows.values[c]) for c in given), strict=True)):
        group = groups.get(filled)
        if group is None:
            group = groups[filled] = []
        group.append(i)
    return {tuple(compress(given, filled)): places for filled, places in groups.items()}


# Rows of a shape bound a batch at a time: each column's values picked at once (a tuple of
# pointers), not one call a value, the batch's tuples freed before the next's are made.
_BATCH = 10_000


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self.db.executescript(_schema())
        self._migrate()

    def _migrate(self) -> None:
        """Columns added after a store was created."""
        have = {row[1] for row in self.db.execute("PRAGMA table_info(files)")}
        if "saved_at" not in have:
            self.db.execute("ALTER TABLE files ADD COLUMN saved_at TEXT")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------

    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- roster -----------------------------------------------------------------------

    def add_roster(self, kind: str, rows: Sequence[Mapping[str, str]], batch: str) -> None:
        cols = _columns(FORMS[kind])
        sql = (f"INSERT OR REPLACE INTO roster_{kind} ({', '.join(cols)}, batch) "
               f"VALUES ({', '.join('?' * (len(cols) + 1))})")
        self.db.executemany(sql, ([r.get(c) or None for c in cols] + [batch] for r in rows))

    def roster(self, kind: str, village: str, columns: Sequence[str] = ()) -> list[dict[str, str]]:
        """A village's roster in its order, each row's filled columns (`columns`: only those)."""
        wanted = ", ".join(c for c in _columns(FORMS[kind]) if c in columns) if columns else "*"
        cur = self.db.execute(f"SELECT {wanted} FROM roster_{kind} WHERE region_code = ? ORDER BY rowid", (village,))
        names = [d[0] for d in cur.description]
        return [{k: v for k, v in zip(names, row, strict=True) if v is not None} for row in cur]

    def roster_villages(self, within: str) -> list[str]:
        prefix = regions.load().by_code[within].prefix
        cur = self.db.execute("SELECT DISTINCT region_code FROM roster_persons WHERE region_code LIKE ? "
                              "UNION SELECT DISTINCT region_code FROM roster_units WHERE region_code LIKE ?",
                              (prefix + "%", prefix + "%"))
        return sorted(r[0] for r in cur)

    def roster_names(self, ids: Iterable[str]) -> dict[str, str]:
        """id_number -> roster name, for the given IDs that are on the roster."""
        out: dict[str, str] = {}
        chunk: list[str] = []
        for i in ids:
            chunk.append(i)
            if len(chunk) == 500:
                out.update(self._roster_names(chunk))
                chunk = []
        out.update(self._roster_names(chunk))
        return out

    def roster_names_within(self, region_code: str) -> dict[str, str]:
        """id_number -> roster name of every roster person in a region: one pass over the
        roster, cheaper than a look-up per ID when a file holds most of a county."""
        prefix = regions.load().by_code[region_code].prefix
        return {r[0]: r[1] or "" for r in self.db.execute(
            "SELECT id_number, name FROM roster_persons WHERE region_code LIKE ?", (prefix + "%",))}

    def _roster_names(self, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        sql = f"SELECT id_number, name FROM roster_persons WHERE id_number IN ({', '.join('?' * len(ids))})"
        return {r[0]: r[1] or "" for r in self.db.execute(sql, ids)}

    def roster_batch(self) -> str:
        row = self.db.execute("SELECT MAX(batch) FROM roster_persons").fetchone()
        return str(row[0] or "")

    # -- files ------------------------------------------------------------------------

    def file_by_sha(self, sha256: str) -> FileRecord | None:
        row = self.db.execute("SELECT * FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return FileRecord(*row) if row else None

    def add_file(self, **values: Any) -> int:
        values.setdefault("received_at", now())
        cols = ", ".join(values)
        cur = self.db.execute(f"INSERT INTO files ({cols}) VALUES ({', '.join('?' * len(values))})",
                              tuple(values.values()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update_file(self, file_id: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE files SET {sets} WHERE id = ?", (*values.values(), file_id))

    def latest_saved(self, template_id: str) -> tuple[str, str] | None:
        """(saved_at, file name) of the most recently saved file merged for a template."""
        row = self.db.execute(
            "SELECT saved_at, name FROM files WHERE template_id = ? AND saved_at IS NOT NULL "
            "AND status IN ('accepted', 'partial') ORDER BY saved_at DESC LIMIT 1", (template_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def files(self) -> list[FileRecord]:
        return [FileRecord(*r) for r in self.db.execute("SELECT * FROM files ORDER BY id")]

    # -- merging ----------------------------------------------------------------------

    def holders(self, kind: str, keys: Iterable[str]) -> dict[str, Holder]:
        """Current holders of these persons/units, with the file they came from."""
        table, _, key = TABLES[kind]
        out: dict[str, Holder] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            sql = (f"SELECT t.{key}, t.region_code, t.template_id, f.name, f.received_at FROM {table} t "
                   f"JOIN files f ON f.id = t.file_id WHERE t.{key} IN ({', '.join('?' * len(chunk))})")
            for row in self.db.execute(sql, chunk):
                out[row[0]] = Holder(*row)
        return out

    def merge(self, kind: str, file_id: int, sheet: str, template_id: str, rows: Rows) -> None:
        """Upsert accepted rows; earlier records become versions.

        Values are stored as given, each row with only the columns it fills (`_by_shape`).
        A county's file is some 100,000 rows: the collector is paused while their
        parameters are made."""
        table, versions, key = TABLES[kind]
        cols = _columns(FORMS[kind])
        stamp = now()
        if not rows.numbers:
            return
        with gc_paused():
            keys = rows.values[key]
            incoming, listed = _keys_in(key, keys)   # type: ignore[arg-type]
            first_seen = dict(self.db.execute(f"SELECT {key}, first_seen FROM {table} WHERE {incoming}", (listed,)))
            if first_seen:     # records replaced (none on a first return): kept as versions
                all_cols = ", ".join((*cols, *ROW_META))
                self.db.execute(f"INSERT INTO {versions} ({all_cols}, superseded_by, superseded_at) "
                                f"SELECT {all_cols}, ?, ? FROM {table} WHERE {incoming}", (file_id, stamp, listed))
            for filled, places in _by_shape(rows, cols).items():
                names = (*filled, *ROW_META)
                sql = f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                for start in range(0, len(places), _BATCH):
                    pick = picker(places[start:start + _BATCH])
                    self.db.executemany(sql, zip(
                        *(pick(rows.values[c]) for c in filled), repeat(file_id), repeat(sheet),
                        pick(rows.numbers), repeat(template_id), map(int, pick(rows.on_roster)),
                        map(first_seen.get, pick(keys), repeat(stamp)) if first_seen else repeat(stamp),
                        repeat(stamp), strict=False))     # the repeats end with the rows

    def template_keys(self, kind: str, template_id: str) -> set[str]:
        table, _, key = TABLES[kind]
        return {r[0] for r in self.db.execute(f"SELECT {key} FROM {table} WHERE template_id = ?", (template_id,))}

    def withdraw(self, kind: str, keys: Iterable[str], file_id: int) -> None:
        """Take records out of the current table into the versions table, superseded by
        `file_id`: a full resubmission of their template left them out."""
        table, versions, key = TABLES[kind]
        where, listed = _keys_in(key, keys)
        all_cols = ", ".join((*_columns(FORMS[kind]), *ROW_META))
        self.db.execute(f"INSERT INTO {versions} ({all_cols}, superseded_by, superseded_at) "
                        f"SELECT {all_cols}, ?, ? FROM {table} WHERE {where}", (file_id, now(), listed))
        self.db.execute(f"DELETE FROM {table} WHERE {where}", (listed,))

    def records_by_key(self, kind: str, keys: Iterable[str]) -> list[dict[str, str]]:
        table, _, key = TABLES[kind]
        where, listed = _keys_in(key, keys)
        cur = self.db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {_FILE_ORDER}", (listed,))
        names = [d[0] for d in cur.description]
        return [{k: v for k, v in zip(names, row, strict=True) if v is not None} for row in cur]

    def set_pending(self, template_id: str, file_id: int,
                    rows: Iterable[tuple[str, str, str, bool]]) -> None:
        """Replace a template's returned rows with this file's: (kind, key, region, on roster)."""
        self.db.execute("DELETE FROM pending WHERE template_id = ?", (template_id,))
        self.db.executemany(
            "INSERT INTO pending (kind, template_id, row_key, region_code, on_roster, file_id) VALUES (?, ?, ?, ?, ?, ?)",
            ((kind, template_id, key, region, int(on_roster), file_id) for kind, key, region, on_roster in rows))

    def pending_rows(self, within: str) -> list[tuple[str, str, str, int]]:
        """Returned rows in a region not since registered: (kind, key, region, on roster)."""
        prefix = regions.load().by_code[within].prefix
        return self.db.execute(
            "SELECT q.kind, q.row_key, q.region_code, q.on_roster FROM pending q WHERE q.region_code LIKE ? "
            "AND NOT EXISTS (SELECT 1 FROM persons p WHERE q.kind = 'persons' AND p.id_number = q.row_key) "
            "ORDER BY q.region_code, q.row_key", (prefix + "%",)).fetchall()

    def add_conflict(self, id_number: str, kept: Holder, other_region: str, other_file: int) -> None:
        kept_file = self.db.execute("SELECT file_id FROM persons WHERE id_number = ?", (id_number,)).fetchone()
        self.db.execute(
            "INSERT INTO conflicts (id_number, kept_region, kept_file, other_region, other_file, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (id_number, kept.region_code, kept_file[0] if kept_file else 0, other_region, other_file, now()))

    def conflicts(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT c.id, c.id_number, c.kept_region, fk.name, c.other_region, fo.name, c.status, "
            "c.settled_how, c.created_at FROM conflicts c LEFT JOIN files fk ON fk.id = c.kept_file "
            "LEFT JOIN files fo ON fo.id = c.other_file ORDER BY c.id")
        names = ("id", "id_number", "kept_region", "kept_file", "other_region", "other_file", "status",
                 "settled_how", "created_at")
        return [dict(zip(names, r, strict=True)) for r in cur]

    def settle_conflict(self, conflict_id: int, keep_other: bool, how: str) -> dict[str, Any] | None:
        """Settle an open conflict: the person stays with the first village, or moves to the
        second (the record's region changes; its answers stay, the move is kept in history).
        Either way the second village's returned row is no longer waiting for correction."""
        row = self.db.execute("SELECT id_number, kept_region, other_region, other_file, status FROM conflicts "
                              "WHERE id = ?", (conflict_id,)).fetchone()
        if row is None or row[4] != "open":
            return None
        id_number, kept, other, other_file, _ = row
        with self.transaction():
            if keep_other:
                all_cols = ", ".join((*_columns(FORMS["persons"]), *ROW_META))
                self.db.execute(f"INSERT INTO person_versions ({all_cols}, superseded_by, superseded_at) "
                                f"SELECT {all_cols}, ?, ? FROM persons WHERE id_number = ?",
                                (other_file, now(), id_number))
                template = self.db.execute("SELECT template_id FROM files WHERE id = ?", (other_file,)).fetchone()
                self.db.execute("UPDATE persons SET region_code = ?, template_id = ?, updated_at = ? "
                                "WHERE id_number = ?", (other, template[0] if template else None, now(), id_number))
            self.db.execute("DELETE FROM pending WHERE kind = 'persons' AND row_key = ? AND region_code = ?",
                            (id_number, other))
            self.db.execute("UPDATE conflicts SET status = 'settled', settled_how = ? WHERE id = ?", (how, conflict_id))
        return {"id_number": id_number, "kept_region": kept, "other_region": other}

    def history(self, id_number: str) -> list[dict[str, Any]]:
        """Every version of a person, oldest first, the current one last."""
        cols = ", ".join(("t.name", "t.region_code", "t.pension", "t.medical", "t.sheet", "t.row_no",
                          "t.updated_at", "f.name", "f.received_at"))
        names = ("name", "region_code", "pension", "medical", "sheet", "row_no", "updated_at", "file", "received_at")
        old = self.db.execute(f"SELECT {cols} FROM person_versions t JOIN files f ON f.id = t.file_id "
                              "WHERE t.id_number = ? ORDER BY t.version_id", (id_number,)).fetchall()
        cur = self.db.execute(f"SELECT {cols} FROM persons t JOIN files f ON f.id = t.file_id "
                              "WHERE t.id_number = ?", (id_number,)).fetchall()
        return [dict(zip(names, r, strict=True)) | {"current": i == len(old)} for i, r in enumerate(old + cur)]

    def records(self, kind: str, within: str) -> Iterator[dict[str, str]]:
        table = TABLES[kind][0]
        prefix = regions.load().by_code[within].prefix
        cur = self.db.execute(f"SELECT * FROM {table} WHERE region_code LIKE ? ORDER BY region_code, {_FILE_ORDER}",
                              (prefix + "%",))
        names = [d[0] for d in cur.description]
        for row in cur:
            yield {k: v for k, v in zip(names, row, strict=True) if v is not None}

    def missing_persons(self, village: str) -> list[dict[str, str]]:
        """Roster persons of a village with no accepted record (visited with errors or not at all)."""
        cur = self.db.execute(
            "SELECT r.person_no, r.id_number, r.name FROM roster_persons r WHERE r.region_code = ? AND NOT EXISTS "
            "(SELECT 1 FROM persons p WHERE p.id_number = r.id_number) ORDER BY r.rowid", (village,))
        return [{"person_no": a or "", "id_number": b or "", "name": c or ""} for a, b, c in cur]

    # -- figures ----------------------------------------------------------------------

    def figures(self, root: str) -> Figures:
        """Progress of `root` and its sub-regions down to villages (see `region_figures`)."""
        return region_figures(self.db, root)

    def backup(self, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(str(dest))
        with target:
            self.db.backup(target)
        target.close()


# -- figures: one pass over each table, counted per village, rolled up (read-only) ----------

_COUNTS = ("task_persons", "registered", "returned", "new", "missing", "task_units", "units_registered", "units_new")
_BREAKDOWNS = ("pension", "medical", "other_insurance", "uninsured", "employment", "identity", "unit_types", "daily")
# RegionFigures attribute -> persons column, for the breakdowns of one code per person.
_PERSON_CODES = (("pension", "pension"), ("medical", "medical"), ("uninsured", "uninsured_reason"),
                 ("employment", "employment"), ("identity", "identity"))


def region_figures(db: sqlite3.Connection, root: str) -> Figures:
    """Progress of `root` and its sub-regions down to villages.

    Each table is read once, restricted to the region, and counted per village here
    (SQLite would join row by row through indexes, several times slower); the villages
    are then summed up the region tree. The definitions (README, `canbao status`):
    registered = roster persons with a current record; new = current records not on the
    roster; returned = pending rows of persons without a current record, counted where
    they were returned; missing = roster persons neither registered nor pending."""
    prefix = regions.load().by_code[root].prefix
    like = (prefix + "%",)
    per_village: dict[str, RegionFigures] = defaultdict(lambda: RegionFigures("", "", "village"))
    registered = {r[0] for r in db.execute("SELECT id_number FROM persons")}
    pending = {r[0] for r in db.execute("SELECT row_key FROM pending WHERE kind = 'persons'")}
    for code, key in db.execute("SELECT region_code, id_number FROM roster_persons WHERE region_code LIKE ?", like):
        village = per_village[code]
        village.task_persons += 1
        if key in registered:
            village.registered += 1
        elif key not in pending:
            village.missing += 1
    for code, n in db.execute(
            "SELECT q.region_code, COUNT(*) FROM pending q WHERE q.kind = 'persons' AND q.region_code LIKE ? "
            "AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = q.row_key) GROUP BY q.region_code", like):
        per_village[code].returned += n
    _count_persons(db, like, per_village)
    units = {r[0] for r in db.execute("SELECT unit_key FROM units")}
    for code, key in db.execute("SELECT region_code, unit_key FROM roster_units WHERE region_code LIKE ?", like):
        per_village[code].task_units += 1
        per_village[code].units_registered += key in units
    for code, new, kind in db.execute(
            "SELECT region_code, NOT EXISTS (SELECT 1 FROM roster_units r WHERE r.unit_key = u.unit_key), unit_type "
            "FROM units u WHERE region_code LIKE ?", like):
        village = per_village[code]
        village.units_new += new
        if kind is not None:
            village.unit_types[kind] = village.unit_types.get(kind, 0) + 1
    files = dict(db.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall())
    region = _roll_up(root, per_village)
    return Figures(
        region=region,
        files={"received": sum(files.values()), "accepted": files.get("accepted", 0) + files.get("partial", 0),
               "rejected": files.get("rejected", 0)},
        daily=region.daily_list())


def _count_persons(db: sqlite3.Connection, like: tuple[str], per_village: dict[str, RegionFigures]) -> None:
    """New persons and every breakdown of the current records, in one pass: the day of a
    person's first registration, each one-code field, and injury/unemployment/maternity
    (counted by code when not 0)."""
    attrs = [attr for attr, _ in _PERSON_CODES]
    columns = ", ".join(column for _, column in _PERSON_CODES)
    others = ", ".join(INSURANCE_KEYS[2:])
    sql = ("SELECT region_code, NOT EXISTS (SELECT 1 FROM roster_persons r WHERE r.id_number = p.id_number), "
           f"substr(first_seen, 1, 10), {columns}, {others} FROM persons p WHERE region_code LIKE ?")
    for code, new, day, *values in db.execute(sql, like):
        village = per_village[code]
        village.new += new
        if day:
            village.daily[day] = village.daily.get(day, 0) + 1
        for attr, value in zip(attrs, values, strict=False):
            if value is not None:
                counts: dict[str, int] = getattr(village, attr)
                counts[value] = counts.get(value, 0) + 1
        for value in values[len(attrs):]:
            if value is not None and value != "0":
                village.other_insurance[value] = village.other_insurance.get(value, 0) + 1


def _roll_up(code: str, per_village: Mapping[str, RegionFigures]) -> RegionFigures:
    """The region's figures: its own (a village) or the sum of its sub-regions'."""
    reg = regions.load()
    region = reg.by_code[code]
    out = RegionFigures(code=code, name=region.name, level=region.level)
    if region.level == "village":
        own = per_village.get(code)
        if own is not None:
            for attr in (*_COUNTS, *_BREAKDOWNS):
                setattr(out, attr, getattr(own, attr))
        return out
    for child in reg.sub_regions(code):
        sub = _roll_up(child.code, per_village)
        out.children.append(sub)
        for attr in _COUNTS:
            setattr(out, attr, getattr(out, attr) + getattr(sub, attr))
        for attr in _BREAKDOWNS:
            total: Counter[str] = Counter(getattr(out, attr))
            total.update(getattr(sub, attr))
            setattr(out, attr, dict(total))
    return out


__all__ = ["Store", "FileRecord", "Holder", "PERSONS", "UNITS"]
