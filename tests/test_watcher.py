"""The drop-folder watcher, against real file-system events in a temp folder.

`Watcher.run` runs in a thread with a handler that records each call and moves the
file out of the inbox, as the pipeline does. Waits are bounded polling loops; nothing
asserts on timing.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine.watcher import (
    AlreadyWatching,
    Watcher,
    WatchLock,
    is_ignored,
    is_supported,
    looks_complete,
    scan,
)

FAST: dict[str, Any] = {"min_age": 0.2, "settle": 0.2}
TEMP_NAMES = ["~$a.xlsx", ".~lock.a.xlsx#", "a.tmp", "x.crdownload", "Thumbs.db"]
# What sync and download tools write while a file is on its way, each renamed to a.xlsx when done.
SYNC_NAMES = [".syncthing.a.xlsx.tmp", "a.xlsx.!sync", "a.xlsx.baiduyun.p.downloading", "a.xlsx.xltd",
              "a.xlsx.filepart", ".a.xlsx.Xy12Zq", ".dropbox.cache/a.xlsx", ".tmp.drivedownload/a.xlsx",
              "a.xlsx.part", ".~a.xlsx"]
OLE2_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")
REPO = Path(__file__).resolve().parents[1]


# --- helpers -----------------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def xlsx_bytes(seed: int = 0) -> bytes:
    """A real zip file shaped like an .xlsx, large enough to cut in half."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/media/filler.bin", random.Random(seed).randbytes(64_000))
    return buffer.getvalue()


def write_old(path: Path, data: bytes, age: float = 60.0) -> Path:
    """Write a file whose mtime lies `age` seconds in the past."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


class Recorder:
    """A handler like the pipeline's: records each call and moves the file to done/."""

    def __init__(self, done: Path, *, fail: str | None = None, move: bool = True) -> None:
        done.mkdir(exist_ok=True)
        self.done = done
        self.fail = fail
        self.move = move
        self.calls: list[str] = []
        self.contents: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> object:
        with self._lock:
            self.calls.append(path.name)
            number = len(self.calls)
        data = path.read_bytes()
        with self._lock:
            self.contents.setdefault(path.name, []).append(data)
        if path.name == self.fail:
            raise ValueError("cannot read this workbook")
        if self.move:
            shutil.move(path, self.done / f"{number:04d}-{path.name}")
        return len(data)

    def count(self, name: str) -> int:
        with self._lock:
            return self.calls.count(name)


