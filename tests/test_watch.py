"""Waiting for saves: an office program's save seen once it is over, other files passed over."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from briefing.watch import saves
from tests.conftest import WAIT, in_thread, next_save, save_as_excel_does, saving


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    path = tmp_path / "desk.xlsx"
    path.write_bytes(b"first")
    return path


def test_a_save_while_the_caller_is_busy_comes_with_the_next_item(desk: Path) -> None:
    stop = threading.Event()
    watching = saves([desk.parent], {desk}.__contains__, stop)
    assert next(watching) == set()
    desk.write_bytes(b"saved while a memo was being built")
    assert next(watching) == {desk}
    stop.set()
    assert list(watching) == []


def test_an_excel_save_is_seen_once_it_is_over(desk: Path) -> None:
    stop = threading.Event()
    items, thread = in_thread(saves([desk.parent], {desk}.__contains__, stop))
    assert items.get(timeout=WAIT) == set()  # watching
    assert next_save(items, saving(lambda: save_as_excel_does(desk, b"second"))) == {desk}
    assert desk.read_bytes() == b"second"
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_other_files_in_the_folder_are_passed_over(desk: Path) -> None:
    stop = threading.Event()
    items, thread = in_thread(saves([desk.parent], {desk}.__contains__, stop))
    assert items.get(timeout=WAIT) == set()  # watching
    lock = desk.parent / ".~lock.desk.xlsx#"
    memo = desk.parent / "desk.docx"

    def save() -> None:
        lock.write_text("analyst")
        memo.write_bytes(b"memo")
        desk.write_bytes(b"second")

    # Only the workbook is named, however many other files changed alongside it.
    assert next_save(items, saving(save)) == {desk}
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert isinstance(items.get(timeout=WAIT), StopIteration)
