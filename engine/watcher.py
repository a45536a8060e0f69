"""The drop-folder watcher: finds complete files in the inbox and hands each to a handler.

The watcher knows nothing of spreadsheets' contents or of the terminal. The pipeline
gives it `handle(path)`, which processes one file (and normally moves it out of the
inbox into the archive); the watcher decides *when* a file is ready:

- names that editors, browsers and operating systems use for temporary, lock and
  hidden files are ignored silently (`is_ignored`), and only spreadsheet extensions
  are taken (`is_supported`);
- a file is taken only once it is old enough (`min_age`), its size and mtime did not
  change between two looks `settle` seconds apart, and `is_complete(path)` agrees
  (by default `looks_complete`, which catches half-written .xlsx/.xls files);
- a file that is still in the inbox after `handle` returned is not taken again until
  its size or mtime changes.

`on_batch` (the summary refresh) is debounced: it runs once the worker has been idle
for `_BATCH_QUIET` with no file on its way (being written, or waiting for its
stability check), so a flood of files is one batch; at most every `_BATCH_MAX_WAIT`
seconds during a long flood; and, when it is slow, no more often than keeps its own
time at about `_BATCH_SHARE` of the whole (a trickle of files one by one is not a
refresh per file). A long refresh can be given in steps: `on_batch` returns them (a
generator), the first runs at once and each further one only when no file is ready, so a
file landing during the refresh waits for one step, not for all of it.

`Watcher.run_once` processes what is in the inbox now; `Watcher.run` follows file
system events (watchdog) until a stop event is set, with one thread doing the work.
`WatchLock` keeps a second watcher off the same workspace.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from engine.problems import REFUSED_FORMATS

log = logging.getLogger(__name__)

Handler = Callable[[Path], object]
BatchResult = list[tuple[Path, object]]
BatchCallback = Callable[[BatchResult], Iterable[object] | None]

# What the pipeline reads, and formats it refuses with a receipt that says what to send
# instead (.xlsb, .et, .docx...): those too are taken, so that they leave the inbox.
SUPPORTED_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".ods", *REFUSED_FORMATS})
_IGNORED_PREFIXES = ("~$", ".~lock.", ".")
_IGNORED_SUFFIXES = (
    "#", ".tmp", ".swp", "~",                                      # editors' lock, temp and backup files
    ".crdownload", ".part", ".partial", ".download", ".downloading",  # browsers, 百度网盘
    ".filepart", ".!sync", ".xltd",                                  # WinSCP, Resilio Sync, 迅雷
)
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
_ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".ods"})
_OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_MAGIC = b"PK\x03\x04"

_MIN_DELAY = 0.05  # never look at a changing file again sooner than this
_INCOMPLETE_RETRY = 1.0  # how often a file that is not complete yet is looked at again
_TICK = 0.2  # how often the worker checks the stop event when idle
_BATCH_QUIET = 1.0  # on_batch runs once nothing was processed for this long, and nothing is on its way
_BATCH_MAX_WAIT = 300.0  # ... or once its first result is this old, even while files keep coming
_BATCH_SHARE = 0.1  # on_batch may take about this share of the time: the next call waits 9x the last one's


# --- which files are candidates -------------------------------------------------------


def is_ignored(path: Path, *, inbox: Path | None = None) -> bool:
    """True for temporary, lock and hidden files, and anything under a hidden folder.

    Folder names are checked below `inbox` when it is given (a path outside `inbox`
    counts as ignored), else along the whole of `path` as written.
    """
    return _is_ignored_name(path.name) or _in_hidden_folder(path.parent, inbox)


def _in_hidden_folder(folder: Path, inbox: Path | None) -> bool:
    """True when `folder` or a folder above it (up to `inbox`) starts with a dot."""
    if inbox is None:
        parts = folder.parts
    else:
        try:
            parts = folder.relative_to(inbox).parts
        except ValueError:
            return True
    return any(part.startswith(".") and part not in (".", "..") for part in parts)


def _is_ignored_name(name: str) -> bool:
    lower = name.lower()
    return (
        name.startswith(_IGNORED_PREFIXES)
        or lower.endswith(_IGNORED_SUFFIXES)
        or lower in _IGNORED_NAMES
    )


def is_supported(path: Path) -> bool:
    """True when the file's extension is one the pipeline reads (case-insensitive)."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def scan(inbox: Path) -> list[Path]:
    """Candidate files now in `inbox` (recursive), oldest mtime first, then by name."""
    return _by_mtime(path for path in _walk(inbox, inbox) if is_supported(path))


