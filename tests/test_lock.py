"""briefing/lock.py: one command at a time rewrites a workbook; a dead holder's lock is cleared."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from briefing import lock
from briefing.errors import WorkbookLocked
from briefing.lock import exclusive_lock, lock_path, process_runs


def dead_pid() -> int:
    """The ID of a process that has ended (and been reaped) on this host."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def write_lock(
    path: Path, pid: int, host: str | None = None, since: str = "2024-06-14T09:30:00+00:00"
) -> Path:
    found = lock_path(path)
    holder = {"pid": pid, "host": host or socket.gethostname(), "since": since}
    found.write_text(json.dumps(holder), encoding="utf-8")
    return found


def test_the_lock_file_lies_beside_the_workbook_while_held(tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    with exclusive_lock(path) as held:
        assert held == tmp_path / "desk.xlsx.lock"
        holder = json.loads(held.read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        assert holder["host"] == socket.gethostname()
    assert not held.exists()


def test_the_lock_is_released_when_the_block_fails(tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    with pytest.raises(RuntimeError), exclusive_lock(path):
        raise RuntimeError("the write failed")
    assert not lock_path(path).exists()


def test_a_held_lock_names_its_holder_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.xlsx"
    held = write_lock(path, os.getpid())  # this very process: it runs
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.3)
    started = time.monotonic()
    with pytest.raises(WorkbookLocked) as caught, exclusive_lock(path):
        pass
    assert time.monotonic() - started >= 0.3
    assert str(caught.value) == (
        f"{path}: another briefing command is changing the workbook (process {os.getpid()} on "
        f"{socket.gethostname()}, since 2024-06-14T09:30:00+00:00); wait for it to finish and "
        f"try again, or delete {held} if that process is no longer running"
    )
    assert held.exists()  # not ours to remove


def test_the_second_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    script = (
        "import sys, time; from pathlib import Path; from briefing.lock import exclusive_lock\n"
        "with exclusive_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(1)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    ) as first:
        assert first.stdout is not None
        assert first.stdout.readline() == "held\n"
        started = time.monotonic()
        with exclusive_lock(path, wait=30):
            assert time.monotonic() - started > 0.5  # not before the first let go
        assert first.wait() == 0


@pytest.mark.parametrize(
    ("holder", "cleared"),
    [
        pytest.param("dead", True, id="a-process-that-ended"),
        pytest.param("alive", False, id="a-running-process"),
        pytest.param("elsewhere", False, id="a-process-on-another-host"),
    ],
)
def test_only_a_lock_whose_holder_ended_on_this_host_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holder: str, cleared: bool
) -> None:
    path = tmp_path / "desk.xlsx"
    pid = dead_pid() if holder == "dead" else os.getpid()
    host = "another-host.example" if holder == "elsewhere" else None
    write_lock(path, pid, host)
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    if cleared:
        with exclusive_lock(path) as held:
            assert json.loads(held.read_text(encoding="utf-8"))["pid"] == os.getpid()
        assert not held.exists()
    else:
        with pytest.raises(WorkbookLocked), exclusive_lock(path):
            pass


@pytest.mark.parametrize(
    ("age", "cleared"),
    [pytest.param(0, False, id="being-written"), pytest.param(120, True, id="left-unwritten")],
)
def test_an_empty_lock_file_is_stale_only_once_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, age: int, cleared: bool
) -> None:
    path = tmp_path / "desk.xlsx"
    empty = lock_path(path)
    empty.write_bytes(b"")
    os.utime(empty, (time.time() - age, time.time() - age))
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    if cleared:
        with exclusive_lock(path):
            pass
        return
    with pytest.raises(WorkbookLocked) as caught, exclusive_lock(path):
        pass
    assert "(a process that has not said who it is)" in str(caught.value)


def test_a_folder_that_cannot_take_the_lock_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "desk.xlsx"
    with pytest.raises(WorkbookLocked) as caught, exclusive_lock(path):
        pass
    assert str(caught.value) == (
        f"{lock_path(path)}: the lock file cannot be created (No such file or directory); make "
        "the folder writable and try again"
    )


def test_process_runs() -> None:
    assert process_runs(os.getpid())
    assert not process_runs(dead_pid())
    assert not process_runs(0)


def test_a_stale_lock_that_cannot_be_deleted_ends_the_wait_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.xlsx"
    held = write_lock(path, dead_pid())

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)  # as Windows refuses a file open elsewhere
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    with pytest.raises(WorkbookLocked) as caught, exclusive_lock(path):
        pass
    assert str(caught.value).endswith(f"or delete {held} if that process is no longer running")


def test_two_waiters_clearing_one_stale_lock_never_both_hold_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another waiter clears the stale lock and takes it just as this one was about to delete it.

    Without one clearer at a time, this waiter then deleted the other's new lock and took one of
    its own: two extracts rewrote the workbook at once, and one's rows were lost.
    """
    path = tmp_path / "desk.xlsx"
    write_lock(path, dead_pid())
    other = exclusive_lock(path, wait=0)
    entered: list[str] = []
    real_read = lock._read  # noqa: SLF001 - the read whose moment the other waiter takes
    reads = 0

    def read(found: Path) -> lock.Holder | None:
        nonlocal reads
        holder = real_read(found)
        reads += 1
        if reads == 2:  # read again before deleting it: the other waiter runs now
            try:
                other.__enter__()
                entered.append("other")
            except WorkbookLocked:
                pass
        return holder

    monkeypatch.setattr(lock, "_read", read)
    try:
        with exclusive_lock(path, wait=0.3):
            entered.append("this")
    except WorkbookLocked:
        pass
    finally:
        if "other" in entered:
            other.__exit__(None, None, None)
    assert len(entered) == 1, entered


def test_a_clearing_left_by_a_killed_process_is_cleared_once_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.xlsx"
    write_lock(path, dead_pid())
    clearing = tmp_path / "desk.xlsx.lock.clearing"
    clearing.write_bytes(b"")
    os.utime(clearing, (time.time() - 120, time.time() - 120))
    with exclusive_lock(path, wait=1) as held:
        assert json.loads(held.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert sorted(tmp_path.iterdir()) == []
