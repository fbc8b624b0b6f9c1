"""Wait for files to be saved: the one module that touches watchfiles."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Protocol

import watchfiles

# A save is over once its folder has been quiet this long: Excel writes the workbook to a
# temporary file, renames the old one away, renames the new one into place and deletes the
# old, and each step is a change in the folder.
QUIET_MS = 300
# Changes are never held back longer than this, however busy the folder is.
MAX_WAIT_MS = 3000
IDLE_MS = 200  # how long the watch waits for a change before it looks again


class StopSignal(Protocol):
    """What tells a watch to end: a threading.Event, say."""

    def is_set(self) -> bool: ...


def saves(
    folders: Collection[Path],
    is_watched: Callable[[Path], bool],
    stop: StopSignal | None = None,
) -> Iterator[set[Path]]:
    """An empty set as soon as the watch has begun, then the watched files changed each time
    a save in one of `folders` is over.

    The folders are watched, not the files: a save that renames a new file over the old one
    would end a watch on the file itself. `is_watched` is asked about each changed path as
    it is then, so the caller may change what it watches between saves. Saves made while
    the caller holds an item are not lost: they come with the next one. Ends when `stop` is
    set; Ctrl-C raises KeyboardInterrupt.
    """

    def wanted(change: watchfiles.Change, path: str) -> bool:
        return is_watched(Path(path))

    begun = False
    # The watch hands back an empty set each IDLE_MS without a change: the first tells that
    # it is watching, the others are passed over.
    for changes in watchfiles.watch(
        *folders,
        watch_filter=wanted,
        debounce=MAX_WAIT_MS,
        step=QUIET_MS,
        stop_event=stop,
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
        recursive=False,
    ):
        if not begun:
            begun = True
            yield set()
        if changes:
            yield {Path(path) for _, path in changes}