def _walk(top: Path, inbox: Path) -> Iterator[Path]:
    """Every regular, not-ignored file under `top`, skipping hidden folders."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if not is_ignored(path, inbox=inbox):
                yield path


def _by_mtime(paths: Iterable[Path]) -> list[Path]:
    keyed: list[tuple[int, str, Path]] = []
    for path in paths:
        stat = _stat_file(path)
        if stat is not None:
            keyed.append((stat.st_mtime_ns, str(path), path))
    return [path for _, _, path in sorted(keyed)]


def _stat_file(path: Path) -> os.stat_result | None:
    """The file's stat, or None when it is gone or not a regular file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat if S_ISREG(stat.st_mode) else None


# --- is the file complete? -------------------------------------------------------------


def looks_complete(path: Path) -> bool:
    """A cheap check that a spreadsheet file has been written to its end.

    .xlsx/.xlsm/.ods are zip files whose central directory is written last, so a
    half-written one does not open. An .xls needs the OLE2 header; an ".xls" that is
    really a zip is checked as one. Any other content (an .xlsx encrypted with a password,
    which is an OLE2 file; HTML or XML tables that some systems export as .xls; random
    bytes) is left to the reader, which says what it is. An empty file is not complete
    (a file being created is empty first). Other files: True.
    """
    suffix = path.suffix.lower()
    if suffix in _ZIP_SUFFIXES or suffix == ".xls":
        return _spreadsheet_complete(path)
    return True