class Batches:
    """An on_batch callback that keeps every batch it is given."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[Path, object]]] = []

    def __call__(self, batch: list[tuple[Path, object]]) -> None:
        self.batches.append(list(batch))

    def results(self) -> dict[str, object]:
        return {path.name: result for batch in self.batches for path, result in batch}


@contextmanager
def watching(inbox: Path, handle: Callable[[Path], object], **options: Any) -> Iterator[Watcher]:
    """Run `Watcher.run` in a thread until the block ends; fail if it raised."""
    watcher = Watcher(inbox, handle, **{**FAST, **options})
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            watcher.run(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert wait_until(lambda: watcher.ready.is_set() or bool(errors)), "watcher did not start"
    try:
        yield watcher
    finally:
        stop.set()
        thread.join(timeout=15)
        assert not thread.is_alive(), "watcher did not stop"
        assert not errors, errors


def drain(inbox: Path, recorder: Recorder, name: str = "zz-sentinel.csv") -> None:
    """Drop a file after everything else and wait until it is handled."""
    (inbox / name).write_bytes(b"sentinel\n")
    assert wait_until(lambda: recorder.count(name) >= 1)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def recorder(tmp_path: Path) -> Recorder:
    return Recorder(tmp_path / "done")


# --- which files count --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [*TEMP_NAMES, ".hidden.xlsx", "a.xlsx~", "a.csv.part", "a.xls.partial", "a.download",
     ".a.xlsx.swp", "desktop.ini", ".DS_Store", "THUMBS.DB", "A.TMP", "#a.csv#",
     ".git/a.xlsx", "sub/.cache/a.csv"],
)
def test_is_ignored(tmp_path: Path, name: str) -> None:
    assert is_ignored(tmp_path / name, inbox=tmp_path)


@pytest.mark.parametrize("name", SYNC_NAMES)
def test_sync_tools_temp_names_are_ignored(tmp_path: Path, name: str) -> None:
    assert is_ignored(tmp_path / name, inbox=tmp_path)


@pytest.mark.parametrize("name", ["a.xlsx", "B.XLSX", "sub/村.xls", "a.csv", "a.ods", "a.txt"])
def test_is_not_ignored(tmp_path: Path, name: str) -> None:
    assert not is_ignored(tmp_path / name, inbox=tmp_path)


def test_scan_sorts_by_mtime_then_name_and_skips_others(inbox: Path) -> None:
    now = time.time()
    for name, data, age in [
        ("b.csv", b"b", 30), ("a.csv", b"a", 30), ("town/old.xlsx", xlsx_bytes(), 90),
        ("new.xls", OLE2_HEADER, 1),
    ]:
        path = write_old(inbox / name, data)
        os.utime(path, (now - age, now - age))
    for name in [*TEMP_NAMES, "notes.txt", ".hidden/c.csv"]:
        write_old(inbox / name, b"x", age=200)
    assert [p.relative_to(inbox).as_posix() for p in scan(inbox)] == [
        "town/old.xlsx", "a.csv", "b.csv", "new.xls",
    ]


def test_looks_complete(tmp_path: Path) -> None:
    whole = xlsx_bytes()
    cases = {
        "whole.xlsx": (whole, True),
        "half.xlsx": (whole[: len(whole) // 2], False),
        "half.ods": (whole[: len(whole) // 2], False),
        "empty.xlsm": (b"", False),
        "book.xls": (OLE2_HEADER + bytes(504), True),
        "short.xls": (OLE2_HEADER[:4], False),
        "zip-named.xls": (whole[:1000], False),
        "html-named.xls": (b"<html><table></table></html>", True),
        "encrypted.xlsx": (OLE2_HEADER + bytes(504), True),      # a password-protected .xlsx is OLE2
        "bytes.xlsx": (b"this is not a workbook at all", True),  # the reader says what it is
        "rows.csv": (b"a,b\n", True),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert looks_complete(tmp_path / name) is expected, name


# --- run_once ----------------------------------------------------------------------------


def test_run_once_handles_every_stable_file_once(inbox: Path, recorder: Recorder) -> None:
    names = ["a.xlsx", "b.csv", "c.xls"]
    write_old(inbox / "a.xlsx", xlsx_bytes())
    write_old(inbox / "b.csv", b"id,name\n")
    write_old(inbox / "town" / "c.xls", OLE2_HEADER + bytes(504))
    for name in TEMP_NAMES:
        write_old(inbox / name, b"x")
    batches = Batches()
    watcher = Watcher(inbox, recorder, on_batch=batches, **FAST)
    results = watcher.run_once()
    assert sorted(path.name for path, _ in results) == names
    assert sorted(recorder.calls) == names
    assert batches.batches == []  # run_once returns its results rather than reporting them
    assert watcher.run_once() == []
    assert sorted(path.name for path in inbox.iterdir() if path.is_file()) == sorted(TEMP_NAMES)


def test_run_once_takes_a_file_left_in_the_inbox_again_only_when_changed(
    inbox: Path, tmp_path: Path
) -> None:
    recorder = Recorder(tmp_path / "done", move=False)
    path = write_old(inbox / "a.csv", b"v1\n")
    watcher = Watcher(inbox, recorder, **FAST)
    assert len(watcher.run_once()) == 1
    assert watcher.run_once() == []
    write_old(path, b"v1\nv2\n", age=5)
    assert len(watcher.run_once()) == 1
    assert recorder.contents["a.csv"] == [b"v1\n", b"v1\nv2\n"]


def test_run_once_leaves_a_truncated_xlsx_until_it_is_complete(
    inbox: Path, recorder: Recorder
) -> None:
    whole = xlsx_bytes()
    path = write_old(inbox / "a.xlsx", whole[: len(whole) // 2])
    watcher = Watcher(inbox, recorder, once_timeout=0.8, **FAST)
    assert watcher.run_once() == []
    assert path.exists()
    write_old(path, whole, age=5)
    assert [p.name for p, _ in watcher.run_once()] == ["a.xlsx"]
    assert recorder.contents["a.xlsx"] == [whole]


def test_a_file_cut_short_for_good_is_handed_over_in_the_end(inbox: Path, recorder: Recorder) -> None:
    """Unchanged and incomplete for `give_up_after`: the pipeline's receipt says it is
    incomplete, and it leaves the inbox, instead of waiting there for ever."""
    whole = xlsx_bytes()
    write_old(inbox / "cut.xlsx", whole[: len(whole) // 2])
    write_old(inbox / "empty.xlsx", b"")
    watcher = Watcher(inbox, recorder, once_timeout=0.8, give_up_after=1.5, **FAST)
    assert watcher.run_once() == []
    watcher.once_timeout = 5.0
    assert sorted(p.name for p, _ in watcher.run_once()) == ["cut.xlsx", "empty.xlsx"]


@pytest.mark.parametrize("name", ["a.xlsb", "a.et", "a.docx", "a.pdf", "a.XLSX", "a.ods"])
def test_formats_the_pipeline_refuses_are_taken_too(name: str) -> None:
    """They get a receipt saying what to send instead, and leave the inbox."""
    assert is_supported(Path(name))


# --- run, with real file-system events ------------------------------------------------------


@pytest.mark.parametrize("polling", [False, True])
def test_slow_writer_is_handled_once_after_it_finishes(
    inbox: Path, recorder: Recorder, polling: bool
) -> None:
    chunks = [f"{i:03d},{'x' * 200}\n".encode() for i in range(15)]
    with watching(inbox, recorder, polling=polling, min_age=0.4, settle=0.4):
        with (inbox / "slow.csv").open("wb") as file:
            for chunk in chunks:
                file.write(chunk)
                file.flush()
                time.sleep(0.1)
        assert wait_until(lambda: recorder.count("slow.csv") >= 1)
    assert recorder.contents["slow.csv"] == [b"".join(chunks)]


@pytest.mark.parametrize("polling", [False, True])
def test_file_renamed_in_from_outside_is_handled_once(
    inbox: Path, recorder: Recorder, tmp_path: Path, polling: bool
) -> None:
    outside = write_old(tmp_path / "outside" / "a.xlsx", xlsx_bytes())
    with watching(inbox, recorder, polling=polling):
        os.rename(outside, inbox / "a.xlsx")
        assert wait_until(lambda: recorder.count("a.xlsx") >= 1)
        drain(inbox, recorder)
    assert recorder.count("a.xlsx") == 1


def test_folder_moved_in_has_each_file_handled_once(
    inbox: Path, recorder: Recorder, tmp_path: Path
) -> None:
    write_old(tmp_path / "town" / "v1.csv", b"1\n")
    write_old(tmp_path / "town" / "v2.xlsx", xlsx_bytes())
    with watching(inbox, recorder):
        os.rename(tmp_path / "town", inbox / "town")
        assert wait_until(lambda: len(recorder.calls) >= 2)
        drain(inbox, recorder)
    assert sorted(recorder.calls) == ["v1.csv", "v2.xlsx", "zz-sentinel.csv"]


def test_temp_and_lock_files_are_never_handled(inbox: Path, recorder: Recorder) -> None:
    with watching(inbox, recorder):
        for name in [*TEMP_NAMES, "notes.txt"]:
            (inbox / name).write_bytes(b"x")
        drain(inbox, recorder)
    assert recorder.calls == ["zz-sentinel.csv"]
    assert all((inbox / name).exists() for name in TEMP_NAMES)


@pytest.mark.parametrize("polling", [False, True])
def test_a_file_a_sync_tool_brings_is_handled_once_when_renamed_into_place(
    inbox: Path, recorder: Recorder, polling: bool
) -> None:
    """Each tool writes under its own temp name (complete, so only the name keeps it back),
    then renames it to a.xlsx: the temp names are never taken, each a.xlsx once."""
    done = xlsx_bytes()
    with watching(inbox, recorder, polling=polling):
        for number, name in enumerate(SYNC_NAMES, start=1):
            write_old(inbox / name, done)
            time.sleep(0.3)
            assert recorder.count("a.xlsx") == number - 1
            os.replace(inbox / name, inbox / "a.xlsx")
            assert wait_until(lambda n=number: recorder.count("a.xlsx") >= n)
        drain(inbox, recorder)
    assert recorder.calls == ["a.xlsx"] * len(SYNC_NAMES) + ["zz-sentinel.csv"]


@pytest.mark.parametrize("polling", [False, True])
def test_an_inbox_that_is_a_link_to_another_folder_is_watched(
    tmp_path: Path, recorder: Recorder, polling: bool
) -> None:
    """README: a shared folder mounted elsewhere, linked in as the workspace's inbox. Paths
    reach the handler as seen through the link (the pipeline moves files out of the inbox)."""
    share = tmp_path / "share"
    share.mkdir()
    link = tmp_path / "ws-inbox"
    link.symlink_to(share, target_is_directory=True)
    seen: list[Path] = []

    def handle(path: Path) -> object:
        seen.append(path)
        return recorder(path)

    with watching(link, handle, polling=polling):
        (share / "a.xlsx").write_bytes(xlsx_bytes())
        assert wait_until(lambda: recorder.count("a.xlsx") >= 1)
        drain(link, recorder)
    assert recorder.calls == ["a.xlsx", "zz-sentinel.csv"]
    assert seen[0] == Path(os.path.abspath(link)) / "a.xlsx"


@pytest.mark.parametrize("editor", ["libreoffice", "excel"])
def test_save_in_place_is_handled_once_with_the_final_content(
    inbox: Path, recorder: Recorder, editor: str
) -> None:
    first, final = xlsx_bytes(1), xlsx_bytes(2)
    target = inbox / "a.xlsx"
    with watching(inbox, recorder, min_age=0.8, settle=0.3):
        target.write_bytes(first)
        if editor == "libreoffice":  # write a temp file, rename it over the target
            (inbox / "lu1234.tmp").write_bytes(final)
            os.replace(inbox / "lu1234.tmp", target)
        else:  # temp file without extension; old file renamed aside, then removed
            (inbox / "8A3B2C10").write_bytes(final)
            os.rename(target, inbox / "~A1B2.tmp")
            os.rename(inbox / "8A3B2C10", target)
            os.remove(inbox / "~A1B2.tmp")
        assert wait_until(lambda: recorder.count("a.xlsx") >= 1)
        drain(inbox, recorder)
    assert recorder.contents["a.xlsx"] == [final]


def test_fifty_files_dropped_at_once_are_each_handled_once(
    inbox: Path, recorder: Recorder
) -> None:
    names = [f"village-{i:02d}.csv" for i in range(50)]
    batches = Batches()
    with watching(inbox, recorder, on_batch=batches):
        for name in names:
            (inbox / name).write_bytes(f"{name}\n".encode())
        assert wait_until(lambda: len(batches.results()) >= 50)
    assert sorted(recorder.calls) == names
    assert sorted(batches.results()) == names
    assert sum(len(batch) for batch in batches.batches) == 50
    assert len(batches.batches) <= 2, "a flood is one batch (one summary refresh), not one per file"


def test_a_trickle_of_files_is_reported_in_few_batches(inbox: Path, recorder: Recorder) -> None:
    """Files landing one by one, the next before the last one's batch went quiet: one batch,
    since a file on its way (not yet stable) keeps the batch open."""
    names = [f"village-{i:02d}.csv" for i in range(6)]
    batches = Batches()
    with watching(inbox, recorder, on_batch=batches, min_age=0.8, settle=0.4):
        for name in names:
            (inbox / name).write_bytes(f"{name}\n".encode())
            time.sleep(1.5)   # longer than the quiet (1 s), shorter than it + the stability wait
        assert wait_until(lambda: len(batches.results()) >= len(names))
    assert sorted(batches.results()) == names
    assert len(batches.batches) <= 2


def test_a_slow_batch_callback_is_not_repeated_for_every_file(inbox: Path, recorder: Recorder) -> None:
    """Files far enough apart to be a batch each: a slow on_batch (a summary refresh) waits
    until about nine times its own duration has passed, and takes the files of that time at once."""
    names = [f"village-{i:02d}.csv" for i in range(4)]
    batches = Batches()

    def slow(batch: list[tuple[Path, object]]) -> None:
        time.sleep(0.5)
        batches(batch)

    with watching(inbox, recorder, on_batch=slow):
        for name in names:
            (inbox / name).write_bytes(f"{name}\n".encode())
            time.sleep(1.6)   # longer than the stability wait + the quiet
        assert wait_until(lambda: len(batches.results()) >= len(names))
    assert sorted(batches.results()) == names
    assert len(batches.batches) < len(names)


class SteppedRefresh:
    """An on_batch that returns a refresh in steps (0.1 s each the first time, then quick) and
    notes, per call, its batch, the steps run and whether it was dropped or ran to its end."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.calls: list[dict[str, Any]] = []

    def __call__(self, batch: list[tuple[Path, object]]) -> Iterator[None]:
        call: dict[str, Any] = {"batch": sorted(path.name for path, _ in batch), "steps": 0, "end": None}
        self.calls.append(call)
        return self._run(call)

    def _run(self, call: dict[str, Any]) -> Iterator[None]:
        try:
            for _ in range(self.steps):
                if call is self.calls[0]:
                    time.sleep(0.1)
                call["steps"] += 1
                yield
            call["end"] = "finished"
        except GeneratorExit:
            call["end"] = "dropped"
            raise


