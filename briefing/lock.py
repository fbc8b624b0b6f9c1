"""An exclusive lock beside a workbook, so that two commands never rewrite it at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import WorkbookLocked

WAIT_SECONDS = 10.0  # how long a second command waits for the first before it gives up
POLL_SECONDS = 0.1
# A lock file with no holder in it is one being written, unless it is older than this: its
# writer was killed between creating it and writing its first bytes.
UNWRITTEN_SECONDS = 30.0


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: a process on a host, since a time (as ISO 8601 text)."""

    pid: int
    host: str
    since: str

    def as_bytes(self) -> bytes:
        return json.dumps({"pid": self.pid, "host": self.host, "since": self.since}).encode()


def lock_path(path: Path) -> Path:
    """The lock file of the file at `path`: desk.xlsx.lock beside desk.xlsx."""
    return path.with_name(f"{path.name}.lock")


@contextmanager
def exclusive_lock(path: Path, *, wait: float | None = None) -> Iterator[Path]:
    """Hold the lock file of `path` for the block, waiting up to `wait` seconds for it.

    The lock is a file created only if it does not exist (O_EXCL, on POSIX and Windows alike)
    holding the process ID, host and time. A lock left by a process of this host that no longer
    runs is stale, and is cleared. Raises WorkbookLocked, naming the holder, when the wait ends.
    """
    lock = lock_path(path)
    me = Holder(os.getpid(), socket.gethostname(), _now())
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    while not _create(lock, me):
        holder = _read(lock)
        if _is_stale(lock, holder) and _clear_stale(lock, holder):
            continue
        if time.monotonic() >= deadline:
            raise WorkbookLocked(_locked_message(path, lock, holder))
        time.sleep(POLL_SECONDS)
    try:
        yield lock
    finally:
        _remove_if_unchanged(lock, me)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _create(lock: Path, me: Holder) -> bool:
    """Create the lock file holding `me`; False when it exists already."""
    try:
        handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as err:
        raise WorkbookLocked(
            f"{lock}: the lock file cannot be created ({err.strerror}); make the folder "
            "writable and try again"
        ) from err
    try:
        os.write(handle, me.as_bytes())
    finally:
        os.close(handle)
    return True


def _read(lock: Path) -> Holder | None:
    """Who the lock file names; None while it is being written, or when it names no one."""
    try:
        found = json.loads(lock.read_bytes())
        return Holder(int(found["pid"]), str(found["host"]), str(found["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _is_stale(lock: Path, holder: Holder | None) -> bool:
    """Whether the lock was left by a process that no longer runs, or was never written."""
    if holder is None:
        try:
            return time.time() - lock.stat().st_mtime > UNWRITTEN_SECONDS
        except FileNotFoundError:
            return False  # released meanwhile: the next try creates it
    # A process on another host (a shared folder) cannot be looked at from here.
    return holder.host == socket.gethostname() and not process_runs(holder.pid)


def _clear_stale(lock: Path, holder: Holder | None) -> bool:
    """Delete a stale lock file that still names `holder`; returns whether it is gone.

    One waiter at a time clears, holding desk.xlsx.lock.clearing (O_EXCL): between reading the
    lock file and deleting it, another waiter could otherwise clear it too, take the lock, and
    have its new lock deleted. A clearing older than UNWRITTEN_SECONDS was left by a process
    killed while it cleared, and is removed.
    """
    clearing = lock.with_name(f"{lock.name}.clearing")
    try:
        os.close(os.open(clearing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        with suppress(OSError):
            if time.time() - clearing.stat().st_mtime > UNWRITTEN_SECONDS:
                clearing.unlink()
        return False
    except OSError:
        return False
    try:
        # Read again now that no one else clears: the lock may have been replaced meanwhile.
        return (
            _read(lock) == holder and _is_stale(lock, holder) and _remove_if_unchanged(lock, holder)
        )
    finally:
        with suppress(OSError):
            clearing.unlink()


def _remove_if_unchanged(lock: Path, holder: Holder | None) -> bool:
    """Delete the lock file if it still names `holder` (another may have taken it meanwhile).

    Returns whether it is gone, by this or otherwise.
    """
    if _read(lock) != holder:
        return not lock.exists()
    # Windows refuses to delete a file another process has open, as a waiter reading who holds
    # the lock has for a moment; a lock that stays is cleared as stale once this process ends.
    for _ in range(20):
        try:
            lock.unlink()
        except FileNotFoundError:
            return True
        except PermissionError:
            time.sleep(POLL_SECONDS / 2)
        else:
            return True
    return False


def _locked_message(path: Path, lock: Path, holder: Holder | None) -> str:
    who = (
        f"process {holder.pid} on {holder.host}, since {holder.since}"
        if holder is not None
        else "a process that has not said who it is"
    )
    return (
        f"{path}: another briefing command is changing the workbook ({who}); wait for it to "
        f"finish and try again, or delete {lock} if that process is no longer running"
    )


def process_runs(pid: int) -> bool:
    """Whether a process with this ID runs on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_process_runs(pid)
    try:
        os.kill(pid, 0)  # signal 0 delivers nothing: it only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


if sys.platform == "win32":
    import ctypes

    def _windows_process_runs(pid: int) -> bool:
        # os.kill(pid, 0) would end the process on Windows: ask the kernel instead.
        query_limited_information, still_active, access_denied = 0x1000, 259, 5
        kernel = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel.OpenProcess(query_limited_information, False, pid)
        if not handle:
            return ctypes.get_last_error() == access_denied  # another user's process runs
        try:
            code = ctypes.c_ulong()
            if not kernel.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == still_active
        finally:
            kernel.CloseHandle(handle)
