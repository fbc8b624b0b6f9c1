"""Write files atomically: a temporary file beside the target, then os.replace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from briefing.errors import OutputError


def check_target(path: Path) -> None:
    """Raise OutputError when `path` cannot be written as a file; nothing is written."""
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name, such as {path / 'memo.docx'}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )


def check_output(path: Path, suffix: str, *inputs: Path | None) -> None:
    """Raise OutputError unless `path` is a new or replaceable file of the kind `suffix` names.

    It must not be one of the command's own inputs: writing a memo over the workbook it was
    built from would destroy the analyst's work.
    """
    check_target(path)
    for given in inputs:
        if given is not None and path.exists() and given.exists() and path.samefile(given):
            raise OutputError(
                f"{path}: is the file the command reads ({given}); choose another output name"
            )
    if path.suffix.casefold() != suffix:
        raise OutputError(f"{path}: give a file name ending in {suffix}, such as memo{suffix}")
    check_not_open(path)


def check_not_open(path: Path) -> None:
    """Raise OutputError while an office suite has `path` open: its lock file is beside it."""
    # Excel writes ~$ and the whole name; Word drops the first two characters of a long
    # name; LibreOffice writes .~lock.NAME#.
    for lock in (f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"):
        if (path.parent / lock).exists():
            raise OutputError(
                f"{path}: the file is open in an office program ({lock} is beside it); "
                "close it and try again"
            )


def write_atomically(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that a failure leaves any earlier file exactly as it was."""
    check_target(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as err:
        raise OutputError(f"{path}: cannot write in {path.parent} ({err.strerror})") from err
    try:
        # mkstemp makes the file private (0600); give it the mode a plain write would.
        Path(temporary).chmod(_mode_for(path))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)  # os.replace: atomic on one file system
    except OSError as err:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise OutputError(
            f"{path}: cannot be written ({err.strerror}); nothing was changed"
        ) from err
    return path


def _mode_for(path: Path) -> int:
    """The earlier file's permissions, or what the user's umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