def test_a_file_landing_during_a_long_refresh_is_handled_between_its_steps(
    inbox: Path, recorder: Recorder
) -> None:
    """A refresh given in steps (the summaries, then the lists village by village) takes a file
    that lands meanwhile after the step in hand, not after the whole refresh. On stop, the
    file's own batch drops what was left of that refresh (on_batch takes it over), and its
    refresh runs to its end."""
    refresh = SteppedRefresh(steps=100)   # 10 s the first time
    with watching(inbox, recorder, on_batch=refresh):
        (inbox / "a.csv").write_bytes(b"a\n")
        assert wait_until(lambda: bool(refresh.calls) and refresh.calls[0]["steps"] >= 3), "the refresh started"
        (inbox / "b.csv").write_bytes(b"b\n")
        assert wait_until(lambda: recorder.count("b.csv") == 1)
        assert refresh.calls[0]["end"] is None, "b.csv was handled while the refresh was still running"
        assert refresh.calls[0]["steps"] < refresh.steps
    assert recorder.calls == ["a.csv", "b.csv"]
    assert [call["batch"] for call in refresh.calls] == [["a.csv"], ["b.csv"]]
    assert refresh.calls[0]["end"] == "dropped"
    assert refresh.calls[1] == {"batch": ["b.csv"], "steps": refresh.steps, "end": "finished"}