def _zip_opens(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    return True


def _spreadsheet_complete(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError:
        return False
    if len(head) < 8:
        return False
    if head.startswith(_ZIP_MAGIC):
        return _zip_opens(path)
    return True  # OLE2 (.xls, or an encrypted .xlsx) or not binary Excel at all: the reader decides


# --- the queue of paths to look at -----------------------------------------------------


class _PathQueue:
    """Paths waiting to be looked at, each at most once, each due at some moment.

    `get` returns the first due path in the order paths were put; a path put again
    while already waiting keeps its place and its due time.
    """

    def __init__(self) -> None:
        self._due: dict[Path, float] = {}
        self._cond = threading.Condition()

    def __len__(self) -> int:
        with self._cond:
            return len(self._due)

    def holds_other_than(self, paths: set[Path]) -> bool:
        """Whether a path not in `paths` is waiting."""
        with self._cond:
            return any(path not in paths for path in self._due)

    def put(self, path: Path, delay: float = 0.0) -> None:
        with self._cond:
            if path not in self._due:
                self._due[path] = time.monotonic() + delay
                self._cond.notify()

    def get(self, timeout: float) -> Path | None:
        """The next due path, waiting up to `timeout` seconds for one; else None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                path, wait = self._next_due(now)
                if path is not None:
                    del self._due[path]
                    return path
                if now >= deadline:
                    return None
                self._cond.wait(min(deadline - now, wait))

    def _next_due(self, now: float) -> tuple[Path | None, float]:
        """The first due path, or None and how long until the soonest one is due."""
        soonest = math.inf
        for path, due in self._due.items():
            if due <= now:
                return path, 0.0
            soonest = min(soonest, due - now)
        return None, soonest


# --- file system events ------------------------------------------------------------------


class _EventsToQueue(FileSystemEventHandler):
    """Turns watchdog events into queued paths; never does any work itself.

    The observer watches the inbox's real folder (file events do not follow a link, and an
    inbox may be a link to a shared folder); paths are queued as seen through `inbox`.
    """

    def __init__(self, inbox: Path, queue: _PathQueue) -> None:
        self._inbox = inbox
        self._real = Path(os.path.realpath(inbox))
        self._queue = queue

    def on_created(self, event: DirCreatedEvent | FileCreatedEvent) -> None:
        self._enqueue(event.src_path, is_directory=event.is_directory)

    def on_modified(self, event: DirModifiedEvent | FileModifiedEvent) -> None:
        if not event.is_directory:
            self._enqueue(event.src_path, is_directory=False)

    def on_closed(self, event: FileClosedEvent) -> None:
        self._enqueue(event.src_path, is_directory=False)

    def on_moved(self, event: DirMovedEvent | FileMovedEvent) -> None:
        self._enqueue(event.dest_path, is_directory=event.is_directory)

    def _enqueue(self, raw: bytes | str, *, is_directory: bool) -> None:
        path = Path(os.fsdecode(raw))
        if self._real != self._inbox and path.is_relative_to(self._real):
            path = self._inbox / path.relative_to(self._real)
        if is_directory:
            if not _in_hidden_folder(path, self._inbox):
                for found in _walk(path, self._inbox):
                    self._put_if_wanted(found)
        else:
            self._put_if_wanted(path)

    def _put_if_wanted(self, path: Path) -> None:
        if is_supported(path) and not is_ignored(path, inbox=self._inbox):
            self._queue.put(path)


def _start_observer(inbox: Path, queue: _PathQueue, *, polling: bool) -> BaseObserver:
    """A running observer on `inbox`; native events unless polling, or when they fail."""
    if not polling:
        try:
            return _started(Observer(), inbox, queue)
        except OSError as exc:
            log.warning("native file events unavailable (%s); polling instead", exc.strerror)
    return _started(PollingObserver(), inbox, queue)


def _started(observer: BaseObserver, inbox: Path, queue: _PathQueue) -> BaseObserver:
    observer.schedule(_EventsToQueue(inbox, queue), os.path.realpath(inbox), recursive=True)
    observer.start()
    return observer


class _StopNoise(logging.Filter):
    """Drops the error watchdog's inotify emitter may log while it is being stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


def _stop_observer(observer: BaseObserver) -> None:
    """Stop the observer and its emitter threads, without watchdog's shutdown noise."""
    emitter_log = logging.getLogger("watchdog.observers.inotify")
    noise = _StopNoise()
    emitter_log.addFilter(noise)
    try:
        observer.stop()
        observer.join(timeout=10)
    finally:
        emitter_log.removeFilter(noise)


# --- the watcher -------------------------------------------------------------------------


Signature = tuple[int, int]  # (size, mtime_ns)


@dataclass(frozen=True)
class _Look:
    """What a file looked like, and since when (time.monotonic) it has looked so."""

    signature: Signature
    since: float


class Watcher:
    """Hands every complete candidate file in `inbox` to `handle`, once per content.

    `handle` may raise: the error is logged (file name and error type only, since
    messages may carry personal data) and the exception object is that file's result.
    `on_batch` receives the (path, result) pairs after each burst of work in `run`
    (`run_once` returns them instead). It may return an iterable of steps (a generator):
    the first step runs at once, each further one when no file is ready. When the next
    batch is due before the steps ran out, the rest are dropped (the generator closed) and
    `on_batch` is called with the new batch: it must take over what the dropped steps had
    left to do. On stop the last steps run to their end. When
    `is_complete` is None, `looks_complete` is used; pass `lambda path: True` to
    skip that check. A file that stays unchanged but incomplete for `give_up_after`
    seconds (a copy cut short, an empty file) is handed over all the same: the sender
    gets a receipt that says the file is incomplete, and it leaves the inbox. `ready` is
    set once `run` is observing the inbox.
    """

    def __init__(
        self,
        inbox: Path,
        handle: Handler,
        *,
        polling: bool = False,
        min_age: float = 1.0,
        settle: float = 0.5,
        rescan_every: float = 30.0,
        on_batch: BatchCallback | None = None,
        is_complete: Callable[[Path], bool] | None = None,
        once_timeout: float = 30.0,
        give_up_after: float = 600.0,
    ) -> None:
        self.inbox = Path(os.path.abspath(inbox))
        self.polling = polling
        self.min_age = min_age
        self.settle = settle
        self.rescan_every = rescan_every
        self.once_timeout = once_timeout
        self.give_up_after = give_up_after
        self.ready = threading.Event()
        self._handle = handle
        self._on_batch = on_batch
        self._is_complete = is_complete or looks_complete
        self._looks: dict[Path, _Look] = {}
        self._handled: dict[Path, Signature] = {}
        self._stalled: set[Path] = set()  # stable but not complete: not "on its way" for on_batch
        self._unsupported_seen: set[Path] = set()
        self._next_report = 0.0  # time.monotonic() before which on_batch is not called again
        self._refresh: Iterator[object] | None = None  # the steps on_batch returned, still to run
        self._refresh_time = 0.0  # seconds spent on them so far, on_batch's call included

    # public entry points

    def run_once(self) -> BatchResult:
        """Process every stable file now in the inbox and return the results.

        Files still being written are waited for up to `once_timeout` seconds, then
        left for the next run. `on_batch` is not called: the caller has the results.
        """
        queue = _PathQueue()
        self._enqueue_all(queue)
        deadline = time.monotonic() + self.once_timeout
        results: BatchResult = []
        while len(queue):
            next_path = queue.get(timeout=max(0.0, deadline - time.monotonic()))
            if next_path is None:
                break
            result = self._step(next_path, queue)
            if result is not None:
                results.append(result)
        return results

    def run(self, stop: threading.Event) -> None:
        """Observe the inbox and process files until `stop` is set.

        The calling thread is the one worker: events and rescans only queue paths.
        On stop the current file is finished, pending results are reported, the
        observer is stopped, and this returns.
        """
        if not self.inbox.is_dir():
            raise FileNotFoundError(f"inbox folder not found: {self.inbox}")
        queue = _PathQueue()
        observer = _start_observer(self.inbox, queue, polling=self.polling)
        log.info("watching %s (%s)", self.inbox, "polling" if isinstance(observer, PollingObserver) else "file events")
        try:
            self._serve(queue, stop)
        finally:
            _stop_observer(observer)
            self.ready.clear()

    # the worker loop

    def _serve(self, queue: _PathQueue, stop: threading.Event) -> None:
        batch: BatchResult = []
        next_rescan = 0.0
        started = last_work = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= next_rescan:
                self._enqueue_all(queue)
                next_rescan = time.monotonic() + self.rescan_every
                self.ready.set()
            path = queue.get(timeout=_TICK if self._refresh is None else 0.0)
            result = None if path is None else self._step(path, queue)
            if result is not None:
                if not batch:
                    started = time.monotonic()
                batch.append(result)
                last_work = time.monotonic()
            if batch and self._batch_done(queue, started, last_work, idle=path is None):
                self._report(batch)
                batch = []
            elif path is None:
                self._advance()
        self._report(batch)
        while self._refresh is not None:
            self._advance()

    def _batch_done(self, queue: _PathQueue, started: float, last_work: float, *, idle: bool) -> bool:
        """Whether the results gathered since `started` should go to on_batch now."""
        now = time.monotonic()
        if now - started >= _BATCH_MAX_WAIT:
            return True
        return (idle and now - last_work >= _BATCH_QUIET and now >= self._next_report
                and not queue.holds_other_than(self._stalled))

    def _enqueue_all(self, queue: _PathQueue) -> None:
        for path in self._candidates():
            queue.put(path)

    def _step(self, path: Path, queue: _PathQueue) -> tuple[Path, object] | None:
        """Look at one queued path: process it if ready, else put it back for later."""
        wait = self._assess(path)
        if wait is None:
            return None
        if wait > 0:
            queue.put(path, delay=wait)
            return None
        return self._process(path)

    def _report(self, batch: BatchResult) -> None:
        """Call on_batch (dropping the steps of the call before, if any are left) and run its first step."""
        if not batch or self._on_batch is None:
            return
        self._drop_refresh()
        self._refresh_time = 0.0
        start = time.monotonic()
        try:
            steps = self._on_batch(batch)
        except Exception as exc:
            log.error("on_batch failed after %d files (%s)", len(batch), type(exc).__name__)
            steps = None
        self._refresh = None if steps is None else iter(steps)
        self._spent(start)
        self._advance()

    def _drop_refresh(self) -> None:
        """Close what is left of the last on_batch's steps (the next call takes it over)."""
        steps, self._refresh = self._refresh, None
        close = getattr(steps, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception as exc:
            log.error("on_batch failed when its steps were dropped (%s)", type(exc).__name__)

    def _advance(self) -> None:
        """Run the next step of on_batch's steps, if any are left."""
        if self._refresh is None:
            return
        start = time.monotonic()
        try:
            next(self._refresh)
        except StopIteration:
            self._refresh = None
        except Exception as exc:
            log.error("on_batch failed in a step (%s)", type(exc).__name__)
            self._refresh = None
        self._spent(start)

    def _spent(self, start: float) -> None:
        """Count on_batch's time since `start`; the next call waits 9x the time spent on the last."""
        end = time.monotonic()
        self._refresh_time += end - start
        self._next_report = end + self._refresh_time * (1 - _BATCH_SHARE) / _BATCH_SHARE

    # deciding whether a file is ready

    def _candidates(self) -> list[Path]:
        """Like `scan`, and notes (once each) files whose extension is not taken."""
        files = list(_walk(self.inbox, self.inbox))
        self._prune(set(files))
        for path in files:
            if not is_supported(path) and path not in self._unsupported_seen:
                self._unsupported_seen.add(path)
                log.info("not a spreadsheet, left in the inbox: %s", path.name)
        return _by_mtime(path for path in files if is_supported(path))

    def _prune(self, present: set[Path]) -> None:
        """Forget files that have left the inbox (a file moved back in is new again)."""
        for path in [path for path in self._handled if path not in present]:
            del self._handled[path]
        for path in [path for path in self._looks if path not in present]:
            del self._looks[path]
        self._stalled &= present
        self._unsupported_seen &= present

    def _assess(self, path: Path) -> float | None:
        """None: nothing to do; 0: ready now; > 0: look again after that many seconds."""
        self._stalled.discard(path)
        stat = _stat_file(path)
        if stat is None:
            self._forget(path)
            return None
        signature = (stat.st_size, stat.st_mtime_ns)
        if self._handled.get(path) == signature:
            return None
        now = time.monotonic()
        look = self._looks.get(path)
        if look is None or look.signature != signature:
            self._looks[path] = _Look(signature, now)
            age = max(time.time() - stat.st_mtime, 0.0)
            return max(self.settle, self.min_age - age, _MIN_DELAY)
        wait = self._wait_for_stable(stat, look, now)
        if wait > 0:
            return wait
        if not self._complete(path) and now - look.since < self.give_up_after:
            self._stalled.add(path)
            return max(self.settle, _INCOMPLETE_RETRY)
        return 0.0   # complete, or unchanged and incomplete for so long that the copy was cut short

    def _wait_for_stable(self, stat: os.stat_result, look: _Look, now: float) -> float:
        """Seconds until the file is old enough and has kept its look for `settle`.

        Age is counted from the mtime, or from when this look was first seen if that
        is longer (a clock-skewed share can give mtimes in the future).
        """
        unchanged_for = now - look.since
        age = max(time.time() - stat.st_mtime, unchanged_for)
        wait = max(self.settle - unchanged_for, self.min_age - age)
        return max(wait, _MIN_DELAY) if wait > 0 else 0.0

    def _complete(self, path: Path) -> bool:
        try:
            return self._is_complete(path)
        except Exception as exc:
            log.debug("completeness check failed for %s (%s)", path.name, type(exc).__name__)
            return False

    def _forget(self, path: Path) -> None:
        self._looks.pop(path, None)
        self._handled.pop(path, None)

    # handing a file to the pipeline

    def _process(self, path: Path) -> tuple[Path, object]:
        try:
            result: object = self._handle(path)
        except Exception as exc:
            log.error("could not process %s (%s)", path.name, type(exc).__name__)
            result = exc
        self._remember(path)
        return path, result

    def _remember(self, path: Path) -> None:
        """Note a handled file that is still in the inbox, so it is not taken again."""
        self._looks.pop(path, None)
        stat = _stat_file(path)
        if stat is None:
            self._handled.pop(path, None)
        else:
            self._handled[path] = (stat.st_size, stat.st_mtime_ns)


# --- one watcher per workspace -------------------------------------------------------------


class AlreadyWatching(RuntimeError):
    """Another watcher holds the workspace's watch lock."""

    def __init__(self, lock_path: Path) -> None:
        super().__init__(f"another watcher is already running (lock: {lock_path})")
        self.lock_path = lock_path


class WatchLock:
    """An exclusive, non-blocking lock on a file, e.g. workbooks/.watch.lock.

    The operating system releases it when the process ends, so a crash leaves no
    stale lock. The lock file itself stays (it holds the holder's process id).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> WatchLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise AlreadyWatching(self.path)
        self._fd = fd
        _write_pid(fd)
        return self

    def __exit__(self, *exc_info: object) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


def _write_pid(fd: int) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs", "ceph",
    "glusterfs", "fuse.glusterfs", "davfs", "fuse.davfs2", "lustre", "gpfs", "ncpfs", "fuse.rclone",
})


def on_network_fs(path: Path) -> bool:
    """Whether `path` lies on a network file system, where change events are unreliable.

    Linux: the file-system type of the longest mount point containing the path
    (/proc/self/mounts). Windows: a UNC path or a drive the system calls remote.
    """
    resolved = path.resolve()
    if os.name == "nt":
        return _windows_remote(resolved)
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return mount_type(resolved, mounts) in NETWORK_FILESYSTEMS


def mount_type(resolved: Path, mounts: list[str]) -> str:
    """The file-system type of the longest mount point (lines of /proc/self/mounts) holding a path."""
    best, fstype = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = str(resolved) == point or str(resolved).startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, fstype = point, parts[2]
    return fstype


def _windows_remote(path: Path) -> bool:
    text = str(path)
    if text.startswith("\\\\"):
        return True
    import ctypes

    drive_remote = 4
    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return False
    return bool(windll.kernel32.GetDriveTypeW(text[:3]) == drive_remote)