def test_a_file_that_never_completes_does_not_hold_back_the_batch(
    inbox: Path, recorder: Recorder
) -> None:
    whole = xlsx_bytes()
    batches = Batches()
    with watching(inbox, recorder, on_batch=batches):
        (inbox / "cut.xlsx").write_bytes(whole[: len(whole) // 2])
        (inbox / "a.csv").write_bytes(b"a\n")
        assert wait_until(lambda: "a.csv" in batches.results())
    assert recorder.calls == ["a.csv"]
    assert (inbox / "cut.xlsx").exists()


def test_a_failing_file_does_not_stop_the_others(inbox: Path, tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "done", fail="b.csv")
    batches = Batches()
    with watching(inbox, recorder, on_batch=batches):
        for name in ["a.csv", "b.csv", "c.csv"]:
            (inbox / name).write_bytes(name.encode())
        assert wait_until(lambda: len(batches.results()) >= 3)
        drain(inbox, recorder)
    results = batches.results()
    assert isinstance(results["b.csv"], ValueError)
    assert results["a.csv"] == results["c.csv"] == 5
    assert recorder.count("b.csv") == 1
    assert (inbox / "b.csv").exists()


def test_truncated_xlsx_is_not_handled_until_completed(inbox: Path, recorder: Recorder) -> None:
    verdicts: list[tuple[str, bool]] = []

    def probe(path: Path) -> bool:
        verdict = looks_complete(path)
        verdicts.append((path.name, verdict))
        return verdict

    whole = xlsx_bytes()
    path = inbox / "a.xlsx"
    with watching(inbox, recorder, is_complete=probe):
        path.write_bytes(whole[: len(whole) // 2])
        assert wait_until(lambda: ("a.xlsx", False) in verdicts)
        assert recorder.count("a.xlsx") == 0
        with path.open("ab") as file:
            file.write(whole[len(whole) // 2 :])
        assert wait_until(lambda: recorder.count("a.xlsx") >= 1)
    assert recorder.contents["a.xlsx"] == [whole]


def test_run_refuses_a_missing_inbox(tmp_path: Path, recorder: Recorder) -> None:
    with pytest.raises(FileNotFoundError):
        Watcher(tmp_path / "nowhere", recorder).run(threading.Event())


# --- one watcher per workspace --------------------------------------------------------------


def test_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    lock_path = tmp_path / "workbooks" / ".watch.lock"
    with WatchLock(lock_path):
        with pytest.raises(AlreadyWatching), WatchLock(lock_path):
            pass
        assert _lock_in_other_process(lock_path) == 3
    with WatchLock(lock_path):
        pass
    assert _lock_in_other_process(lock_path) == 0


def _lock_in_other_process(lock_path: Path) -> int:
    """Exit code of another process taking the lock: 0 taken, 3 refused."""
    code = (
        "import sys; from pathlib import Path\n"
        "from engine.watcher import AlreadyWatching, WatchLock\n"
        "try:\n"
        "    with WatchLock(Path(sys.argv[1])): pass\n"
        "except AlreadyWatching: sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, str(lock_path)], env=env, timeout=60)
    return done.returncode


def test_network_file_systems_are_recognised(tmp_path: Path) -> None:
    from engine.watcher import NETWORK_FILESYSTEMS, mount_type, on_network_fs

    assert on_network_fs(tmp_path) is False          # a local temp folder
    mounts = ["/dev/vda / ext4 rw 0 0", "//nas/share /mnt/office\\040share cifs rw 0 0",
              "server:/export /mnt/office/nfs nfs4 rw 0 0"]
    assert mount_type(Path("/mnt/office share/inbox"), mounts) in NETWORK_FILESYSTEMS
    assert mount_type(Path("/mnt/office/nfs/inbox"), mounts) == "nfs4"
    assert mount_type(Path("/mnt/officeX/inbox"), mounts) == "ext4"
    assert mount_type(Path("/home/inbox"), mounts) == "ext4"
